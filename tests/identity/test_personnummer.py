"""Personnummer / samordningsnummer parsing (domain.md section 4, SKV 704/707)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.identity import (
    is_valid_personnummer,
    is_valid_samordningsnummer,
    luhn_check_digit,
    parse_person_number,
)

TEST_PERSONS = ["195009072553", "196101182803", "199002222397", "200001252386", "189602029812", "191212121212"]


@pytest.mark.parametrize("pnr", TEST_PERSONS)
def test_valid_test_persons(pnr: str) -> None:
    assert is_valid_personnummer(pnr)
    parsed = parse_person_number(pnr)
    assert parsed.value == pnr and parsed.kind == "personnummer"


def test_birth_date() -> None:
    assert parse_person_number("195009072553").birth_date == date(1950, 9, 7)


@pytest.mark.parametrize(
    ("given", "today", "expected"),
    [
        ("500907-2553", date(2026, 1, 1), "195009072553"),
        ("5009072553", date(2026, 1, 1), "195009072553"),
        ("000125-2386", date(2026, 1, 1), "200001252386"),
        ("121212+1212", date(2026, 1, 1), "191212121212"),
        ("121212-1212", date(2026, 1, 1), "201212121212"),  # under 100: born 2012
        ("960202+9812", date(2026, 1, 1), "189602029812"),
        ("19500907-2553", date(2026, 1, 1), "195009072553"),
        (" 195009072553 ", date(2026, 1, 1), "195009072553"),
    ],
)
def test_century_rule_and_forms(given: str, today: date, expected: str) -> None:
    assert parse_person_number(given, today).value == expected


def test_plus_sign_means_a_hundred_years_older() -> None:
    minus = parse_person_number("500907-2553", date(2026, 1, 1))
    plus = parse_person_number("500907+2553", date(2026, 1, 1))
    assert plus.birth_date.year == minus.birth_date.year - 100


def test_samordningsnummer() -> None:
    parsed = parse_person_number("196109732393")
    assert parsed.kind == "samordningsnummer"
    assert parsed.birth_date == date(1961, 9, 13)
    assert is_valid_samordningsnummer("196109732393")
    assert not is_valid_personnummer("196109732393")
    assert not is_valid_samordningsnummer("195009072553")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("195009072554", "check digit"),
        ("195013072553", "date"),
        ("195002302553", "date"),
        ("19500907255", "not a Swedish person number"),
        ("1950090725533", "not a Swedish person number"),
        ("19500907x553", "not a Swedish person number"),
        ("500907*2553", "not a Swedish person number"),
        ("", "not a Swedish person number"),
    ],
)
def test_invalid_numbers(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_person_number(bad)
    assert not is_valid_personnummer(bad)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    st.integers(min_value=0, max_value=999),
    st.booleans(),
)
def test_generated_numbers_round_trip(born: date, serial: int, coordination: bool) -> None:
    day = born.day + (60 if coordination else 0)
    body = f"{born:%Y%m}{day:02d}{serial:03d}"
    number = body + str(luhn_check_digit(body[2:]))
    parsed = parse_person_number(number)
    assert parsed.value == number and parsed.birth_date == born
    assert parsed.kind == ("samordningsnummer" if coordination else "personnummer")
    today = date(2026, 11, 25)
    separator = "+" if today.year - born.year >= 100 else "-"  # SKV 704: `+` from the year one turns 100
    assert parse_person_number(f"{number[2:8]}{separator}{number[8:]}", today).value == number
