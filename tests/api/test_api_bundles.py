"""batch and transaction (http://hl7.org/fhir/R4/http.html#transaction): per-entry statuses for a batch,
all-or-nothing for a transaction, `urn:uuid:` references, conditional entries."""

from __future__ import annotations

import uuid

import pytest
from api_checks import assert_outcome, ids

PNR = "http://electronichealth.se/identifier/personnummer"


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _bundle(kind: str, *entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def _post(resource: dict, full_url: str | None = None, **request) -> dict:
    e: dict = {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"], **request}}
    if full_url:
        e["fullUrl"] = full_url
    return e


def _put(resource: dict, url: str, **request) -> dict:
    return {"resource": resource, "request": {"method": "PUT", "url": url, **request}}


def _count(api, rtype: str, **params) -> int:
    return len(api.get(f"/fhir/{rtype}", params={"_count": "500", **params}).json()["entry"])


def _everything(api) -> int:
    """Versions of every resource but AuditEvents (reads write those); history sees deletions too."""
    hist = api.get("/fhir/_history", params={"_count": "1000"}).json()["entry"]
    return sum(1 for e in hist if not e["fullUrl"].rsplit("/", 2)[-2] == "AuditEvent")


# --- transaction ----------------------------------------------------------------------------------

def test_transaction_resolves_urn_uuid_references(api, patient_body, allergy_body):
    p_urn = _urn()
    r = api.post("/fhir", json=_bundle(
        "transaction",
        _post(allergy_body(p_urn)),  # the reference comes before the entry that defines it
        _post(patient_body(), p_urn),
    ))
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["type"] == "transaction-response"
    assert [e["response"]["status"] for e in b["entry"]] == ["201", "201"]
    ai_loc, p_loc = (e["response"]["location"] for e in b["entry"])
    assert ai_loc.startswith("AllergyIntolerance/") and p_loc.startswith("Patient/")
    pid = p_loc.split("/")[1]
    ai = api.get(f"/fhir/{ai_loc.split('/_history')[0]}").json()
    assert ai["patient"]["reference"] == f"Patient/{pid}"
    assert all(e["response"]["etag"] == 'W/"1"' for e in b["entry"])


def test_transaction_unresolved_urn_uuid_is_400_and_nothing_stored(api, allergy_body, patient_body):
    r = api.post("/fhir", json=_bundle("transaction", _post(patient_body()), _post(allergy_body(_urn()))))
    assert_outcome(r, 400)
    assert _count(api, "Patient") == 0


def test_transaction_failing_entry_rolls_back_every_write(api, patient_body, allergy_body):
    existing = api.post("/fhir/Patient", json=patient_body("196101182803")).json()
    before = _everything(api)
    bad = allergy_body("Patient/x")
    bad["clinicalStatus"] = "not-a-codeable-concept"
    r = api.post("/fhir", json=_bundle(
        "transaction",
        _post(patient_body("195009072553")),
        _put({**existing, "gender": "female"}, f"Patient/{existing['id']}"),
        {"request": {"method": "DELETE", "url": f"Patient/{existing['id']}"}},
        _post(bad),
    ))
    assert r.status_code in (400, 422)
    assert r.json()["resourceType"] == "OperationOutcome"
    assert "Bundle.entry[3]" in r.text
    assert _everything(api) == before
    assert _count(api, "Patient", identifier="195009072553") == 0
    assert api.get(f"/fhir/Patient/{existing['id']}").json()["meta"]["versionId"] == "1"


def test_transaction_if_match_failure_during_writes_rolls_back(api, patient_body):
    p = api.post("/fhir/Patient", json=patient_body("196101182803")).json()
    r = api.post("/fhir", json=_bundle(
        "transaction",
        _post(patient_body("195009072553")),
        _put({**p, "gender": "male"}, f"Patient/{p['id']}", ifMatch='W/"9"'),
    ))
    assert_outcome(r, 412)
    assert _count(api, "Patient") == 1
    assert "gender" not in api.get(f"/fhir/Patient/{p['id']}").json()


def test_transaction_failing_read_rolls_back_writes(api, patient_body):
    """A GET entry is part of the transaction: if it fails, nothing else may stay written."""
    r = api.post("/fhir", json=_bundle(
        "transaction",
        _post(patient_body("195009072553")),
        {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
    ))
    assert r.status_code == 404
    assert r.json()["resourceType"] == "OperationOutcome"
    assert _count(api, "Patient") == 0


def test_transaction_read_and_search_entries(api, patient_body):
    pid = api.post("/fhir/Patient", json=patient_body("196101182803")).json()["id"]
    r = api.post("/fhir", json=_bundle(
        "transaction",
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        {"request": {"method": "GET", "url": "Patient?identifier=196101182803"}},
        _post(patient_body("195009072553")),
    ))
    assert r.status_code == 200, r.text
    read, search, created = r.json()["entry"]
    assert read["response"]["status"] == "200" and read["resource"]["id"] == pid
    assert search["resource"]["type"] == "searchset" and ids(search["resource"]) == {pid}
    assert created["response"]["status"] == "201"


def test_transaction_conditional_create(api, patient_body, allergy_body):
    pid = api.post("/fhir/Patient", json=patient_body("196101182803")).json()["id"]
    p_urn, q_urn = _urn(), _urn()
    r = api.post("/fhir", json=_bundle(
        "transaction",
        _post(patient_body("196101182803"), p_urn, ifNoneExist=f"identifier={PNR}|196101182803"),  # exists
        _post(patient_body("195009072553"), q_urn, ifNoneExist=f"identifier={PNR}|195009072553"),  # new
        _post(allergy_body(p_urn)),
        _post(allergy_body(q_urn)),
    ))
    assert r.status_code == 200, r.text
    e = r.json()["entry"]
    assert [x["response"]["status"] for x in e] == ["200", "201", "201", "201"]
    assert e[0]["response"]["location"].startswith(f"Patient/{pid}/")
    assert _count(api, "Patient") == 2
    assert _count(api, "AllergyIntolerance", patient=pid) == 1  # the urn resolved to the existing Patient
    new_pid = e[1]["response"]["location"].split("/")[1]
    assert _count(api, "AllergyIntolerance", patient=new_pid) == 1


def test_transaction_conditional_create_many_matches_is_412(api, patient_body):
    for _ in range(2):
        api.post("/fhir/Patient", json=patient_body("196101182803"))
    r = api.post("/fhir", json=_bundle(
        "transaction",
        _post({"resourceType": "Organization", "name": "x"}),
        _post(patient_body("196101182803"), ifNoneExist="identifier=196101182803"),
    ))
    assert_outcome(r, 412)
    assert _count(api, "Organization") == 0


def test_transaction_conditional_update(api, patient_body):
    pid = api.post("/fhir/Patient", json=patient_body("196101182803")).json()["id"]
    r = api.post("/fhir", json=_bundle(
        "transaction",
        _put(patient_body("196101182803", gender="female"), f"Patient?identifier={PNR}|196101182803"),  # one match → update
        _put(patient_body("195009072553", gender="male"), f"Patient?identifier={PNR}|195009072553"),  # none → create
    ))
    assert r.status_code == 200, r.text
    upd, new = r.json()["entry"]
    assert upd["response"]["status"] == "200" and upd["response"]["location"].startswith(f"Patient/{pid}/_history/2")
    assert new["response"]["status"] == "201"
    assert api.get(f"/fhir/Patient/{pid}").json()["gender"] == "female"
    assert _count(api, "Patient") == 2


def test_transaction_conditional_update_many_matches_is_412(api, patient_body):
    for _ in range(2):
        api.post("/fhir/Patient", json=patient_body("196101182803"))
    r = api.post("/fhir", json=_bundle("transaction", _put(patient_body("196101182803", gender="male"), "Patient?identifier=196101182803")))
    assert_outcome(r, 412)
    assert _count(api, "Patient", gender="male") == 0


def test_transaction_put_with_client_id_and_conditional_delete(api, patient_body):
    api.post("/fhir/Patient", json=patient_body("196101182803"))
    r = api.post("/fhir", json=_bundle(
        "transaction",
        _put({**patient_body("195009072553"), "id": "kept-id"}, "Patient/kept-id"),
        {"request": {"method": "DELETE", "url": "Patient?identifier=196101182803"}},
    ))
    assert r.status_code == 200, r.text
    put, dele = r.json()["entry"]
    assert put["response"]["status"] == "201" and put["response"]["location"].startswith("Patient/kept-id/")
    assert dele["response"]["status"] in ("200", "204")
    assert _count(api, "Patient") == 1
    assert api.get("/fhir/Patient/kept-id").status_code == 200


@pytest.mark.parametrize(
    "entry",
    [
        {"request": {"method": "POST", "url": "Patient"}},  # no resource
        {"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Organization"}},  # type mismatch
        {"resource": {"resourceType": "Patient"}},  # no request
        {"resource": {"resourceType": "Patient"}, "request": {"method": "TRACE", "url": "Patient"}},
        {"resource": {"resourceType": "Patient"}, "request": {"method": "PUT", "url": "Patient"}},  # PUT without id
    ],
)
def test_transaction_malformed_entry_is_400_and_nothing_stored(api, patient_body, entry):
    r = api.post("/fhir", json=_bundle("transaction", _post(patient_body()), entry))
    assert_outcome(r, 400)
    assert _count(api, "Patient") == 0


@pytest.mark.parametrize("body", [{"resourceType": "Bundle", "type": "collection"}, {"resourceType": "Patient"}])
def test_only_batch_or_transaction_is_accepted(api, body):
    assert_outcome(api.post("/fhir", json=body), 400)


def test_empty_transaction(api):
    r = api.post("/fhir", json=_bundle("transaction"))
    assert r.status_code == 200
    assert r.json()["entry"] == []


def test_transaction_in_xml(api):
    xml = b"""<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/>
      <entry><fullUrl value="urn:uuid:0a6c4f80-0000-4000-8000-000000000001"/>
        <resource><Patient><gender value="female"/></Patient></resource>
        <request><method value="POST"/><url value="Patient"/></request></entry>
    </Bundle>"""
    r = api.post("/fhir", content=xml, headers={"Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+xml")
    assert b"transaction-response" in r.content
    assert _count(api, "Patient", gender="female") == 1


# --- batch ----------------------------------------------------------------------------------------

def test_batch_gives_per_entry_statuses_and_keeps_the_good_ones(api, patient_body, allergy_body):
    pid = api.post("/fhir/Patient", json=patient_body("196101182803")).json()["id"]
    bad = allergy_body(f"Patient/{pid}")
    del bad["code"]
    bad["bogus"] = 1
    r = api.post("/fhir", json=_bundle(
        "batch",
        _post(patient_body("195009072553")),
        _post(bad),
        {"request": {"method": "GET", "url": "Patient/nope"}},
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        _put({**patient_body(), "id": "x"}, f"Patient/{pid}"),  # id mismatch
        {"request": {"method": "GET", "url": "Patient?shoe=1"}},
    ))
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in b["entry"]]
    assert statuses[0] == "201"
    assert statuses[1] in ("400", "422")
    assert statuses[2] == "404"
    assert statuses[3] == "200" and b["entry"][3]["resource"]["id"] == pid
    assert statuses[4] == "400"
    assert statuses[5] == "400"
    for i in (1, 2, 4, 5):
        assert b["entry"][i]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert "Bundle.entry[1]" in str(b["entry"][1]["response"]["outcome"])
    assert _count(api, "Patient") == 2


def test_batch_does_not_resolve_references_between_entries(api, patient_body, allergy_body):
    p_urn = _urn()
    r = api.post("/fhir", json=_bundle("batch", _post(patient_body(), p_urn), _post(allergy_body(p_urn))))
    assert r.status_code == 200
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["201", "400"]


def test_batch_entry_without_scope_is_403_in_the_entry(api, client, auth, patient_body):
    r = client.post("/fhir", json=_bundle("batch", _post(patient_body()), _post({"resourceType": "Organization", "name": "x"})),
                    headers=auth("system/Patient.c"))
    assert r.status_code == 200
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["201", "403"]


def test_batch_conditional_create(api, patient_body):
    api.post("/fhir/Patient", json=patient_body("196101182803"))
    r = api.post("/fhir", json=_bundle(
        "batch",
        _post(patient_body("196101182803"), ifNoneExist="identifier=196101182803"),
        _post(patient_body("195009072553"), ifNoneExist="identifier=195009072553"),
    ))
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["200", "201"]
    assert _count(api, "Patient") == 2
