"""Luhn check digit (SKV 704) — properties and known values."""

from hypothesis import given
from hypothesis import strategies as st

from hub.identity import luhn_check_digit, luhn_valid

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)


@given(digits)
def test_appending_the_check_digit_makes_a_valid_number(payload: str) -> None:
    assert luhn_valid(payload + str(luhn_check_digit(payload)))


@given(digits, st.integers(min_value=1, max_value=9))
def test_any_other_last_digit_is_invalid(payload: str, delta: int) -> None:
    wrong = (luhn_check_digit(payload) + delta) % 10
    assert not luhn_valid(payload + str(wrong))


@given(st.text(alphabet="0123456789", min_size=2, max_size=12), st.data())
def test_a_single_digit_change_is_always_detected(number: str, data: st.DataObject) -> None:
    valid = number[:-1] + str(luhn_check_digit(number[:-1]))
    pos = data.draw(st.integers(min_value=0, max_value=len(valid) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != valid[pos]]))
    assert not luhn_valid(valid[:pos] + new + valid[pos + 1:])


def test_known_test_persons() -> None:
    for tenth in ("5009072553", "6101182803", "9002222397", "0001252386", "9602029812", "1212121212"):
        assert luhn_valid(tenth)
    assert luhn_check_digit("500907255") == 3


def test_non_digits_are_invalid() -> None:
    assert not luhn_valid("12345678a0")
    assert not luhn_valid("5")
