"""References, contained resources and Bundle resolution (http://hl7.org/fhir/R4/references.html)."""

from __future__ import annotations

from typing import Any

from hub.validation import Validator

from .conftest import error_paths, errors

ACTIVE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]}


def test_reference_target_type(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["encounter"] = {"reference": "Patient/1"}
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.encounter"]
    allergy["encounter"] = {"reference": "https://fhir.example.se/Encounter/7/_history/2"}
    assert not errors(validator.validate(allergy))


def test_contained_reference_resolves(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["contained"] = [{"resourceType": "Practitioner", "id": "dr"}]
    allergy["recorder"] = {"reference": "#dr"}
    assert not errors(validator.validate(allergy))
    allergy["recorder"] = {"reference": "#nobody"}
    paths = error_paths(validator.validate(allergy))
    assert "AllergyIntolerance.recorder" in paths  # ref-1
    assert "AllergyIntolerance.contained[0]" in paths  # dom-3: now unreferenced


def test_contained_rules(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["contained"] = [{"resourceType": "Practitioner", "id": "dr", "meta": {"versionId": "1"},
                             "contained": [{"resourceType": "Patient", "id": "p"}]}]
    allergy["recorder"] = {"reference": "#dr"}
    keys = sorted(i.diagnostics.split(":")[0] for i in errors(validator.validate(allergy)))
    assert keys == ["dom-2", "dom-4"]


def test_bundle_reference_resolution(validator: Validator) -> None:
    b = {"resourceType": "Bundle", "type": "document", "timestamp": "2024-01-01T00:00:00Z",
         "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:9ce2a97b-5cab-4986-814f-4734016e6084"},
         "entry": [
             {"fullUrl": "http://ex.se/fhir/Composition/c", "resource": {
                 "resourceType": "Composition", "id": "c", "status": "final", "type": {"text": "x"},
                 "date": "2024-01-01", "title": "t", "author": [{"reference": "Practitioner/dr"}],
                 "subject": {"reference": "urn:uuid:4e5aa5f2-dd58-47b0-83c8-6bea38669e67"}}},
             {"fullUrl": "http://ex.se/fhir/Practitioner/dr", "resource": {"resourceType": "Practitioner", "id": "dr"}},
         ]}
    paths = error_paths(validator.validate(b))
    assert paths == ["Bundle.entry[0].resource.subject"]  # urn:uuid not in the document


def test_bundle_fullurl_must_match_id(validator: Validator) -> None:
    b = {"resourceType": "Bundle", "type": "collection",
         "entry": [{"fullUrl": "http://ex.se/fhir/Patient/a", "resource": {"resourceType": "Patient", "id": "b"}}]}
    assert error_paths(validator.validate(b)) == ["Bundle.entry[0].resource"]


def test_bundle_resolved_target_type(validator: Validator) -> None:
    b = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:9ce2a97b-5cab-4986-814f-4734016e6084", "resource": {
            "resourceType": "AllergyIntolerance", "clinicalStatus": ACTIVE, "patient": {"reference": "urn:uuid:4e5aa5f2-dd58-47b0-83c8-6bea38669e67"}}},
        {"fullUrl": "urn:uuid:4e5aa5f2-dd58-47b0-83c8-6bea38669e67", "resource": {"resourceType": "Practitioner"}}]}
    assert error_paths(validator.validate(b)) == ["Bundle.entry[0].resource.patient"]


def test_parameters_references_resolve_among_parameter_resources(validator: Validator) -> None:
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "patient", "resource": {"resourceType": "Patient", "id": "1"}},
        {"name": "flag", "resource": {"resourceType": "Flag", "status": "active", "code": {"text": "x"},
                                      "subject": {"reference": "Patient/1"}}}]}
    assert not errors(validator.validate(params))
    params["parameter"][1]["resource"]["subject"]["reference"] = "Patient/2"
    assert error_paths(validator.validate(params)) == ["Parameters.parameter[1].resource.subject"]


def test_relative_reference_in_urn_bundle_resolves_by_type_and_id(validator: Validator) -> None:
    b = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:54fc3e09-e279-4b74-a8ff-2649ec968642", "resource": {
            "resourceType": "Patient", "generalPractitioner": [{"reference": "Practitioner/dr-1"}]}},
        {"fullUrl": "urn:uuid:5d9588d8-3cd6-4b32-8fb7-ad13694e069d", "resource": {"resourceType": "Practitioner", "id": "dr-1"}}]}
    assert not errors(validator.validate(b))
    b["entry"][0]["resource"]["generalPractitioner"][0]["reference"] = "Practitioner/5d9588d8-3cd6-4b32-8fb7-ad13694e069d"
    b["entry"][1]["resource"] = {"resourceType": "Organization", "name": "x"}
    assert error_paths(validator.validate(b)) == ["Bundle.entry[0].resource.generalPractitioner[0]"]
