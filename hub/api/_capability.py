"""The CapabilityStatement: built from what the hub actually supports (http://hl7.org/fhir/R4/capabilitystatement.html)."""

from __future__ import annotations

from typing import Any

from hub import __version__
from hub.store import search_params

INTERACTIONS = ["read", "vread", "update", "delete", "history-instance", "history-type", "create", "search-type"]
CORE_TYPES = ["AllergyIntolerance", "Patient", "Flag", "Provenance", "Consent", "Subscription", "Organization", "AuditEvent",
              "CodeSystem", "ValueSet", "ConceptMap", "StructureDefinition"]
_PROFILES = {
    "Patient": "https://knutpunkt.se/fhir/StructureDefinition/se-patient",
    "AllergyIntolerance": "https://knutpunkt.se/fhir/StructureDefinition/se-allergyintolerance",
    "Consent": "https://knutpunkt.se/fhir/StructureDefinition/pdl-consent",
}
_TYPE_OPS = {
    "CodeSystem": ["lookup"],
    "ValueSet": ["validate-code", "expand"],
    "ConceptMap": ["translate"],
    "Patient": ["summary"],
    "Consent": ["evaluate"],
}


_OP_DEFS = {
    "summary": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary",
    "evaluate": "https://knutpunkt.se/fhir/OperationDefinition/Consent-evaluate",
}


def capability_statement(base_url: str, date: str) -> dict[str, Any]:
    params = search_params()
    resources = []
    for rtype in CORE_TYPES:
        entry: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": c} for c in INTERACTIONS],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": True,
            "conditionalUpdate": True,
            "searchParam": [{"name": "_id", "type": "token"}, {"name": "_lastUpdated", "type": "date"}]
            + [{"name": p.code, "type": p.type} for p in params.get(rtype, {}).values()],
            "operation": [{"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}]
            + [{"name": op, "definition": _OP_DEFS.get(op, f"http://hl7.org/fhir/OperationDefinition/{rtype}-{op}")} for op in _TYPE_OPS.get(rtype, [])],
        }
        if rtype in _PROFILES:
            entry["supportedProfile"] = [_PROFILES[rtype]]
        if rtype == "AllergyIntolerance":
            entry["searchInclude"] = ["AllergyIntolerance:patient"]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "Knutpunkt", "version": __version__},
        "implementation": {"description": "Knutpunkt FHIR hub", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}],
                    "description": "Bearer JWT signed by the hub (knutpunkt token); SMART v2 system scopes.",
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}],
            }
        ],
    }
