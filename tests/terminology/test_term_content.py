"""The shipped code lists: R4 required bindings and the Swedish/project code systems (facts only)."""

import pytest

from hub.terminology import LocalTerminologyService

R4 = "http://hl7.org/fhir/ValueSet/"

REQUIRED = {
    "allergy-intolerance-type": {"allergy", "intolerance"},
    "allergy-intolerance-category": {"food", "medication", "environment", "biologic"},
    "allergy-intolerance-criticality": {"low", "high", "unable-to-assess"},
    "allergyintolerance-clinical": {"active", "inactive", "resolved"},
    "allergyintolerance-verification": {"unconfirmed", "confirmed", "refuted", "entered-in-error"},
    "reaction-event-severity": {"mild", "moderate", "severe"},
    "administrative-gender": {"male", "female", "other", "unknown"},
    "link-type": {"replaced-by", "replaces", "refer", "seealso"},
    "consent-state-codes": {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"},
    "consent-provision-type": {"deny", "permit"},
    "subscription-status": {"requested", "active", "error", "off"},
    "subscription-channel-type": {"rest-hook", "websocket", "email", "sms", "message"},
    "flag-status": {"active", "inactive", "entered-in-error"},
}


@pytest.mark.parametrize(("name", "codes"), sorted(REQUIRED.items()))
def test_required_binding_code_lists(project: LocalTerminologyService, name: str, codes: set[str]) -> None:
    exp = project.expand(R4 + name)["expansion"]
    assert {c["code"] for c in exp["contains"]} == codes
    assert "parameter" not in exp  # complete, nothing left out


def test_kv_informationstyp(project: LocalTerminologyService) -> None:
    got = {c["code"] for c in project.expand("https://knutpunkt.se/fhir/ValueSet/alert-information-type")["expansion"]["contains"]}
    assert got == {"upp-okh", "upp-uas", "upp-ube", "upp-arb", "upp-vbe", "upp-est"}


def test_pdl_directive_codes(project: LocalTerminologyService) -> None:
    got = {c["code"] for c in project.expand("https://knutpunkt.se/fhir/ValueSet/pdl-directive")["expansion"]["contains"]}
    assert got == {"block", "consent", "registry-opt-out"}


def test_allergy_severity_displays(project: LocalTerminologyService) -> None:
    exp = project.expand("https://knutpunkt.se/fhir/ValueSet/allergy-severity")["expansion"]["contains"]
    assert {(c["code"], c["display"]) for c in exp} == {
        ("442452003", "Livshotande"), ("59021000052107", "Skadlig"), ("59031000052109", "Besvärande")}


def test_purpose_of_use_hierarchy(project: LocalTerminologyService) -> None:
    assert project.subsumes("http://terminology.hl7.org/CodeSystem/v3-ActReason", "TREAT", "ETREAT") is True
