"""An R4 AuditEvent for one consent decision (domain.md section 5: every permit or deny is logged).

Shape: http://hl7.org/fhir/R4/auditevent.html. Codes: DICOM DCM for the event type, restful-interaction
for the subtype, v3-ActReason for purposeOfEvent, object-role and audit-entity-type for entities.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hub.consent import Decision, Requester

BASE = "https://knutpunkt.se/fhir"
#: outcomeDesc carries the same rule code; this extension (valueCode) is for machine reading.
CONSENT_RULE_URL = f"{BASE}/StructureDefinition/audit-consent-rule"
#: valueBoolean true on every access under purpose ETREAT (nödåtkomst, Patientdatalagen).
EMERGENCY_ACCESS_URL = f"{BASE}/StructureDefinition/audit-emergency-access"
CLIENT_ID_SYSTEM = f"{BASE}/sid/client-id"
HSA_SYSTEM = "urn:oid:1.2.752.29.4.19"

_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_INTERACTION = "http://hl7.org/fhir/restful-interaction"
_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
_ROLE_TYPE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
_HSA_ID = re.compile(r"^SE\d{10}-[0-9A-Za-z]+$")

#: action → (DICOM event type, default FHIR interaction): a read, a delivery (PUT), a retraction (DELETE).
_ACTIONS: dict[str, tuple[tuple[str, str], str]] = {
    "R": (("110110", "Patient Record"), "read"),
    "E": (("110106", "Export"), "update"),
    "D": (("110106", "Export"), "delete"),
}


def build_audit_event(
    *,
    decision: Decision,
    requester: Requester,
    patient_ref: str,
    entity_ref: str | None,
    action: str,
    source: str,
    now: datetime,
    interaction: str | None = None,
) -> dict[str, Any]:
    """The AuditEvent for one decision: outcome 0 (permit) / 4 (deny) with the rule, the requester as
    agents, the patient, the resource and every deciding Consent as entities. `interaction` overrides the
    restful-interaction subtype (e.g. `search-type`). ETREAT is flagged as emergency access."""
    if action not in _ACTIONS:
        raise ValueError(f"action must be one of {sorted(_ACTIONS)}, got {action!r}")
    (type_code, type_display), default_interaction = _ACTIONS[action]
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    emergency = decision.emergency or requester.purpose == "ETREAT"
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "extension": [{"url": CONSENT_RULE_URL, "valueCode": decision.rule}],
        "type": {"system": _DCM, "code": type_code, "display": type_display},
        "subtype": [{"system": _INTERACTION, "code": interaction or default_interaction}],
        "action": action,
        "recorded": now.isoformat(timespec="milliseconds"),
        "outcome": "0" if decision.permit else "4",
        "outcomeDesc": decision.rule,
        "purposeOfEvent": _purpose(requester),
        "agent": _agents(requester),
        "source": {
            "observer": {"display": source},
            "type": [{"system": _SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
        "entity": _entities(patient_ref, entity_ref, decision.consent_ids),
    }
    if emergency:
        event["extension"].append({"url": EMERGENCY_ACCESS_URL, "valueBoolean": True})
    return event


def _identifier(value: str) -> dict[str, str]:
    system = HSA_SYSTEM if _HSA_ID.match(value) else CLIENT_ID_SYSTEM
    return {"system": system, "value": value}


def _purpose(req: Requester) -> list[dict[str, Any]]:
    return [{"coding": [{"system": _ACT_REASON, "code": req.purpose}]}]


def _agents(req: Requester) -> list[dict[str, Any]]:
    """The person (if known), then the care unit, the care giver and other organisation identifiers."""
    agents: list[dict[str, Any]] = []
    if req.practitioner:
        agents.append({
            "type": {"coding": [{"system": _ROLE_TYPE, "code": "humanuser"}]},
            "who": {"identifier": _identifier(req.practitioner)},
        })
    seen: set[tuple[str, str]] = set()
    for label, hsa in (("care-unit", req.care_unit), ("care-giver", req.care_giver)):
        if hsa:
            seen.add((HSA_SYSTEM, hsa))
            agents.append(_org_agent(label, {"system": HSA_SYSTEM, "value": hsa}))
    for system, value in sorted(req.organization - seen):
        agents.append(_org_agent("organization", {"system": system, "value": value}))
    for i, agent in enumerate(agents):
        agent["requestor"] = i == 0
        agent["purposeOfUse"] = _purpose(req)
    if not agents:
        agents.append({"who": {"display": "unknown requester"}, "requestor": True, "purposeOfUse": _purpose(req)})
    return agents


def _org_agent(label: str, identifier: dict[str, str]) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": _PARTICIPATION, "code": "IRCP"}]},
        "role": [{"text": label}],
        "who": {"type": "Organization", "identifier": identifier},
    }


def _entity(reference: str, entity_type: str, role: str) -> dict[str, Any]:
    return {
        "what": {"reference": reference},
        "type": {"system": _ENTITY_TYPE, "code": entity_type},
        "role": {"system": _OBJECT_ROLE, "code": role},
    }


def _entities(patient_ref: str, entity_ref: str | None, consent_ids: tuple[str, ...]) -> list[dict[str, Any]]:
    out = [_entity(patient_ref, "1", "1")]  # Person / Patient
    if entity_ref and entity_ref != patient_ref:
        out.append(_entity(entity_ref, "2", "4"))  # System Object / Domain Resource
    out.extend(_entity(f"Consent/{cid}", "2", "13") for cid in consent_ids)  # Security Resource
    return out
