"""The adapters' ConceptMaps are FHIR ConceptMaps the terminology service loads and answers from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.conceptmap import ConceptMap

from hub.terminology import default_service

TERMINOLOGY = Path(__file__).resolve().parents[2] / "terminology"
MAPS = sorted([*TERMINOLOGY.glob("ConceptMap-rivta-*.json"), *TERMINOLOGY.glob("ConceptMap-hl7v2-*.json")])


def test_there_are_maps() -> None:
    assert len(MAPS) >= 7


@pytest.mark.parametrize("path", MAPS, ids=lambda p: p.name)
def test_map_is_valid_and_every_element_translates(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    ConceptMap.model_validate(data)
    assert data["url"] == f"https://knutpunkt.se/fhir/ConceptMap/{data['id']}"
    assert path.name == f"ConceptMap-{data['id']}.json"
    service = default_service()
    for group in data["group"]:
        for element in group["element"]:
            matches = service.translate(group.get("source"), element["code"], conceptmap_url=data["url"])
            assert element["target"][0]["code"] in {m.code for m in matches}, element


@pytest.mark.parametrize(
    ("system", "code", "url", "expected"),
    [
        ("http://snomed.info/sct", "442452003", "rivta-severity-criticality", "high"),
        ("http://snomed.info/sct", "59021000052107", "rivta-severity-criticality", "low"),
        (None, "Besvärande", "rivta-severity-criticality", "low"),
        (None, "Konstaterad", "rivta-certainty-verification", "confirmed"),
        (None, "Misstänkt", "rivta-certainty-verification", "unconfirmed"),
        ("http://terminology.hl7.org/CodeSystem/v2-0128", "SV", "hl7v2-severity-criticality", "high"),
        ("http://terminology.hl7.org/CodeSystem/v2-0127", "DA", "hl7v2-allergen-type-category", "medication"),
    ],
)
def test_domain_mappings(system: str | None, code: str, url: str, expected: str) -> None:
    matches = default_service().translate(system, code, conceptmap_url=f"https://knutpunkt.se/fhir/ConceptMap/{url}")
    assert [m.code for m in matches if m.code][0] == expected


def test_riv_oids_map_to_fhir_systems() -> None:
    service = default_service()
    assert service.oid_to_uri("1.2.752.129.2.2.3.1.1") == "http://www.whocc.no/atc"
    assert service.oid_to_uri("1.2.752.116.2.1.1") == "http://snomed.info/sct"
    assert service.oid_to_uri("1.2.752.116.1.1.1.1.3") == "urn:oid:1.2.752.116.1.1.1.1.3"
