"""Normalise an (system, value) pair to the hub's FHIR Identifier, checking Swedish person numbers.

domain.md section 4; personnummer rules from Skatteverket SKV 704, samordningsnummer SKV 707.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hub.fhir.errors import InvalidInput, Issue
from hub.identity._personnummer import SAMORDNINGSNUMMER, parse_person_number
from hub.identity._systems import (
    HSA_SYSTEM,
    PERSONNUMMER_SYSTEM,
    RESERVNUMMER_SYSTEM,
    SAMORDNINGSNUMMER_SYSTEM,
    normalise_system,
)


def _fail(message: str, expression: str | None) -> InvalidInput:
    expr = (expression,) if expression else ()
    return InvalidInput(message, [Issue("error", "value", message, expr)])


def normalise_identifier(
    system: str | None, value: str | None, *, today: date | None = None, expression: str | None = None
) -> dict[str, Any]:
    """A FHIR Identifier {system, value} with the canonical system and value; InvalidInput when unusable.

    Personnummer/samordningsnummer values become 12 digits (10-digit input uses the `-`/`+` century rule
    relative to `today`) and must carry a correct Luhn check digit; `expression` names the source element.
    """
    if not system or not system.strip():
        raise _fail("identifier has no system", expression)
    if value is None or not value.strip():
        raise _fail("identifier has no value", expression)
    fhir_system = normalise_system(system)
    val = value.strip()
    if fhir_system in (PERSONNUMMER_SYSTEM, SAMORDNINGSNUMMER_SYSTEM):
        try:
            parsed = parse_person_number(val, today)
        except ValueError as exc:
            raise _fail(f"invalid {fhir_system.rsplit('/', 1)[-1]}: {exc}", expression) from None
        expected = SAMORDNINGSNUMMER_SYSTEM if parsed.kind == SAMORDNINGSNUMMER else PERSONNUMMER_SYSTEM
        if expected != fhir_system:
            raise _fail(
                f"'{val}' is a {parsed.kind} but the identifier system says {fhir_system.rsplit('/', 1)[-1]}",
                expression,
            )
        val = parsed.value
    elif fhir_system == RESERVNUMMER_SYSTEM:
        val = val.replace(" ", "")
    elif fhir_system == HSA_SYSTEM and any(c.isspace() for c in val):
        raise _fail(f"HSA-id '{val}' contains white space", expression)
    return {"system": fhir_system, "value": val}


def normalise_fhir_identifier(
    identifier: dict[str, Any], *, today: date | None = None, expression: str | None = None
) -> dict[str, Any]:
    """A copy of a FHIR Identifier dict with system and value normalised; other elements (use, type…) kept."""
    out = dict(identifier)
    if "system" in identifier and "value" in identifier:
        out.update(normalise_identifier(identifier["system"], identifier["value"], today=today, expression=expression))
    return out
