"""Search query parsing (strict) and in-memory matching (Subscription criteria), http://hl7.org/fhir/R4/search.html."""

from __future__ import annotations

import pytest

from hub.fhir.errors import InvalidInput
from hub.store import matches, normalise_reference, parse_criteria_string, parse_query, patient_of
from hub.store._search_params import extract, index_rows, search_params

AI = {
    "resourceType": "AllergyIntolerance",
    "id": "a1",
    "meta": {"lastUpdated": "2026-03-04T10:11:12.000Z"},
    "identifier": [{"system": "urn:oid:1.2.3", "value": "doc-1"}, {"value": "loose"}],
    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
    "category": ["medication"],
    "criticality": "high",
    "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "J01CA04"}], "text": "amoxicillin"},
    "reaction": [{"substance": {"coding": [{"system": "http://snomed.info/sct", "code": "372687004"}]}}],
    "patient": {"reference": "Patient/p1"},
    "recordedDate": "2024-05-03",
}


def q(criteria: str):
    return parse_criteria_string(criteria)


# --- parsing ------------------------------------------------------------------------------------------

def test_parse_basic():
    query = parse_query("AllergyIntolerance", [("patient", "p1"), ("code", "a,b"), ("_count", "5"), ("_offset", "10")])
    assert query.count == 5 and query.offset == 10
    assert [(c.param, c.type, c.values) for c in query.criteria] == [("patient", "reference", ("p1",)), ("code", "token", ("a", "b"))]


def test_count_is_clamped():
    assert parse_query("Patient", [("_count", "100000")]).count == 1000
    assert parse_query("Patient", [("_count", "-3")]).count == 0
    assert parse_query("Patient", [("_offset", "-3")]).offset == 0


def test_unknown_parameter_names_every_problem():
    with pytest.raises(InvalidInput) as err:
        parse_query("Patient", [("shoe", "1"), ("hat", "2"), ("gender", "male")])
    assert err.value.status == 400
    assert {i.expression[0] for i in err.value.issues} == {"shoe", "hat"}
    assert all(i.code == "not-supported" for i in err.value.issues)


@pytest.mark.parametrize(
    "pairs",
    [[("code:below", "x")], [("_count", "x")], [("code", "")], [("date", "soon")], [("_include", "AllergyIntolerance")],
     [("_include", "Patient:nothing")], [("patient", ",")], [("code:missing", "maybe")]],
)
def test_invalid_queries(pairs):
    with pytest.raises(InvalidInput):
        parse_query("AllergyIntolerance", pairs)


def test_include_parsed_with_optional_target():
    query = parse_query("AllergyIntolerance", [("_include", "AllergyIntolerance:patient"), ("_include", "AllergyIntolerance:patient:Patient")])
    assert query.include == [("AllergyIntolerance", "patient", None), ("AllergyIntolerance", "patient", "Patient")]


def test_result_parameters_are_not_criteria():
    query = parse_query("Patient", [("_sort", "_lastUpdated"), ("_format", "xml"), ("_pretty", "true"), ("_summary", "count")])
    assert query.criteria == [] and query.sort == "_lastUpdated" and query.summary_count


@pytest.mark.parametrize("bad", ["", "allergyintolerance?x=1", "Allergy Intolerance", "?code=1"])
def test_bad_criteria_string(bad):
    with pytest.raises(InvalidInput):
        parse_criteria_string(bad)


# --- extraction -----------------------------------------------------------------------------------------

def test_index_rows_cover_the_parameters():
    rows = set(index_rows(AI))
    assert ("patient", None, "Patient/p1") in rows
    assert ("identifier", "urn:oid:1.2.3", "doc-1") in rows
    assert ("identifier", None, "loose") in rows
    assert ("code", "http://www.whocc.no/atc", "J01CA04") in rows
    assert ("code", "http://snomed.info/sct", "372687004") in rows  # reaction.substance
    assert ("category", None, "medication") in rows
    assert ("clinical-status", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active") in rows
    assert ("date", None, "2024-05-03") in rows


def test_reference_extraction_respects_target_type():
    flag = {"resourceType": "Flag", "subject": {"reference": "Group/g1"}}
    assert extract(search_params()["Flag"]["patient"], flag) == []
    assert extract(search_params()["Flag"]["subject"], flag) == [(None, "Group/g1")]


@pytest.mark.parametrize(
    "ref,norm",
    [("Patient/1", "Patient/1"), ("http://x/fhir/Patient/1", "Patient/1"), ("Patient/1/_history/3", "Patient/1"),
     ("https://h/fhir/Patient/1/_history/2", "Patient/1"), ("urn:uuid:1234", None), ("#contained", None), ("Patient", None), ("", None)],
)
def test_normalise_reference(ref, norm):
    assert normalise_reference(ref) == norm


def test_patient_of():
    assert patient_of(AI) == "p1"
    assert patient_of({"resourceType": "Patient", "id": "p9"}) == "p9"
    assert patient_of({"resourceType": "Organization", "id": "o"}) is None
    assert patient_of({"resourceType": "AllergyIntolerance", "patient": {"reference": "urn:uuid:x"}}) is None


# --- in-memory matching ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "criteria,hit",
    [
        ("AllergyIntolerance", True),
        ("Patient", False),
        ("AllergyIntolerance?category=medication", True),
        ("AllergyIntolerance?category=food", False),
        ("AllergyIntolerance?category=food,medication", True),
        ("AllergyIntolerance?code=http://www.whocc.no/atc|J01CA04", True),
        ("AllergyIntolerance?code=http://snomed.info/sct|J01CA04", False),
        ("AllergyIntolerance?code=372687004", True),
        ("AllergyIntolerance?identifier=|loose", True),
        ("AllergyIntolerance?identifier=|doc-1", False),
        ("AllergyIntolerance?identifier=urn:oid:1.2.3|", True),
        ("AllergyIntolerance?patient=p1", True),
        ("AllergyIntolerance?patient=Patient/p1", True),
        ("AllergyIntolerance?patient=http://hub/fhir/Patient/p1", True),
        ("AllergyIntolerance?patient=p2", False),
        ("AllergyIntolerance?clinical-status=active&category=medication", True),
        ("AllergyIntolerance?clinical-status=active&category=food", False),
        ("AllergyIntolerance?category:not=food", True),
        ("AllergyIntolerance?category:not=medication", False),
        ("AllergyIntolerance?verification-status:missing=true", True),
        ("AllergyIntolerance?criticality:missing=true", False),
        ("AllergyIntolerance?date=2024-05", True),
        ("AllergyIntolerance?date=ge2024-05-03", True),
        ("AllergyIntolerance?date=gt2024-05-03", False),
        ("AllergyIntolerance?date=lt2024", False),
        ("AllergyIntolerance?date=le2024", True),
        ("AllergyIntolerance?_id=a1", True),
        ("AllergyIntolerance?_id=a2", False),
        ("AllergyIntolerance?_lastUpdated=ge2026-03", True),
        ("AllergyIntolerance?_lastUpdated=lt2026-03", False),
    ],
)
def test_matches(criteria, hit):
    assert matches(q(criteria), AI) is hit


def test_string_matching_on_patient_name():
    p = {"resourceType": "Patient", "name": [{"family": "Åberg", "given": ["Eva"]}]}
    assert matches(q("Patient?name=eva"), p)
    assert matches(q("Patient?family=åb"), p)
    assert matches(q("Patient?family:exact=Åberg"), p)
    assert not matches(q("Patient?family:exact=Åb"), p)
    assert matches(q("Patient?name:contains=ber"), p)
