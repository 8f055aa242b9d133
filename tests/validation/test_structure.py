"""Base structure from the R4B models: unknown elements, arrays, cardinality, choice types, required codes,
empty elements (ele-1) and primitive extensions (http://hl7.org/fhir/R4/json.html)."""

from __future__ import annotations

from typing import Any

from hub.validation import Validator

from .conftest import error_paths, errors


def test_valid_allergy_has_no_issues(validator: Validator, allergy: dict[str, Any]) -> None:
    assert validator.validate(allergy) == []


def test_unknown_element(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["reaction"][0]["colour"] = "red"
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.reaction[0].colour"]


def test_unknown_resource_type(validator: Validator) -> None:
    assert errors(validator.validate({"resourceType": "Allergy"}))


def test_missing_resource_type(validator: Validator) -> None:
    assert errors(validator.validate({"id": "x"}))


def test_array_expected_and_not_expected(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["category"] = "medication"
    allergy["criticality"] = ["high"]
    assert sorted(error_paths(validator.validate(allergy))) == [
        "AllergyIntolerance.category", "AllergyIntolerance.criticality"]


def test_empty_array_and_empty_object(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["note"] = []
    allergy["code"] = {}
    paths = error_paths(validator.validate(allergy))
    assert "AllergyIntolerance.note" in paths and "AllergyIntolerance.code" in paths


def test_required_element_missing(validator: Validator, allergy: dict[str, Any]) -> None:
    del allergy["reaction"][0]["manifestation"]
    issues = errors(validator.validate(allergy))
    assert [i.code for i in issues] == ["required"]
    assert issues[0].expression == ("AllergyIntolerance.reaction[0]",)


def test_required_code_list(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["reaction"][0]["severity"] = "deadly"
    issues = errors(validator.validate(allergy))
    assert [(i.code, i.expression) for i in issues] == [("code-invalid", ("AllergyIntolerance.reaction[0].severity",))]


def test_choice_type_only_one(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["onsetString"] = "barndom"
    assert errors(validator.validate(allergy))


def test_choice_type_unknown_suffix(validator: Validator, allergy: dict[str, Any]) -> None:
    del allergy["onsetDateTime"]
    allergy["onsetInteger"] = 5
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.onsetInteger"]


def test_wrong_json_type_for_complex(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["code"] = "373568007"
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.code"]


def test_primitive_extension_ok_and_bad(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["_criticality"] = {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}
    assert not errors(validator.validate(allergy))
    allergy["_criticality"] = {"id": "only-id"}
    del allergy["criticality"]
    assert errors(validator.validate(allergy))


def test_primitive_array_nulls_align_with_extensions(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["category"] = [None, "food"]
    allergy["_category"] = [{"extension": [{"url": "http://example.org/x", "valueBoolean": True}]}, None]
    assert not errors(validator.validate(allergy))
    allergy["_category"] = [None, None]
    assert errors(validator.validate(allergy))


def test_null_value_is_an_error(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["criticality"] = None
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.criticality"]


def test_backbone_inside_datatype(validator: Validator) -> None:
    sd = {"resourceType": "StructureDefinition", "url": "http://example.org/sd", "name": "X", "status": "draft",
          "kind": "resource", "abstract": False, "type": "Patient",
          "differential": {"element": [{"path": "Patient", "type": [{"code": "Patient"}], "bogus": 1}]}}
    assert error_paths(validator.validate(sd)) == ["StructureDefinition.differential.element[0].bogus"]


def test_r4_codes_missing_in_r4b_are_accepted(validator: Validator) -> None:
    q = {"resourceType": "Questionnaire", "status": "draft",
         "item": [{"linkId": "1", "type": "choice", "text": "?"}]}
    assert not errors(validator.validate(q))


def test_base_required_binding_on_codeableconcept(validator: Validator, allergy: dict[str, Any]) -> None:
    """AllergyIntolerance.clinicalStatus is bound (required) in the base spec, profile or not."""
    del allergy["meta"]
    allergy["clinicalStatus"]["coding"][0]["code"] = "gone"
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.clinicalStatus"]


def test_base_required_binding_condition(validator: Validator) -> None:
    cond = {"resourceType": "Condition", "subject": {"reference": "Patient/1"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "remission"}]}}
    assert not errors(validator.validate(cond))
    cond["verificationStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "maybe"}]}
    assert error_paths(validator.validate(cond)) == ["Condition.verificationStatus"]
