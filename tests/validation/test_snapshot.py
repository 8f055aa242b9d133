"""Snapshot generation from the base structure and differentials (http://hl7.org/fhir/R4/profiling.html#snapshot)."""

from __future__ import annotations

from hub.validation import Validator

SD = "https://knutpunkt.se/fhir/StructureDefinition/"


def _by_id(snapshot: dict) -> dict[str, dict]:
    return {e["id"]: e for e in snapshot["snapshot"]["element"]}


def test_base_elements_and_choice(validator: Validator) -> None:
    snap = validator.snapshot(SD + "se-allergyintolerance")
    assert snap is not None
    els = _by_id(snap)
    assert els["AllergyIntolerance.patient"]["min"] == 1
    assert els["AllergyIntolerance.code"]["min"] == 1  # from the differential (base 0)
    assert els["AllergyIntolerance.note"]["max"] == "*"
    assert {t["code"] for t in els["AllergyIntolerance.onset[x]"]["type"]} == {"dateTime", "Age", "Period", "Range", "string"}
    assert els["AllergyIntolerance.reaction.manifestation"]["min"] == 1  # backbone expanded
    assert els["AllergyIntolerance.extension:informationSource"]["sliceName"] == "informationSource"


def test_slices_follow_their_element_with_datatype_children(validator: Validator) -> None:
    snap = validator.snapshot(SD + "se-patient")
    assert snap is not None
    ids = [e["id"] for e in snap["snapshot"]["element"]]
    i = ids.index("Patient.identifier")
    assert ids.index("Patient.identifier:personnummer") > i
    assert ids.index("Patient.identifier:personnummer.system") > ids.index("Patient.identifier:personnummer")
    els = _by_id(snap)
    assert els["Patient.identifier:personnummer.system"]["fixedUri"] == "http://electronichealth.se/identifier/personnummer"
    assert els["Patient.identifier:personnummer.value"]["min"] == 1
    assert any(c["key"] == "se-pnr-2" for c in els["Patient.identifier:personnummer"]["constraint"])


def test_unknown_profile_has_no_snapshot(validator: Validator) -> None:
    assert validator.snapshot("http://example.org/none") is None
