"""The project's profiles and their example instances (profiles/examples/: *-valid*.json have no errors,
*-invalid-*.json have at least one), plus profile mechanics: slicing, fixed/pattern, bindings, packages."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from hub.paths import profiles_dir
from hub.validation import Validator
from hub.validation._custom import luhn_ok, personnummer_valid, samordningsnummer_valid

from .conftest import error_paths, errors

EXAMPLES = sorted((profiles_dir() / "examples").glob("*.json"))
SD = "https://knutpunkt.se/fhir/StructureDefinition/"
NAMES = ["se-patient", "se-allergyintolerance", "pdl-consent", "information-source", "pdl-block-type",
         "subscription-purpose", "subscription-recipient"]


def test_all_named_profiles_load(validator: Validator) -> None:
    for name in NAMES:
        assert validator.compiled(SD + name) is not None, name


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "-valid" in p.name], ids=lambda p: p.name)
def test_valid_example(validator: Validator, path: Path) -> None:
    issues = validator.validate(json.loads(path.read_text(encoding="utf-8")))
    assert errors(issues) == []


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "-invalid-" in p.name], ids=lambda p: p.name)
def test_invalid_example(validator: Validator, path: Path) -> None:
    issues = validator.validate(json.loads(path.read_text(encoding="utf-8")))
    assert errors(issues), path.name


def test_every_profile_has_valid_and_invalid_examples() -> None:
    names = [p.name for p in EXAMPLES]
    for prefix in ("se-patient", "se-allergyintolerance", "pdl-consent", "subscription-"):
        assert any(n.startswith(prefix) and "-valid" in n for n in names), prefix
        assert any(n.startswith(prefix) and "-invalid-" in n for n in names), prefix


@pytest.mark.parametrize("pnr", ["195009072553", "196101182803", "199002222397", "200001252386", "189602029812", "191212121212"])
def test_test_persons_pass_luhn(pnr: str) -> None:
    assert personnummer_valid({"value": pnr})


def test_luhn_and_dates() -> None:
    assert luhn_ok("5009072553") and not luhn_ok("5009072554")
    assert samordningsnummer_valid({"value": "196109732393"})
    assert not personnummer_valid({"value": "196109732393"})  # day 73 is no personnummer
    assert not personnummer_valid({"value": "19500907255"})


def test_explicit_profile_argument(validator: Validator, allergy: dict[str, Any]) -> None:
    del allergy["meta"]
    del allergy["code"]
    assert not errors(validator.validate(allergy))
    issues = validator.validate(allergy, SD + "se-allergyintolerance")
    assert [i.code for i in errors(issues)] == ["required"]


def test_unknown_explicit_profile_is_an_error(validator: Validator, allergy: dict[str, Any]) -> None:
    assert errors(validator.validate(allergy, "http://example.org/nope"))


def test_unknown_meta_profile_is_a_warning(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["meta"]["profile"].append("http://example.org/StructureDefinition/unknown")
    issues = validator.validate(allergy)
    assert not errors(issues) and [i.severity for i in issues] == ["warning"]


def test_profile_type_mismatch(validator: Validator, allergy: dict[str, Any]) -> None:
    assert errors(validator.validate(allergy, SD + "se-patient"))


def test_closed_slicing_in_complex_extension(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["extension"][0]["extension"].append({"url": "comment", "valueString": "x"})
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.extension[0].extension[3]"]


def test_fixed_value_in_slice(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["extension"][0]["extension"][1]["valueIdentifier"]["system"] = "urn:oid:1.2.3"
    assert error_paths(validator.validate(allergy)) == [
        "AllergyIntolerance.extension[0].extension[1].valueIdentifier.system"]


def test_required_binding_through_terminology(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["clinicalStatus"]["coding"][0]["code"] = "gone"
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.clinicalStatus"]


def test_extensible_binding_is_a_warning(validator: Validator) -> None:
    pat = json.loads((profiles_dir() / "examples" / "se-patient-valid.json").read_text(encoding="utf-8"))
    pat["meta"]["security"] = [{"system": "http://example.org/labels", "code": "secret"}]
    issues = validator.validate(pat)
    assert not errors(issues)
    assert [i.expression for i in issues if i.severity == "warning"] == [("Patient.meta.security[0]",)]


def _package(tmp_path: Path, sds: list[dict[str, Any]]) -> Path:
    path = tmp_path / "pkg.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for sd in sds:
            data = json.dumps(sd).encode()
            info = tarfile.TarInfo(f"package/StructureDefinition-{sd['id']}.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        manifest = json.dumps({"name": "test.pkg", "version": "1.0.0"}).encode()
        info = tarfile.TarInfo("package/package.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    return path


def test_load_package_and_derived_profile(tmp_path: Path, allergy: dict[str, Any]) -> None:
    """A profile from a package, derived from se-allergyintolerance: both differentials apply."""
    derived = {"resourceType": "StructureDefinition", "id": "ai-strict", "url": "http://example.org/ai-strict",
               "name": "AiStrict", "status": "draft", "kind": "resource", "abstract": False, "type": "AllergyIntolerance",
               "baseDefinition": SD + "se-allergyintolerance", "derivation": "constraint",
               "differential": {"element": [
                   {"id": "AllergyIntolerance.onset[x]", "path": "AllergyIntolerance.onset[x]", "min": 1,
                    "type": [{"code": "dateTime"}]},
                   {"id": "AllergyIntolerance.category", "path": "AllergyIntolerance.category", "max": "0"}]}}
    v = Validator()
    v.load_directory(profiles_dir())
    assert v.load_package(_package(tmp_path, [derived])) == 1
    assert errors(v.validate(allergy, "http://example.org/ai-strict"))  # category is present but max 0
    del allergy["category"]
    assert not errors(v.validate(allergy, "http://example.org/ai-strict"))
    del allergy["code"]
    assert [i.code for i in errors(v.validate(allergy, "http://example.org/ai-strict"))] == ["required"]
    allergy["code"] = {"text": "x"}
    allergy["onsetString"] = allergy.pop("onsetDateTime")
    assert error_paths(v.validate(allergy, "http://example.org/ai-strict")) == ["AllergyIntolerance.onsetString"]


def test_pattern_discriminator_slicing(validator: Validator) -> None:
    c = json.loads((profiles_dir() / "examples" / "pdl-consent-valid-block.json").read_text(encoding="utf-8"))
    c["category"] = [{"text": "no coding"}]
    assert any("category:directive" in i.diagnostics for i in errors(validator.validate(c)))


def test_package_valueset_is_used_for_bindings(tmp_path: Path) -> None:
    """A package's ValueSet/CodeSystem reach the terminology service, so its profile bindings are checked."""
    from hub.terminology._local import build_local_service

    cs = {"resourceType": "CodeSystem", "id": "colour", "url": "http://example.org/cs/colour", "status": "active",
          "content": "complete", "concept": [{"code": "red"}, {"code": "blue"}]}
    vs = {"resourceType": "ValueSet", "id": "colour", "url": "http://example.org/vs/colour", "status": "active",
          "compose": {"include": [{"system": "http://example.org/cs/colour"}]}}
    prof = {"resourceType": "StructureDefinition", "id": "flag-colour", "url": "http://example.org/flag-colour",
            "name": "FlagColour", "status": "draft", "kind": "resource", "abstract": False, "type": "Flag",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Flag", "derivation": "constraint",
            "differential": {"element": [{"id": "Flag.code", "path": "Flag.code",
                                          "binding": {"strength": "required", "valueSet": "http://example.org/vs/colour"}}]}}
    v = Validator(terminology=build_local_service())
    v.load_package(_package(tmp_path, [prof, cs, vs]))
    flag = {"resourceType": "Flag", "status": "active", "subject": {"reference": "Patient/1"},
            "code": {"coding": [{"system": "http://example.org/cs/colour", "code": "red"}]}}
    assert not errors(v.validate(flag, "http://example.org/flag-colour"))
    flag["code"]["coding"][0]["code"] = "green"
    assert error_paths(v.validate(flag, "http://example.org/flag-colour")) == ["Flag.code"]
