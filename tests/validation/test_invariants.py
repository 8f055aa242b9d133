"""Base invariants: compiled Python forms and FHIRPath ones (http://hl7.org/fhir/R4/conformance-rules.html)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.validation import Validator
from hub.validation._compiled import COMPILED, date_order
from hub.validation._invariants import FhirPathCheck, _data

from .conftest import error_paths, errors

VER = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def test_ait_1_needs_clinical_status(validator: Validator, allergy: dict[str, Any]) -> None:
    del allergy["clinicalStatus"]
    assert [i.diagnostics[:5] for i in errors(validator.validate(allergy))] == ["ait-1"]
    allergy["verificationStatus"] = {"coding": [{"system": VER, "code": "entered-in-error"}]}
    assert not errors(validator.validate(allergy))


def test_ait_2_entered_in_error_without_clinical_status(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["verificationStatus"] = {"coding": [{"system": VER, "code": "entered-in-error"}]}
    assert [i.diagnostics[:5] for i in errors(validator.validate(allergy))] == ["ait-2"]


def test_ext_1_value_or_children(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["extension"].append({"url": "http://example.org/x"})
    allergy["extension"].append({"url": "http://example.org/y", "valueString": "a",
                                 "extension": [{"url": "z", "valueString": "b"}]})
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.extension[1]", "AllergyIntolerance.extension[2]"]


def test_extension_url_must_be_absolute(validator: Validator, allergy: dict[str, Any]) -> None:
    allergy["extension"].append({"url": "something", "valueString": "a"})
    assert error_paths(validator.validate(allergy)) == ["AllergyIntolerance.extension[1]"]


def test_per_1_period_order(validator: Validator) -> None:
    flag = {"resourceType": "Flag", "status": "active", "code": {"text": "x"}, "subject": {"reference": "Patient/1"},
            "period": {"start": "2024-05-01", "end": "2024-04-01"}}
    assert error_paths(validator.validate(flag)) == ["Flag.period"]
    flag["period"] = {"start": "2024-04-01T10:00:00+01:00", "end": "2024-04-01T10:00:00Z"}
    assert not errors(validator.validate(flag))


def test_date_order_precision() -> None:
    assert date_order("2024", "2024-01-01") is None
    assert date_order("2023", "2024-01-01") is True
    assert date_order("2024-02-01", "2024-01-31") is False


def test_qty_3_code_needs_system(validator: Validator) -> None:
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "vikt"},
           "valueQuantity": {"value": 70, "code": "kg"}}
    assert error_paths(validator.validate(obs)) == ["Observation.valueQuantity"]


def test_fhirpath_invariant_obs_6(validator: Validator) -> None:
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "vikt"},
           "valueString": "70", "dataAbsentReason": {"text": "okänt"}}
    assert [i.diagnostics[:5] for i in errors(validator.validate(obs))] == ["obs-6"]


def test_fhirpath_invariant_on_backbone_bdl_5(validator: Validator) -> None:
    b = {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:9ce2a97b-5cab-4986-814f-4734016e6084"}]}
    assert error_paths(validator.validate(b)) == ["Bundle.entry[0]"]


def test_bundle_document_rules(validator: Validator) -> None:
    b = {"resourceType": "Bundle", "type": "document",
         "entry": [{"fullUrl": "urn:uuid:9ce2a97b-5cab-4986-814f-4734016e6084",
                    "resource": {"resourceType": "Patient", "id": "p"}}]}
    keys = sorted(i.diagnostics.split(":")[0] for i in errors(validator.validate(b)))
    assert keys == ["bdl-10", "bdl-11", "bdl-9"]


def test_compiled_matches_fhirpath() -> None:
    """Each compiled invariant agrees with its FHIRPath expression on sample elements."""
    samples: dict[str, list[dict[str, Any]]] = {
        "ait-1": [{"resourceType": "AllergyIntolerance"}, {"resourceType": "AllergyIntolerance", "clinicalStatus": {"text": "a"}},
                  {"resourceType": "AllergyIntolerance", "verificationStatus": {"coding": [{"system": VER, "code": "entered-in-error"}]}}],
        "ait-2": [{"resourceType": "AllergyIntolerance", "clinicalStatus": {"text": "a"},
                   "verificationStatus": {"coding": [{"system": VER, "code": "entered-in-error"}]}},
                  {"resourceType": "AllergyIntolerance", "clinicalStatus": {"text": "a"}}],
        "qty-3": [{"code": "kg"}, {"code": "kg", "system": "http://unitsofmeasure.org"}, {"value": 1}],
        "att-1": [{"data": "AA=="}, {"data": "AA==", "contentType": "text/plain"}],
        "cpt-2": [{"value": "x"}, {"value": "x", "system": "phone"}],
    }
    exprs = {i["key"]: i["expression"] for i in _data()["invariants"]}
    for key, items in samples.items():
        check = FhirPathCheck(exprs[key])
        for el in items:
            fp = check(el, el, el)
            assert COMPILED[key](el) == (fp is not False), (key, el)


@pytest.mark.parametrize("div,ok", [
    ('<div xmlns="http://www.w3.org/1999/xhtml"><p>Allergi mot <b>latex</b>&nbsp;</p></div>', True),
    ('<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>', False),
    ('<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">a</p></div>', False),
    ('<div xmlns="http://www.w3.org/1999/xhtml">   </div>', False),
    ('<div>no namespace</div>', False),
    ('<div xmlns="http://www.w3.org/1999/xhtml"><p>unclosed</div>', False),
])
def test_narrative(validator: Validator, allergy: dict[str, Any], div: str, ok: bool) -> None:
    allergy["text"] = {"status": "generated", "div": div}
    assert (not errors(validator.validate(allergy))) is ok


def test_attachment_size_matches_data(validator: Validator) -> None:
    doc = {"resourceType": "DocumentReference", "status": "current",
           "content": [{"attachment": {"contentType": "text/plain", "data": "aGVsbG8=", "size": 5}}]}
    assert not errors(validator.validate(doc))
    doc["content"][0]["attachment"]["size"] = 6
    assert error_paths(validator.validate(doc)) == ["DocumentReference.content[0].attachment.size"]
