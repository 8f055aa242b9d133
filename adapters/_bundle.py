"""Collection Bundles, deterministic resource ids and the information-source extension for adapters.

Bundle.type `collection` (http://hl7.org/fhir/R4/bundle.html); references between entries use
`urn:uuid:` fullUrls. The information source extension is defined in domain.md section 5.
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.identity import HSA_SYSTEM

INFORMATION_SOURCE_URL = "https://knutpunkt.se/fhir/StructureDefinition/information-source"
SE_PATIENT_PROFILE = "https://knutpunkt.se/fhir/StructureDefinition/se-patient"
SE_ALLERGY_PROFILE = "https://knutpunkt.se/fhir/StructureDefinition/se-allergyintolerance"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://knutpunkt.se/fhir/adapters")


def stable_id(resource_type: str, *parts: str) -> str:
    """A uuid5 over the resource type and the source keys: the same source document gives the same id."""
    return str(uuid.uuid5(_NAMESPACE, "|".join((resource_type, *parts))))


def urn(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def collection_bundle(resources: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """A collection Bundle of (fullUrl, resource) pairs, in order."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": full_url, "resource": res} for full_url, res in resources],
    }


def information_source(care_giver: str, care_unit: str, information_type: str) -> dict[str, Any]:
    """The information-source extension (care giver and care unit HSA-ids, PDL information type)."""
    return {
        "url": INFORMATION_SOURCE_URL,
        "extension": [
            {"url": "careGiver", "valueIdentifier": {"system": HSA_SYSTEM, "value": care_giver}},
            {"url": "careUnit", "valueIdentifier": {"system": HSA_SYSTEM, "value": care_unit}},
            {"url": "informationType", "valueCode": information_type},
        ],
    }


def with_profile(resource: dict[str, Any], profile: str) -> dict[str, Any]:
    """A copy of `resource` whose meta.profile includes `profile` (meta placed after resourceType and id)."""
    meta = dict(resource.get("meta") or {})
    profiles = list(meta.get("profile") or [])
    if profile not in profiles:
        profiles.append(profile)
    meta["profile"] = profiles
    head: dict[str, Any] = {k: resource[k] for k in ("resourceType", "id") if k in resource}
    rest = {k: v for k, v in resource.items() if k not in head and k != "meta"}
    return {**head, "meta": meta, **rest}
