"""Patient resources and masking (domain.md section 5 rule 2: protected persons lose address/telecom/contact)."""

from __future__ import annotations

import copy

import pytest
from consent_builders import (
    GIVER_A,
    GIVER_B,
    HSA,
    REGISTRY_HSA,
    UNIT_A1,
    UNIT_B1,
    noon,
    opt_out,
    organizations,
    patient,
)

from hub.consent import Requester, compile_policy, decide, mask

NOW = noon(5)
CARE = Requester(GIVER_B, UNIT_B1, None, "TREAT")
REGISTRY = Requester(None, None, None, "HQUALIMP", frozenset({(HSA, REGISTRY_HSA["R1"])}))


@pytest.mark.parametrize("label", ["sekretessmarkering", "skyddadFolkbokforing"])
def test_protected_patient_is_released_masked(label: str) -> None:
    d = decide(compile_policy([]), patient(label), CARE, NOW)
    assert (d.permit, d.mask, d.rule) == (True, True, "patient-demographics")
    assert decide(compile_policy([]), patient(label), REGISTRY, NOW).mask


def test_unlabelled_patient_is_not_masked_unless_the_policy_says_protected() -> None:
    assert not decide(compile_policy([]), patient(), CARE, NOW).mask
    assert decide(compile_policy([], patient_protected=True), patient(), CARE, NOW).mask


def test_patient_withheld_from_an_opted_out_registry_only() -> None:
    policy = compile_policy([opt_out("o1", "R1")], organizations())
    d = decide(policy, patient(), REGISTRY, NOW)
    assert (d.permit, d.rule, d.consent_ids) == (False, "registry-opt-out", ("o1",))
    assert decide(policy, patient(), Requester(GIVER_A, UNIT_A1, None, "TREAT"), NOW).permit


def test_patient_with_confidentiality_v_is_withheld() -> None:
    p = patient()
    p["meta"] = {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V"}]}
    assert not decide(compile_policy([]), p, CARE, NOW).permit


def test_mask_removes_contact_details_and_leaves_the_original() -> None:
    original = patient("sekretessmarkering")
    before = copy.deepcopy(original)
    masked = mask(original)
    assert original == before
    for key in ("address", "telecom", "contact", "text"):
        assert key not in masked
    assert masked["identifier"] == original["identifier"] and masked["name"] == original["name"]
    masked["name"][0]["family"] = "changed"
    assert original["name"][0]["family"] == "Testsson"
