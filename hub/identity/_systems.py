"""Identifier systems for Swedish identifiers and their accepted input aliases (domain.md section 4).

FHIR systems follow HL7 Sweden's base profiles (http://hl7.se/fhir/ig/base); RIV OIDs are the ones used
in RIV-TA messages (`patientId/type`, HSA-id roots).
"""

from __future__ import annotations

import re

PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
SAMORDNINGSNUMMER_SYSTEM = "http://electronichealth.se/identifier/samordningsnummer"
RESERVNUMMER_SYSTEM = "http://electronichealth.se/identifier/nationelltReservnummer"
HSA_SYSTEM = "urn:oid:1.2.752.29.4.19"

_OID = re.compile(r"^[0-2](\.(0|[1-9]\d*))+$")

_ALIASES: dict[str, str] = {
    PERSONNUMMER_SYSTEM: PERSONNUMMER_SYSTEM,
    "https://terminology.hl7.se/sid/se-personnummer": PERSONNUMMER_SYSTEM,
    "1.2.752.129.2.1.3.1": PERSONNUMMER_SYSTEM,
    SAMORDNINGSNUMMER_SYSTEM: SAMORDNINGSNUMMER_SYSTEM,
    "https://terminology.hl7.se/sid/se-samordningsnummer": SAMORDNINGSNUMMER_SYSTEM,
    "1.2.752.129.2.1.3.3": SAMORDNINGSNUMMER_SYSTEM,
    RESERVNUMMER_SYSTEM: RESERVNUMMER_SYSTEM,
    "1.2.752.97.3.1.3": RESERVNUMMER_SYSTEM,
    HSA_SYSTEM: HSA_SYSTEM,
    "1.2.752.29.4.19": HSA_SYSTEM,
    "1.2.752.129.2.1.4.1": HSA_SYSTEM,
}


def normalise_system(system: str) -> str:
    """The hub's FHIR system for an input system: known aliases and RIV OIDs mapped, other OIDs as urn:oid."""
    s = system.strip()
    bare = s[len("urn:oid:"):] if s.lower().startswith("urn:oid:") else s
    if s in _ALIASES:
        return _ALIASES[s]
    if bare in _ALIASES:
        return _ALIASES[bare]
    if _OID.match(bare):
        return f"urn:oid:{bare}"
    return s


def is_person_system(system: str) -> bool:
    """True for the personnummer, samordningsnummer and reservnummer systems (after normalisation)."""
    return normalise_system(system) in (PERSONNUMMER_SYSTEM, SAMORDNINGSNUMMER_SYSTEM, RESERVNUMMER_SYSTEM)
