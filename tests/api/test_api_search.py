"""search (http://hl7.org/fhir/R4/search.html): parameters, strict handling, paging, _include."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from api_checks import assert_outcome, entries, ids

SCT = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
LOCAL = "urn:oid:1.2.752.129.2.2.2.1"


@pytest.fixture
def seeded(api, patient_body, allergy_body):
    """Two patients; three allergies with distinct codes, categories, statuses and identifiers."""
    p1 = api.post("/fhir/Patient", json=patient_body("195009072553")).json()["id"]
    p2 = api.post("/fhir/Patient", json=patient_body("196101182803")).json()["id"]

    def ai(pid, **kw):
        r = api.post("/fhir/AllergyIntolerance", json=allergy_body(f"Patient/{pid}", **kw))
        assert r.status_code == 201, r.text
        return r.json()["id"]

    a = ai(p1, code=(ATC, "J01CA04"), identifier=(LOCAL, "doc-1"))
    b = ai(p1, code=(SCT, "111088007"), category="environment", clinical_status="inactive", identifier=(None, "doc-2"))
    c = ai(p2, code=(SCT, "373568007"), category="medication", identifier=("urn:oid:9.9", "doc-1"))
    return {"p1": p1, "p2": p2, "a": a, "b": b, "c": c}


def _search(api, rtype="AllergyIntolerance", **params):
    r = api.get(f"/fhir/{rtype}", params=params)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["resourceType"] == "Bundle" and b["type"] == "searchset"
    return b


def test_search_all(api, seeded):
    assert ids(_search(api)) == {seeded["a"], seeded["b"], seeded["c"]}


def test_search_by_id(api, seeded):
    assert ids(_search(api, _id=seeded["a"])) == {seeded["a"]}
    assert ids(_search(api, _id=f"{seeded['a']},{seeded['c']}")) == {seeded["a"], seeded["c"]}
    assert ids(_search(api, _id="nope")) == set()


@pytest.mark.parametrize("form", ["{pid}", "Patient/{pid}"])
def test_search_by_patient(api, seeded, form):
    assert ids(_search(api, patient=form.format(pid=seeded["p1"]))) == {seeded["a"], seeded["b"]}
    assert ids(_search(api, patient=form.format(pid=seeded["p2"]))) == {seeded["c"]}


def test_search_by_patient_with_absolute_reference(api, seeded):
    assert ids(_search(api, patient=f"http://testserver/fhir/Patient/{seeded['p2']}")) == {seeded["c"]}


def test_search_by_identifier_forms(api, seeded):
    assert ids(_search(api, identifier=f"{LOCAL}|doc-1")) == {seeded["a"]}
    assert ids(_search(api, identifier="doc-1")) == {seeded["a"], seeded["c"]}
    assert ids(_search(api, identifier="|doc-2")) == {seeded["b"]}  # explicitly no system
    assert ids(_search(api, identifier="|doc-1")) == set()
    assert ids(_search(api, identifier=f"{LOCAL}|")) == {seeded["a"]}  # any value in the system
    assert ids(_search(api, identifier=f"{LOCAL}|doc-2")) == set()


def test_search_by_code(api, seeded):
    assert ids(_search(api, code=f"{SCT}|111088007")) == {seeded["b"]}
    assert ids(_search(api, code="J01CA04")) == {seeded["a"]}
    assert ids(_search(api, code=f"{ATC}|111088007")) == set()
    assert ids(_search(api, code=f"J01CA04,{SCT}|373568007")) == {seeded["a"], seeded["c"]}  # OR


def test_search_by_category_and_clinical_status(api, seeded):
    assert ids(_search(api, category="medication")) == {seeded["a"], seeded["c"]}
    assert ids(_search(api, category="environment")) == {seeded["b"]}
    assert ids(_search(api, **{"clinical-status": "active"})) == {seeded["a"], seeded["c"]}
    assert ids(_search(api, **{"clinical-status": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical|inactive"})) == {seeded["b"]}


def test_parameters_are_anded(api, seeded):
    assert ids(_search(api, patient=seeded["p1"], category="medication")) == {seeded["a"]}
    b = api.get("/fhir/AllergyIntolerance", params=[("code", "J01CA04"), ("code", "111088007")]).json()
    assert ids(b) == set()


def test_patient_search_by_identifier(api, seeded):
    pnr = "http://electronichealth.se/identifier/personnummer"
    assert ids(_search(api, "Patient", identifier=f"{pnr}|196101182803")) == {seeded["p2"]}
    assert ids(_search(api, "Patient", identifier="195009072553")) == {seeded["p1"]}
    assert ids(_search(api, "Patient", identifier=f"{pnr}|")) == {seeded["p1"], seeded["p2"]}
    assert ids(_search(api, "Patient", identifier="urn:oid:1.2.752.129.2.1.3.1|195009072553")) == set()


def test_deleted_and_old_versions_are_not_found(api, seeded, allergy_body):
    api.delete(f"/fhir/AllergyIntolerance/{seeded['a']}")
    body = {**allergy_body(f"Patient/{seeded['p2']}", code=(SCT, "111088007")), "id": seeded["c"]}
    assert api.put(f"/fhir/AllergyIntolerance/{seeded['c']}", json=body).status_code == 200
    assert ids(_search(api, code="373568007")) == set()  # the old version's code is no longer indexed
    assert ids(_search(api, code="111088007")) == {seeded["b"], seeded["c"]}
    assert ids(_search(api, patient=seeded["p1"])) == {seeded["b"]}


def test_search_via_post(api, seeded):
    r = api.post("/fhir/AllergyIntolerance/_search", data={"patient": seeded["p1"], "category": "medication"})
    assert r.status_code == 200
    assert ids(r.json()) == {seeded["a"]}


# --- _lastUpdated -------------------------------------------------------------------------------------

def _day(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d")


_LAST_UPDATED_CASES = [
        (lambda now: f"ge{now.year}", True),
        (lambda now: f"le{now.year}", True),
        (lambda now: f"gt{now.year}", False),
        (lambda now: f"lt{now.year}", False),
        (lambda now: f"{now.year}", True),
        (lambda now: f"ge{now:%Y-%m}", True),
        (lambda now: f"lt{now:%Y-%m}", False),
        (lambda now: f"gt{now.year - 1}", True),
        (lambda now: f"lt{now.year + 1}", True),
        (lambda now: f"le{now.year - 1}", False),
        (lambda now: f"ge{now.year + 1}", False),
        (lambda now: _day(now), True),
        (lambda now: f"ge{_day(now - timedelta(days=1))}", True),
        (lambda now: f"le{_day(now - timedelta(days=1))}", False),
        (lambda now: f"lt{(now + timedelta(minutes=5)):%Y-%m-%dT%H:%M:%SZ}", True),
        (lambda now: f"gt{(now + timedelta(minutes=5)):%Y-%m-%dT%H:%M:%SZ}", False),
        (lambda now: f"gt{(now - timedelta(minutes=5)):%Y-%m-%dT%H:%M:%S}+00:00", True),
        (lambda now: f"lt{(now - timedelta(minutes=5)):%Y-%m-%dT%H:%M:%SZ}", False),
]


def test_last_updated(api, seeded):
    """Prefixes ge/le/gt/lt/eq with year, month, day and instant precision (search.html#date)."""
    now = datetime.now(UTC)
    if now.hour == 23 and now.minute > 54 or now.month == 12 and now.day == 31:
        pytest.skip("too close to a date boundary")
    everything = {seeded["a"], seeded["b"], seeded["c"]}
    for value_fn, hit in _LAST_UPDATED_CASES:
        value = value_fn(now)
        assert ids(_search(api, _lastUpdated=value)) == (everything if hit else set()), value


def test_last_updated_range_and_the_stored_instant(api, seeded):
    stored = api.get(f"/fhir/AllergyIntolerance/{seeded['b']}").json()["meta"]["lastUpdated"]
    at = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    before = (at - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = (at + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    b = api.get("/fhir/AllergyIntolerance", params=[("_lastUpdated", f"ge{before}"), ("_lastUpdated", f"le{after}"), ("_id", seeded["b"])])
    assert ids(b.json()) == {seeded["b"]}


def test_last_updated_invalid_is_400(api):
    for bad in ["yesterday", "ge2026-13", "2026-02-30", "geabc"]:
        assert_outcome(api.get("/fhir/AllergyIntolerance", params={"_lastUpdated": bad}), 400)


# --- strictness -------------------------------------------------------------------------------------

def test_bad_parameters_are_400_outcomes(api):
    for params in [{"shoe-size": "42"}, {"code:above": "x"}, {"_count": "many"}, {"_include": "AllergyIntolerance:nonsense"},
                   {"patient": ""}, {"_offset": "-"}, {"clinical-status:missing": "perhaps"},
                   {"_revinclude": "Provenance:target"}, {"_sort": "code"}]:
        assert_outcome(api.get("/fhir/AllergyIntolerance", params=params), 400)


def test_unknown_parameter_on_patient(api):
    r = assert_outcome(api.get("/fhir/Patient", params={"category": "x"}), 400, "not-supported")
    assert "category" in r["issue"][0]["diagnostics"]


def test_sort_by_last_updated(api, seeded, allergy_body):
    body = {**allergy_body(f"Patient/{seeded['p1']}"), "id": seeded["a"]}
    api.put(f"/fhir/AllergyIntolerance/{seeded['a']}", json=body)  # now the newest
    newest_first = [r["id"] for r in entries(_search(api, _sort="-_lastUpdated"))]
    assert newest_first[0] == seeded["a"]
    assert [r["id"] for r in entries(_search(api, _sort="_lastUpdated"))][-1] == seeded["a"]


def test_format_and_pretty_are_not_search_parameters(api, seeded):
    r = api.get("/fhir/AllergyIntolerance", params={"_id": seeded["a"], "_format": "json", "_pretty": "true"})
    assert r.status_code == 200 and ids(r.json()) == {seeded["a"]}


# --- paging -----------------------------------------------------------------------------------------

def _link(bundle, rel):
    for link in bundle.get("link", []):
        if link["relation"] == rel:
            return link["url"]
    return None


def _follow(api, url):
    parts = urlsplit(url)
    assert parts.path.startswith("/fhir/")
    return api.get(parts.path, params=[(k, v) for k, vs in parse_qs(parts.query).items() for v in vs]).json()


def test_paging_walks_every_result_once(api, patient_body):
    for i in range(7):
        api.post("/fhir/Patient", json=patient_body(f"19500907{i:04d}", gender="female"))
    page = _search(api, "Patient", gender="female", _count="3")
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        seen += [r["id"] for r in entries(page)]
        nxt = _link(page, "next")
        if not nxt:
            break
        assert "gender=female" in nxt and "_count=3" in nxt
        page = _follow(api, nxt)
        assert _link(page, "first")
        assert pages < 10
    assert len(seen) == 7 and len(set(seen)) == 7
    assert pages == 3


def test_offset_and_previous_on_a_non_clinical_type(api):
    for i in range(5):
        api.post("/fhir/Organization", json={"resourceType": "Organization", "name": f"Enhet {i}"})
    everything = [r["id"] for r in entries(_search(api, "Organization", _count="10"))]
    page = _search(api, "Organization", _count="2", _offset="2")
    assert page["total"] == 5
    assert [r["id"] for r in entries(page)] == everything[2:4]
    prev = _follow(api, _link(page, "previous"))
    assert [r["id"] for r in entries(prev)] == everything[0:2]
    assert _link(prev, "previous") is None
    last = _search(api, "Organization", _count="2", _offset="4")
    assert [r["id"] for r in entries(last)] == everything[4:]
    assert _link(last, "next") is None
    assert _link(last, "self")


def test_clinical_paging_skips_withheld_results_without_revealing_them(api, allergy_body, patient_body):
    """Pages hold only what the caller may see; following `next` yields every visible result once."""
    pid = api.post("/fhir/Patient", json=patient_body()).json()["id"]
    visible = []
    for i in range(6):
        hidden = i % 2 == 1
        body = allergy_body(f"Patient/{pid}", care_giver=None if hidden else "SE2321000016-1000", care_unit=None if hidden else "SE2321000016-1001")
        rid = api.post("/fhir/AllergyIntolerance", json=body).json()["id"]
        if not hidden:
            visible.append(rid)
    page = _search(api, patient=pid, _count="2")
    seen = [r["id"] for r in entries(page)]
    assert len(seen) == 2
    while _link(page, "next"):
        page = _follow(api, _link(page, "next"))
        seen += [r["id"] for r in entries(page)]
        assert len(seen) <= 3
    assert seen == visible


def test_count_zero_gives_no_entries(api, seeded):
    b = _search(api, _count="0")
    assert entries(b) == []
    assert _link(b, "next") is None


def test_clinical_search_reveals_no_total(api, seeded, client, auth):
    b = _search(api)
    assert "total" not in b
    assert_outcome(api.get("/fhir/AllergyIntolerance", params={"_summary": "count"}), 403)


def test_non_clinical_search_has_total(api, client):
    api.post("/fhir/Organization", json={"resourceType": "Organization", "name": "Akuten"})
    b = _search(api, "Organization")
    assert b["total"] == 1


# --- _include -----------------------------------------------------------------------------------------

def test_include_patient(api, seeded):
    b = _search(api, patient=seeded["p1"], _include="AllergyIntolerance:patient")
    assert ids(b) == {seeded["a"], seeded["b"]}
    assert ids(b, "include") == {seeded["p1"]}  # the shared Patient once
    assert sum(1 for e in b["entry"] if e["search"]["mode"] == "include") == 1
    assert [e for e in b["entry"] if e["search"]["mode"] == "include"][0]["fullUrl"].endswith(f"/Patient/{seeded['p1']}")


def test_include_with_target_type(api, seeded):
    b = _search(api, _id=seeded["c"], _include="AllergyIntolerance:patient:Patient")
    assert ids(b, "include") == {seeded["p2"]}


def test_no_include_without_asking(api, seeded):
    assert ids(_search(api, patient=seeded["p1"]), "include") == set()


def test_withheld_resources_are_silently_absent(api, client, auth, seeded, allergy_body):
    api.post("/fhir/AllergyIntolerance", json=allergy_body(f"Patient/{seeded['p1']}", care_unit=None, care_giver=None))
    b = _search(api, patient=seeded["p1"])
    assert ids(b) == {seeded["a"], seeded["b"]}
