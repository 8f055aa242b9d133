"""References, contained resources and Bundle resolution (http://hl7.org/fhir/R4/references.html)."""

from __future__ import annotations

from typing import Any

from hub.validation import Validator
from tests.validation.conftest import error_paths, errors


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
            "resourceType": "AllergyIntolerance", "clinicalStatus": {"text": "aktiv"}, "patient": {"reference": "urn:uuid:4e5aa5f2-dd58-47b0-83c8-6bea38669e67"}}},
        {"fullUrl": "urn:uuid:4e5aa5f2-dd58-47b0-83c8-6bea38669e67", "resource": {"resourceType": "Practitioner"}}]}
    assert error_paths(validator.validate(b)) == ["Bundle.entry[0].resource.patient"]
