"""URLs, code systems and stable rule codes of the PDL consent model (domain.md section 5, contract.md)."""

from __future__ import annotations

from typing import Final

BASE: Final = "https://knutpunkt.se/fhir"
INFORMATION_SOURCE_URL: Final = f"{BASE}/StructureDefinition/information-source"
BLOCK_TYPE_URL: Final = f"{BASE}/StructureDefinition/pdl-block-type"
PDL_CONSENT_PROFILE: Final = f"{BASE}/StructureDefinition/pdl-consent"
DIRECTIVE_SYSTEM: Final = f"{BASE}/CodeSystem/pdl-directive"
INFORMATION_TYPE_SYSTEM: Final = f"{BASE}/CodeSystem/pdl-information-type"

HSA_SYSTEM: Final = "urn:oid:1.2.752.29.4.19"
#: RIV-TA messages name HSA-ids with this OID; both spellings are the same identifier space.
HSA_SYSTEM_RIV: Final = "urn:oid:1.2.752.129.2.1.4.1"
HSA_SYSTEMS: Final = frozenset({HSA_SYSTEM, HSA_SYSTEM_RIV})
ORG_NUMBER_SYSTEM: Final = "urn:oid:2.5.4.97"

CONSENT_SCOPE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/consentscope"
PARTICIPATION_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ACT_REASON_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
CONFIDENTIALITY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

#: Patient.meta.security codes of HL7 Sweden's base profiles marking a protected person (any system).
PROTECTED_PERSON_CODES: Final = frozenset({"sekretessmarkering", "skyddadFolkbokforing"})

TREAT: Final = "TREAT"
ETREAT: Final = "ETREAT"
HQUALIMP: Final = "HQUALIMP"
#: Purposes of use the engine can decide; anything else is denied (fail closed).
PURPOSES: Final = frozenset({TREAT, ETREAT, HQUALIMP})

#: R4 Consent.status codes (required binding); only `active` counts, an unknown code is unreadable.
CONSENT_STATUSES: Final = frozenset({"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"})


class Rule:
    """Stable codes for `Decision.rule` (written to AuditEvent.outcomeDesc)."""

    ERROR: Final = "error"
    UNREADABLE: Final = "unreadable-directives"
    UNSUPPORTED_PURPOSE: Final = "unsupported-purpose"
    UNKNOWN_REQUESTER: Final = "unknown-requester"
    NO_INFORMATION_SOURCE: Final = "no-information-source"
    CONFIDENTIAL: Final = "confidential"
    REGISTRY_OPT_OUT: Final = "registry-opt-out"
    REGISTRY_PERMIT: Final = "registry-permit"
    SAME_UNIT: Final = "same-unit"
    BLOCKED: Final = "blocked"
    BLOCK_REVOKED: Final = "block-revoked"
    EMERGENCY: Final = "emergency"
    CONSENT: Final = "consent"
    NO_CONSENT: Final = "no-consent"
    SAME_CARE_GIVER: Final = "same-care-giver"
    PATIENT: Final = "patient-demographics"
