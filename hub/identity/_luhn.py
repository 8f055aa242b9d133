"""The Luhn (mod 10) check digit used by Swedish personnummer and samordningsnummer.

Skatteverket, SKV 704 "Personnummer": the tenth digit is computed over YYMMDDNNN with weights 2,1,2,1,...
"""

from __future__ import annotations


def luhn_check_digit(digits: str) -> int:
    """The check digit that makes `digits` + digit Luhn-valid (weights 2,1,2,… from the left of 9 digits)."""
    if not digits.isdigit():
        raise ValueError("Luhn input must be decimal digits")
    total = 0
    # Weight 2 goes to the rightmost digit of the payload, then alternates leftwards.
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    """True when the last digit of `number` is the Luhn check digit of the rest."""
    if len(number) < 2 or not number.isdigit():
        return False
    return luhn_check_digit(number[:-1]) == int(number[-1])
