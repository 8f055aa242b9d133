"""Swedish personnummer and samordningsnummer: parsing, century rule and check digit.

Sources: Skatteverket SKV 704 (personnummer; `-`/`+` separator, Luhn over YYMMDDNNN) and SKV 707
(samordningsnummer: day of birth + 60). Canonical form in the hub is 12 digits `YYYYMMDDNNNC`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from hub.identity._luhn import luhn_valid

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"

_TWELVE = re.compile(r"^(\d{8})-?(\d{4})$")
_TEN = re.compile(r"^(\d{6})([-+]?)(\d{4})$")


@dataclass(frozen=True)
class PersonNumber:
    """A parsed Swedish person number in canonical 12-digit form."""

    value: str  # YYYYMMDDNNNC
    kind: str  # personnummer | samordningsnummer
    birth_date: date


def _century_year(yy: int, separator: str, today: date) -> int:
    """SKV 704: `-` means under 100 years old on `today`, `+` means 100 or older."""
    year = today.year - ((today.year - yy) % 100)
    return year - 100 if separator == "+" else year


def parse_person_number(value: str, today: date | None = None) -> PersonNumber:
    """Parse a personnummer or samordningsnummer (12- or 10-digit form); ValueError says what is wrong."""
    raw = value.strip().replace(" ", "")
    m12 = _TWELVE.match(raw)
    if m12:
        digits = m12.group(1) + m12.group(2)
    else:
        m10 = _TEN.match(raw)
        if not m10:
            raise ValueError(
                f"'{value}' is not a Swedish person number (expected YYYYMMDDNNNC, YYMMDD-NNNC or YYMMDD+NNNC)"
            )
        year = _century_year(int(raw[:2]), m10.group(2) or "-", today or date.today())
        digits = f"{year:04d}{m10.group(1)[2:]}{m10.group(3)}"
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    kind = PERSONNUMMER
    if day > 60:
        kind, day = SAMORDNINGSNUMMER, day - 60
    try:
        born = date(year, month, day)
    except ValueError:
        raise ValueError(f"'{value}' does not contain a valid date of birth") from None
    if not luhn_valid(digits[2:]):
        raise ValueError(f"'{value}' has a wrong check digit (Luhn over YYMMDDNNN)")
    return PersonNumber(digits, kind, born)


def _is_kind(value: str, kind: str, today: date | None) -> bool:
    try:
        return parse_person_number(value, today).kind == kind
    except ValueError:
        return False


def is_valid_personnummer(value: str, today: date | None = None) -> bool:
    """True for a well-formed personnummer with a correct check digit (not a samordningsnummer)."""
    return _is_kind(value, PERSONNUMMER, today)


def is_valid_samordningsnummer(value: str, today: date | None = None) -> bool:
    """True for a well-formed samordningsnummer (day + 60) with a correct check digit."""
    return _is_kind(value, SAMORDNINGSNUMMER, today)
