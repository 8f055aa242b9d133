"""Python checks that profiles reference from a constraint (extension `custom-check`), for rules FHIRPath
cannot say well. Swedish identifiers: Skatteverket SKV 704 (personnummer), SKV 707 (samordningsnummer).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

_TWELVE = re.compile(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})(\d)")


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check over a digit string whose last digit is the check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _swedish_number(value: Any, day_offset: int) -> bool:
    if not isinstance(value, str):
        return False
    m = _TWELVE.fullmatch(value)
    if not m:
        return False
    cent, yy, mm, dd, _, _ = m.groups()
    try:
        date(int(cent + yy), int(mm), int(dd) - day_offset)
    except ValueError:
        return False
    return luhn_ok(value[2:])


def personnummer_valid(identifier: Any) -> bool:
    """Identifier.value is a 12-digit personnummer YYYYMMDDNNNC with a real date and a Luhn check digit."""
    return _swedish_number(identifier.get("value") if isinstance(identifier, dict) else identifier, 0)


def samordningsnummer_valid(identifier: Any) -> bool:
    """Identifier.value is a 12-digit samordningsnummer (day + 60) with a Luhn check digit."""
    return _swedish_number(identifier.get("value") if isinstance(identifier, dict) else identifier, 60)


CUSTOM_CHECKS: dict[str, Callable[[Any], bool]] = {
    "personnummer": personnummer_valid,
    "samordningsnummer": samordningsnummer_valid,
}
