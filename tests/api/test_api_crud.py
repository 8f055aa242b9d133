"""read, vread, create, update, delete, history and the conditional headers (http://hl7.org/fhir/R4/http.html)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
from api_checks import assert_outcome


def _create_patient(api, patient_body, **kw):
    r = api.post("/fhir/Patient", json=patient_body(**kw))
    assert r.status_code == 201, r.text
    return r


# --- create ---------------------------------------------------------------------------------------

def test_create_returns_201_location_etag_last_modified(api, patient_body):
    r = _create_patient(api, patient_body)
    body = r.json()
    rid = body["id"]
    assert body["meta"]["versionId"] == "1"
    assert r.headers["location"].endswith(f"/fhir/Patient/{rid}/_history/1")
    assert r.headers["location"].startswith("http")
    assert r.headers["etag"] == 'W/"1"'
    modified = parsedate_to_datetime(r.headers["last-modified"])
    assert body["meta"]["lastUpdated"].startswith(modified.strftime("%Y-%m-%dT%H:%M:%S"))
    assert r.headers["content-type"].startswith("application/fhir+json")


def test_create_ignores_a_client_id(api, patient_body):
    r = api.post("/fhir/Patient", json={**patient_body(), "id": "chosen-by-client"})
    assert r.status_code == 201
    assert r.json()["id"] != "chosen-by-client"
    assert api.get("/fhir/Patient/chosen-by-client").status_code == 404


def test_create_of_wrong_type_is_400(api, patient_body):
    r = api.post("/fhir/AllergyIntolerance", json=patient_body())
    assert_outcome(r, 400)


def test_create_invalid_resource_is_422_and_stores_nothing(api, allergy_body):
    bad = allergy_body("Patient/x")
    del bad["code"]  # se-allergyintolerance / IPS: code 1..1 — and an unknown element:
    bad["notAnElement"] = True
    r = api.post("/fhir/AllergyIntolerance", json=bad)
    assert_outcome(r, 422)
    assert api.get("/fhir/AllergyIntolerance", params={"patient": "x"}).json()["entry"] == []


def test_prefer_return_minimal(api, patient_body):
    r = api.post("/fhir/Patient", json=patient_body(), headers={"Prefer": "return=minimal"})
    assert r.status_code == 201
    assert r.content == b""
    assert "/fhir/Patient/" in r.headers["location"]


# --- read / vread -----------------------------------------------------------------------------------

def test_read_returns_resource_with_etag_and_last_modified(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    r = api.get(f"/fhir/Patient/{rid}")
    assert r.status_code == 200
    assert r.json()["id"] == rid
    assert r.json()["identifier"][0]["value"] == "195009072553"
    assert r.headers["etag"] == 'W/"1"'
    assert "last-modified" in r.headers


def test_read_unknown_is_404_outcome(api):
    assert_outcome(api.get("/fhir/Patient/does-not-exist"), 404, "not-found")


def test_vread(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    api.put(f"/fhir/Patient/{rid}", json={**patient_body(gender="female"), "id": rid})
    v1 = api.get(f"/fhir/Patient/{rid}/_history/1")
    v2 = api.get(f"/fhir/Patient/{rid}/_history/2")
    assert v1.status_code == v2.status_code == 200
    assert "gender" not in v1.json() and v2.json()["gender"] == "female"
    assert v1.headers["etag"] == 'W/"1"' and v2.headers["etag"] == 'W/"2"'
    assert_outcome(api.get(f"/fhir/Patient/{rid}/_history/3"), 404)
    assert_outcome(api.get(f"/fhir/Patient/{rid}/_history/abc"), 404)


def test_if_none_match_gives_304_only_for_the_current_version(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    r = api.get(f"/fhir/Patient/{rid}", headers={"If-None-Match": 'W/"1"'})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == 'W/"1"'
    api.put(f"/fhir/Patient/{rid}", json={**patient_body(gender="male"), "id": rid})
    r = api.get(f"/fhir/Patient/{rid}", headers={"If-None-Match": 'W/"1"'})
    assert r.status_code == 200 and r.json()["gender"] == "male"


def test_if_none_match_accepts_the_strong_form_of_the_tag(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    assert api.get(f"/fhir/Patient/{rid}", headers={"If-None-Match": '"1"'}).status_code == 304


# --- update -----------------------------------------------------------------------------------------

def test_update_makes_a_new_version(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    r = api.put(f"/fhir/Patient/{rid}", json={**patient_body(gender="other"), "id": rid})
    assert r.status_code == 200
    assert r.json()["meta"]["versionId"] == "2"
    assert r.headers["etag"] == 'W/"2"'
    assert r.headers["location"].endswith(f"/Patient/{rid}/_history/2")
    assert api.get(f"/fhir/Patient/{rid}").json()["gender"] == "other"


def test_update_as_create_with_client_id_is_201_and_keeps_the_id(api, patient_body):
    r = api.put("/fhir/Patient/pat-from-client", json={**patient_body(), "id": "pat-from-client"})
    assert r.status_code == 201
    assert r.json()["id"] == "pat-from-client"
    assert r.headers["etag"] == 'W/"1"'
    assert api.get("/fhir/Patient/pat-from-client").status_code == 200


@pytest.mark.parametrize("body_id", ["other-id", None])
def test_update_id_mismatch_or_missing_is_400(api, patient_body, body_id):
    body = patient_body()
    if body_id:
        body["id"] = body_id
    r = api.put("/fhir/Patient/the-url-id", json=body)
    assert_outcome(r, 400)
    assert api.get("/fhir/Patient/the-url-id").status_code == 404


def test_update_with_invalid_id_is_400(api, patient_body):
    rid = "x" * 65
    assert_outcome(api.put(f"/fhir/Patient/{rid}", json={**patient_body(), "id": rid}), 400)


def test_if_match(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    body = {**patient_body(gender="female"), "id": rid}
    stale = api.put(f"/fhir/Patient/{rid}", json=body, headers={"If-Match": 'W/"7"'})
    assert_outcome(stale, 412)
    assert api.get(f"/fhir/Patient/{rid}").json()["meta"]["versionId"] == "1"
    ok = api.put(f"/fhir/Patient/{rid}", json=body, headers={"If-Match": 'W/"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == 'W/"2"'
    # the same tag again is now stale (lost-update protection)
    assert_outcome(api.put(f"/fhir/Patient/{rid}", json=body, headers={"If-Match": 'W/"1"'}), 412)
    assert api.put(f"/fhir/Patient/{rid}", json=body, headers={"If-Match": '"2"'}).status_code == 200


def test_if_match_on_a_resource_that_does_not_exist_is_412(api, patient_body):
    r = api.put("/fhir/Patient/newcomer", json={**patient_body(), "id": "newcomer"}, headers={"If-Match": 'W/"1"'})
    assert_outcome(r, 412)
    assert api.get("/fhir/Patient/newcomer").status_code == 404


def test_if_match_garbage_is_rejected(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    r = api.put(f"/fhir/Patient/{rid}", json={**patient_body(), "id": rid}, headers={"If-Match": "banana"})
    assert r.status_code in (400, 412)
    assert r.json()["resourceType"] == "OperationOutcome"


# --- conditional create -----------------------------------------------------------------------------

def test_if_none_exist_no_match_creates(api, patient_body):
    r = api.post("/fhir/Patient", json=patient_body("196101182803"),
                 headers={"If-None-Exist": "identifier=http://electronichealth.se/identifier/personnummer|196101182803"})
    assert r.status_code == 201


def test_if_none_exist_one_match_returns_it_without_creating(api, patient_body):
    first = _create_patient(api, patient_body, pnr="196101182803").json()
    cond = {"If-None-Exist": "identifier=http://electronichealth.se/identifier/personnummer|196101182803"}
    r = api.post("/fhir/Patient", json=patient_body("196101182803", gender="female"), headers=cond)
    assert r.status_code == 200
    assert r.json()["id"] == first["id"]
    assert "gender" not in r.json()
    assert r.headers["etag"] == 'W/"1"'
    found = api.get("/fhir/Patient", params={"identifier": "196101182803"}).json()
    assert len(found["entry"]) == 1


def test_if_none_exist_with_type_prefix_is_accepted(api, patient_body):
    first = _create_patient(api, patient_body, pnr="196101182803").json()
    r = api.post("/fhir/Patient", json=patient_body("196101182803"), headers={"If-None-Exist": "Patient?identifier=196101182803"})
    assert r.status_code == 200 and r.json()["id"] == first["id"]


def test_if_none_exist_many_matches_is_412(api, patient_body):
    _create_patient(api, patient_body, pnr="196101182803")
    _create_patient(api, patient_body, pnr="196101182803")
    r = api.post("/fhir/Patient", json=patient_body("196101182803"), headers={"If-None-Exist": "identifier=196101182803"})
    assert_outcome(r, 412)
    assert len(api.get("/fhir/Patient", params={"identifier": "196101182803"}).json()["entry"]) == 2


def test_if_none_exist_with_unknown_parameter_is_400(api, patient_body):
    r = api.post("/fhir/Patient", json=patient_body(), headers={"If-None-Exist": "shoe-size=42"})
    assert_outcome(r, 400)


# --- delete -----------------------------------------------------------------------------------------

def test_delete_then_read_is_410_and_old_version_still_readable(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    r = api.delete(f"/fhir/Patient/{rid}")
    assert r.status_code in (200, 204)
    if r.status_code == 200:
        assert r.json()["resourceType"] == "OperationOutcome"
    assert_outcome(api.get(f"/fhir/Patient/{rid}"), 410)
    v1 = api.get(f"/fhir/Patient/{rid}/_history/1")
    assert v1.status_code == 200 and v1.json()["id"] == rid
    assert_outcome(api.get(f"/fhir/Patient/{rid}/_history/2"), 410)  # the deletion itself
    assert api.get("/fhir/Patient", params={"_id": rid}).json()["entry"] == []


def test_delete_unknown_or_twice_is_not_an_error(api, patient_body):
    assert api.delete("/fhir/Patient/never-was").status_code in (200, 204, 404)
    rid = _create_patient(api, patient_body).json()["id"]
    assert api.delete(f"/fhir/Patient/{rid}").status_code in (200, 204)
    assert api.delete(f"/fhir/Patient/{rid}").status_code in (200, 204)
    assert [e["request"]["method"] for e in api.get(f"/fhir/Patient/{rid}/_history").json()["entry"]] == ["DELETE", "POST"]


def test_recreate_after_delete_with_put(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    api.delete(f"/fhir/Patient/{rid}")
    r = api.put(f"/fhir/Patient/{rid}", json={**patient_body(), "id": rid})
    assert r.status_code == 201
    assert r.json()["meta"]["versionId"] == "3"
    assert api.get(f"/fhir/Patient/{rid}").status_code == 200


# --- history ----------------------------------------------------------------------------------------

def test_instance_history_newest_first(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    api.put(f"/fhir/Patient/{rid}", json={**patient_body(gender="female"), "id": rid})
    api.delete(f"/fhir/Patient/{rid}")
    h = api.get(f"/fhir/Patient/{rid}/_history")
    assert h.status_code == 200
    b = h.json()
    assert b["resourceType"] == "Bundle" and b["type"] == "history"
    assert [e["request"]["method"] for e in b["entry"]] == ["DELETE", "PUT", "POST"]
    assert [e["response"]["status"] for e in b["entry"]] == ["204", "200", "201"]
    assert b["entry"][1]["resource"]["meta"]["versionId"] == "2"
    assert b["entry"][2]["resource"]["meta"]["versionId"] == "1"
    assert "resource" not in b["entry"][0]


def test_history_of_unknown_instance_is_404(api):
    assert_outcome(api.get("/fhir/Patient/nobody/_history"), 404)


def test_type_and_system_history(api, patient_body, allergy_body):
    pid = _create_patient(api, patient_body).json()["id"]
    aid = api.post("/fhir/AllergyIntolerance", json=allergy_body(f"Patient/{pid}")).json()["id"]
    types = api.get("/fhir/Patient/_history").json()
    assert {e["resource"]["resourceType"] for e in types["entry"]} == {"Patient"}
    system = api.get("/fhir/_history").json()
    refs = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in system["entry"] if "resource" in e}
    assert {f"Patient/{pid}", f"AllergyIntolerance/{aid}"} <= refs


def test_history_hides_what_the_consent_filter_withholds(api, client, auth, patient_body, allergy_body):
    pid = _create_patient(api, patient_body).json()["id"]
    aid = api.post("/fhir/AllergyIntolerance", json=allergy_body(f"Patient/{pid}", care_giver=None, care_unit=None)).json()["id"]
    # no information source → never released (domain.md section 5), also not through history
    assert api.get(f"/fhir/AllergyIntolerance/{aid}").status_code == 404
    assert api.get(f"/fhir/AllergyIntolerance/{aid}/_history").status_code == 404
    hist = api.get("/fhir/AllergyIntolerance/_history").json()
    assert all(e.get("resource", {}).get("id") != aid for e in hist["entry"])


# --- consent on read -----------------------------------------------------------------------------------

def test_allergy_visible_only_to_a_permitted_requester(api, client, auth, patient_body, allergy_body):
    pid = _create_patient(api, patient_body).json()["id"]
    aid = api.post("/fhir/AllergyIntolerance", json=allergy_body(f"Patient/{pid}")).json()["id"]
    same_unit = client.get(f"/fhir/AllergyIntolerance/{aid}", headers=auth())
    assert same_unit.status_code == 200
    other_giver = auth(care_giver="SE2321000032-2000", care_unit="SE2321000032-2001")
    withheld = client.get(f"/fhir/AllergyIntolerance/{aid}", headers=other_giver)
    assert_outcome(withheld, 404)  # exactly like an unknown resource
    assert client.get("/fhir/AllergyIntolerance", params={"patient": pid}, headers=other_giver).json()["entry"] == []
    emergency = auth(care_giver="SE2321000032-2000", care_unit="SE2321000032-2001", purpose="ETREAT")
    assert client.get(f"/fhir/AllergyIntolerance/{aid}", headers=emergency).status_code == 200


def test_system_history_keeps_consents_and_audit_events_from_wildcard_scopes(api, client, auth, patient_body):
    """Consent and AuditEvent reads need a scope naming the type; system history must not bypass that."""
    pid = _create_patient(api, patient_body).json()["id"]
    api.get(f"/fhir/Patient/{pid}")  # writes an AuditEvent
    consent = {"resourceType": "Consent", "status": "active", "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
               "category": [{"coding": [{"system": "https://knutpunkt.se/fhir/CodeSystem/pdl-directive", "code": "registry-opt-out"}]}],
               "patient": {"reference": f"Patient/{pid}"},
               "provision": {"type": "deny", "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HQUALIMP"}]},
               "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]}}
    r = client.post("/fhir", headers=auth("system/*.cruds"), json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": consent, "request": {"method": "POST", "url": "Consent"}}]})
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["201"], r.text
    wildcard = client.get("/fhir/_history", headers=auth("system/*.rs")).json()
    assert {e["fullUrl"].rsplit("/", 2)[-2] for e in wildcard["entry"]} == {"Patient"}
    named = client.get("/fhir/_history", headers=auth("system/*.rs system/Consent.r system/AuditEvent.r")).json()
    assert {"Patient", "Consent", "AuditEvent"} <= {e["fullUrl"].rsplit("/", 2)[-2] for e in named["entry"]}


# --- conditional update (http.html#cond-update) ---------------------------------------------------------

def test_conditional_update_creates_updates_and_refuses_ambiguity(api, patient_body):
    url = "/fhir/Patient?identifier=http://electronichealth.se/identifier/personnummer|196101182803"
    created = api.put(url, json=patient_body("196101182803"))
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    updated = api.put(url, json=patient_body("196101182803", gender="female"))
    assert updated.status_code == 200 and updated.json()["id"] == rid and updated.headers["etag"] == 'W/"2"'
    assert_outcome(api.put(url, json={**patient_body("196101182803"), "id": "someone-else"}), 400)
    _create_patient(api, patient_body, pnr="196101182803")
    assert_outcome(api.put(url, json=patient_body("196101182803", gender="male")), 412)
    assert api.get(f"/fhir/Patient/{rid}").json()["gender"] == "female"


def test_conditional_update_needs_criteria_and_known_parameters(api, patient_body):
    assert_outcome(api.put("/fhir/Patient", json=patient_body()), 400)
    assert_outcome(api.put("/fhir/Patient?shoe=42", json=patient_body()), 400)


def test_history_count_and_unsupported_parameters(api, patient_body):
    rid = _create_patient(api, patient_body).json()["id"]
    for g in ("male", "female", "other"):
        api.put(f"/fhir/Patient/{rid}", json={**patient_body(gender=g), "id": rid})
    two = api.get(f"/fhir/Patient/{rid}/_history", params={"_count": "2"}).json()
    assert [e["resource"]["meta"]["versionId"] for e in two["entry"]] == ["4", "3"]
    assert_outcome(api.get(f"/fhir/Patient/{rid}/_history", params={"_since": "2020-01-01"}), 400, "not-supported")
    assert_outcome(api.get("/fhir/_history", params={"_count": "x"}), 400)
