"""Adapter `fhir`: JSON/XML in, normalised collection Bundle out (domain.md section 3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from adapters import get_adapter
from hub.fhir.errors import InvalidInput

Loader = Callable[[str], bytes]
Pick = Callable[[dict[str, Any], str], list[dict[str, Any]]]
PNR = "http://electronichealth.se/identifier/personnummer"


def _convert(payload: bytes) -> dict[str, Any]:
    return get_adapter("fhir").convert(payload)


def test_json_bundle_is_normalised(example_bytes: Loader, of_type: Pick) -> None:
    bundle = _convert(example_bytes("fhir/bundle-patient-allergy-hl7se.json"))
    assert bundle["type"] == "collection"
    assert [e["fullUrl"] for e in bundle["entry"]] == [
        "urn:uuid:3f0a8c52-9d7e-4c1b-8a0e-5b6f2d1c7e90", "urn:uuid:8d4b1e27-0c6a-4f3e-b5d2-7a9c1e0f4b63"]
    (patient,) = of_type(bundle, "Patient")
    assert patient["identifier"] == [{"system": PNR, "value": "196101182803"}]
    assert patient["meta"]["profile"] == ["https://knutpunkt.se/fhir/StructureDefinition/se-patient"]
    (ai,) = of_type(bundle, "AllergyIntolerance")
    assert ai["meta"]["profile"] == ["https://knutpunkt.se/fhir/StructureDefinition/se-allergyintolerance"]
    assert ai["code"]["coding"][0]["system"] == "http://www.whocc.no/atc"  # from urn:oid:1.2.752.129.2.2.3.1.1
    assert ai["recorder"]["identifier"]["system"] == "urn:oid:1.2.752.29.4.19"  # RIV HSA OID normalised
    assert ai["extension"][0]["url"] == "https://knutpunkt.se/fhir/StructureDefinition/information-source"


def test_xml_bundle(example_bytes: Loader, of_type: Pick) -> None:
    bundle = _convert(example_bytes("fhir/bundle-chlorhexidine.xml"))
    (patient,) = of_type(bundle, "Patient")
    assert patient["identifier"] == [{"system": PNR, "value": "199002222397"}]
    (ai,) = of_type(bundle, "AllergyIntolerance")
    assert ai["code"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "373568007", "display": "chlorhexidine"}
    assert ai["patient"] == {"reference": "urn:uuid:5e7d2a10-3b4c-4d8e-9f01-23456789abcd"}


def test_single_resource_is_wrapped_and_existing_profiles_kept() -> None:
    res = {"resourceType": "Patient", "id": "p1", "meta": {"profile": ["http://hl7.se/fhir/ig/base/StructureDefinition/SEBasePatient"]},
           "identifier": [{"system": PNR, "value": "195009072553"}]}
    (entry,) = _convert(orjson.dumps(res))["entry"]
    assert entry["fullUrl"].startswith("urn:uuid:")
    assert entry["resource"]["meta"]["profile"] == [
        "http://hl7.se/fhir/ig/base/StructureDefinition/SEBasePatient",
        "https://knutpunkt.se/fhir/StructureDefinition/se-patient"]
    assert list(entry["resource"])[:3] == ["resourceType", "id", "meta"]


def test_other_resources_get_no_profile() -> None:
    (entry,) = _convert(b'{"resourceType": "Flag", "status": "active"}')["entry"]
    assert "meta" not in entry["resource"]


def test_bad_personnummer_anywhere_is_reported_with_its_path() -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "identifier": [{"system": PNR, "value": "195009072553"},
                                                                {"system": PNR, "value": "195009072554"}]}},
        {"resource": {"resourceType": "AllergyIntolerance",
                      "patient": {"identifier": {"system": PNR, "value": "19500907255X"}}}},
    ]}
    with pytest.raises(InvalidInput) as exc:
        _convert(orjson.dumps(bundle))
    assert [i.expression for i in exc.value.issues] == [
        ("Bundle.entry[0].resource.identifier[1]",), ("Bundle.entry[1].resource.patient.identifier",)]


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (b'{"resourceType": "Patient",', "malformed JSON"),
        (b"[1, 2]", "resourceType"),
        (b"hello", "neither"),
        (b'<Patient xmlns="http://example.org"/>', "FHIR namespace"),
        (b'<Nonsense xmlns="http://hl7.org/fhir"/>', "unknown FHIR resource type"),
        (b'<Patient xmlns="http://hl7.org/fhir"><foo value="1"/></Patient>', "invalid FHIR XML"),
        (b'<Patient xmlns="http://hl7.org/fhir"><birthDate value="yesterday"/></Patient>', "invalid FHIR XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"/>', "DOCTYPE"),
    ],
)
def test_bad_input(payload: bytes, needle: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        _convert(payload)
    assert needle in exc.value.message or any(needle in i.diagnostics for i in exc.value.issues)


def test_malformed_json_has_line_and_column() -> None:
    with pytest.raises(InvalidInput) as exc:
        _convert(b'{\n  "resourceType": "Patient",\n  "id": }')
    (issue,) = exc.value.issues
    assert issue.line == 3 and issue.column


def test_bundle_entry_without_resource() -> None:
    with pytest.raises(InvalidInput) as exc:
        _convert(b'{"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"method": "DELETE", "url": "Patient/1"}}]}')
    assert exc.value.issues[0].expression == ("Bundle.entry[0].resource",)


def test_stable_ids_for_id_less_resources(example_bytes: Loader, of_type: Pick) -> None:
    runs = [_convert(example_bytes("fhir/bundle-patient-allergy-hl7se.json")) for _ in range(2)]
    ai_ids = [of_type(b, "AllergyIntolerance")[0]["id"] for b in runs]
    assert ai_ids[0] == ai_ids[1] == "8d4b1e27-0c6a-4f3e-b5d2-7a9c1e0f4b63"  # from the urn:uuid fullUrl
    assert all("id" not in of_type(b, "Patient")[0] for b in runs)
    flag = {"resourceType": "Flag", "identifier": [{"system": "http://example.org/flags", "value": "7"}], "status": "active"}
    ids = {_convert(orjson.dumps(flag))["entry"][0]["resource"]["id"] for _ in range(2)}
    assert len(ids) == 1
    kept = {"resourceType": "Flag", "id": "mine", "status": "active"}
    assert _convert(orjson.dumps(kept))["entry"][0]["resource"]["id"] == "mine"


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Patient", "meta": [1]},
        {"resourceType": "Patient", "meta": {"profile": "x"}},
        {"resourceType": "Flag", "id": 7},
        {"resourceType": "Bundle", "entry": 5},
        {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": 5}}]},
        {"resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.752.129.2.1.3.1", "value": 195009072553}],
         "code": [{"resourceType": 5}], "contained": [1]},
    ],
)
def test_structural_garbage_is_invalid_input_not_a_crash(resource: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        _convert(orjson.dumps(resource))
