"""Swedish identifiers: personnummer, samordningsnummer, reservnummer, HSA-id (domain.md section 4).

`normalise_identifier` maps an input (system, value) to the hub's FHIR Identifier, raising InvalidInput.
"""

from hub.identity._linking import preferred_identifier
from hub.identity._luhn import luhn_check_digit, luhn_valid
from hub.identity._normalise import normalise_fhir_identifier, normalise_identifier
from hub.identity._personnummer import (
    PersonNumber,
    is_valid_personnummer,
    is_valid_samordningsnummer,
    parse_person_number,
)
from hub.identity._systems import (
    HSA_SYSTEM,
    PERSONNUMMER_SYSTEM,
    RESERVNUMMER_SYSTEM,
    SAMORDNINGSNUMMER_SYSTEM,
    is_person_system,
    normalise_system,
)

__all__ = [
    "HSA_SYSTEM",
    "PERSONNUMMER_SYSTEM",
    "PersonNumber",
    "RESERVNUMMER_SYSTEM",
    "SAMORDNINGSNUMMER_SYSTEM",
    "is_person_system",
    "is_valid_personnummer",
    "is_valid_samordningsnummer",
    "luhn_check_digit",
    "luhn_valid",
    "normalise_fhir_identifier",
    "normalise_identifier",
    "normalise_system",
    "parse_person_number",
    "preferred_identifier",
]
