"""ValueSet $validate-code (http://hl7.org/fhir/R4/valueset-operation-validate-code.html)."""

import pytest
from term_helpers import ANIMALS, DYR, EX

from hub.fhir.errors import InvalidInput, NotFound
from hub.terminology import LocalTerminologyService


def test_member_and_non_member(mini: LocalTerminologyService) -> None:
    ok = mini.validate_code(EX + "mammals", ANIMALS, "dog")
    assert ok.result and ok.display == "Dog"
    bad = mini.validate_code(EX + "mammals", ANIMALS, "penguin")
    assert not bad.result and "not in value set" in (bad.message or "")


def test_wrong_system_is_invalid(mini: LocalTerminologyService) -> None:
    assert not mini.validate_code(EX + "mammals", DYR, "dog").result


def test_display_checked_against_display_and_designations(mini: LocalTerminologyService) -> None:
    assert mini.validate_code(EX + "mammals", ANIMALS, "dog", "dog").result
    assert mini.validate_code(EX + "mammals", ANIMALS, "dog", "Hund").result
    wrong = mini.validate_code(EX + "mammals", ANIMALS, "dog", "Cat")
    assert not wrong.result and "display" in (wrong.message or "")


def test_without_system_finds_the_single_system(mini: LocalTerminologyService) -> None:
    assert mini.validate_code(EX + "nested", None, "hund").result
    assert not mini.validate_code(EX + "nested", None, "katt").result


def test_unknown_value_set_raises_not_found(mini: LocalTerminologyService) -> None:
    with pytest.raises(NotFound):
        mini.validate_code(EX + "nope", ANIMALS, "dog")


def test_self_including_and_dangling_value_sets_are_invalid(mini: LocalTerminologyService) -> None:
    with pytest.raises(InvalidInput):
        mini.validate_code(EX + "cycle", ANIMALS, "dog")
    with pytest.raises(InvalidInput):
        mini.validate_code(EX + "dangling", ANIMALS, "dog")


def test_system_not_loaded_is_accepted_with_a_message(mini: LocalTerminologyService) -> None:
    r = mini.validate_code(EX + "open", "http://example.org/cs/not-loaded", "x")
    assert r.result and "not verified" in (r.message or "")
    assert not mini.validate_code(EX + "open", ANIMALS, "dog").result


def test_register_invalidates_compiled_value_sets(mini: LocalTerminologyService) -> None:
    assert not mini.validate_code(EX + "mammals", ANIMALS, "whale").result
    cs = mini.codesystem(ANIMALS)
    assert cs is not None
    mini.register({"resourceType": "CodeSystem", "url": ANIMALS, "version": "2", "content": "fragment",
                   "concept": [{"code": "whale", "property": [{"code": "parent", "valueCode": "mammal"}]}]})
    assert mini.validate_code(EX + "mammals", ANIMALS, "whale").result


def test_unregister_value_set(mini: LocalTerminologyService) -> None:
    assert mini.unregister("ValueSet", EX + "mammals")
    assert not mini.has_valueset(EX + "mammals")
    with pytest.raises(NotFound):
        mini.validate_code(EX + "mammals", ANIMALS, "dog")
    assert not mini.unregister("ValueSet", EX + "mammals")


@pytest.mark.parametrize(
    ("vs", "system", "code", "expected"),
    [
        ("http://hl7.org/fhir/ValueSet/allergy-intolerance-criticality", "http://hl7.org/fhir/allergy-intolerance-criticality", "high", True),
        ("http://hl7.org/fhir/ValueSet/allergy-intolerance-criticality", "http://hl7.org/fhir/allergy-intolerance-criticality", "severe", False),
        ("http://hl7.org/fhir/ValueSet/allergyintolerance-clinical", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "resolved", True),
        ("http://hl7.org/fhir/ValueSet/allergyintolerance-verification", "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "entered-in-error", True),
        ("http://hl7.org/fhir/ValueSet/administrative-gender", "http://hl7.org/fhir/administrative-gender", "female", True),
        ("http://hl7.org/fhir/ValueSet/administrative-gender", "http://hl7.org/fhir/administrative-gender", "F", False),
        ("http://hl7.org/fhir/ValueSet/consent-state-codes", "http://hl7.org/fhir/consent-state-codes", "active", True),
        ("http://hl7.org/fhir/ValueSet/subscription-status", "http://hl7.org/fhir/subscription-status", "off", True),
        ("http://hl7.org/fhir/ValueSet/subscription-channel-type", "http://hl7.org/fhir/subscription-channel-type", "rest-hook", True),
        ("http://hl7.org/fhir/ValueSet/flag-status", "http://hl7.org/fhir/flag-status", "entered-in-error", True),
        ("http://hl7.org/fhir/ValueSet/reaction-event-severity", "http://hl7.org/fhir/reaction-event-severity", "severe", True),
        ("https://knutpunkt.se/fhir/ValueSet/pdl-directive", "https://knutpunkt.se/fhir/CodeSystem/pdl-directive", "registry-opt-out", True),
        ("https://knutpunkt.se/fhir/ValueSet/pdl-information-type", "https://knutpunkt.se/fhir/CodeSystem/pdl-information-type", "lak", True),
        ("https://knutpunkt.se/fhir/ValueSet/purpose-of-use", "http://terminology.hl7.org/CodeSystem/v3-ActReason", "ETREAT", True),
        ("https://knutpunkt.se/fhir/ValueSet/pdl-actor-role", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP", True),
        ("https://knutpunkt.se/fhir/ValueSet/alert-information-type", "urn:oid:1.2.752.129.2.2.2.1", "upp-okh", True),
        ("https://knutpunkt.se/fhir/ValueSet/allergy-severity", "http://snomed.info/sct", "442452003", True),
        ("https://knutpunkt.se/fhir/ValueSet/allergy-code", "http://snomed.info/sct", "373568007", True),
        ("https://knutpunkt.se/fhir/ValueSet/allergy-code", "http://snomed.info/sct", "39579001", False),
        ("https://knutpunkt.se/fhir/ValueSet/allergy-code", "http://www.whocc.no/atc", "J01CA04", True),
        ("https://knutpunkt.se/fhir/ValueSet/allergy-reaction", "http://snomed.info/sct", "126485001", True),
        ("https://knutpunkt.se/fhir/ValueSet/allergy-reaction", "http://snomed.info/sct", "91936005", False),
    ],
)
def test_project_value_sets(project: LocalTerminologyService, vs: str, system: str, code: str, expected: bool) -> None:
    assert project.validate_code(vs, system, code).result is expected


def test_oid_system_is_normalised(project: LocalTerminologyService) -> None:
    vs = "https://knutpunkt.se/fhir/ValueSet/allergy-severity"
    assert project.validate_code(vs, "urn:oid:1.2.752.116.2.1.1", "442452003").result
    assert project.lookup("urn:oid:1.2.752.129.2.2.3.1.1", "J01CA04") is not None
