"""StructureDefinition instances: element paths exist in the base, choice elements keep [x], no default
values in profiles (http://hl7.org/fhir/R4/profiling.html)."""

from __future__ import annotations

from typing import Any

from hub.validation import Validator

from .conftest import error_paths


def _sd(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "url": "http://example.org/sd/x", "name": "X", "status": "draft",
            "kind": "resource", "abstract": False, "type": "Observation", "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
            "differential": {"element": elements}}


def test_good_paths(validator: Validator) -> None:
    sd = _sd([{"id": "Observation.value[x]", "path": "Observation.value[x]", "min": 1},
              {"id": "Observation.code.coding", "path": "Observation.code.coding", "min": 1}])
    assert error_paths(validator.validate(sd)) == []


def test_renamed_choice_and_unknown_path(validator: Validator) -> None:
    sd = _sd([{"id": "Observation.valueQuantity", "path": "Observation.valueQuantity"},
              {"id": "Observation.colour", "path": "Observation.colour"}])
    assert error_paths(validator.validate(sd)) == ["StructureDefinition.differential.element[0]",
                                                   "StructureDefinition.differential.element[1]"]


def test_default_value_not_allowed_in_profile(validator: Validator) -> None:
    sd = _sd([{"id": "Observation.status", "path": "Observation.status", "defaultValueCode": "final"}])
    assert error_paths(validator.validate(sd)) == ["StructureDefinition.differential.element[0]"]


def test_project_profiles_are_themselves_valid(validator: Validator) -> None:
    import json

    from hub.paths import profiles_dir

    for f in sorted(profiles_dir().glob("StructureDefinition-*.json")):
        sd = json.loads(f.read_text(encoding="utf-8"))
        assert error_paths(validator.validate(sd)) == [], f.name


def test_element_definition_invariants(validator: Validator) -> None:
    sd = _sd([{"id": "Observation.effective[x]", "path": "Observation.effective[x]", "min": 2, "max": "1"},
              {"id": "Observation.issued", "path": "Observation.issued", "type": [{"code": "instant"}],
               "binding": {"strength": "required", "valueSet": "http://example.org/vs"}},
              {"id": "Observation.status", "path": "Observation.status", "fixedCode": "final", "patternCode": "final"},
              {"id": "Observation..x", "path": "Observation..x"}])
    keys = sorted(i.diagnostics.split(":")[0] for i in validator.validate(sd) if i.severity == "error")
    assert keys == ["eld-11", "eld-19", "eld-2", "eld-8"]
