"""A smoke of the REST skeleton on each store backend (SQLite and PostgreSQL in a fresh schema):
create, read, search, transaction with rollback."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from store_backends import backend_url  # noqa: F401  (fixture)

from hub.api import create_app


@pytest.fixture
def backend_api(make_hub, backend_url):  # noqa: F811
    hub = make_hub(database_url=backend_url)
    token = hub.tokens.issue("smoke", "system/*.cruds", care_giver="SE2321000016-1000", care_unit="SE2321000016-1001", purpose="TREAT")
    with TestClient(create_app(hub, run_worker=False), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c
    hub.store.engine.dispose()


def test_create_read_search_transaction(backend_api, patient_body, allergy_body):
    api = backend_api
    r = api.post("/fhir/Patient", json=patient_body("195009072553"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = api.post("/fhir/AllergyIntolerance", json=allergy_body(f"Patient/{pid}", identifier=("urn:oid:1.2.3", "doc-1")))
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert api.get(f"/fhir/AllergyIntolerance/{aid}").json()["patient"]["reference"] == f"Patient/{pid}"
    found = api.get("/fhir/AllergyIntolerance", params={"patient": pid, "identifier": "urn:oid:1.2.3|doc-1", "_lastUpdated": "ge2020",
                                                         "_include": "AllergyIntolerance:patient"}).json()
    assert sorted((e["resource"]["resourceType"], e["search"]["mode"]) for e in found["entry"]) == [("AllergyIntolerance", "match"), ("Patient", "include")]

    urn = f"urn:uuid:{uuid.uuid4()}"
    tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": urn, "resource": patient_body("196101182803"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": allergy_body(urn), "request": {"method": "POST", "url": "AllergyIntolerance"}},
    ]}
    r = api.post("/fhir", json=tx)
    assert r.status_code == 200, r.text
    new_pid = r.json()["entry"][0]["response"]["location"].split("/")[1]
    assert len(api.get("/fhir/AllergyIntolerance", params={"patient": new_pid}).json()["entry"]) == 1

    bad = allergy_body(urn)
    bad["bogus"] = True
    tx["entry"][1]["resource"] = bad
    tx["entry"][0]["resource"] = patient_body("199002222397")
    r = api.post("/fhir", json=tx)
    assert r.status_code in (400, 422)
    assert api.get("/fhir/Patient", params={"identifier": "199002222397"}).json()["entry"] == []

    r = api.put(f"/fhir/Patient/{pid}", json={**patient_body("195009072553", gender="male"), "id": pid}, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 200
    assert api.put(f"/fhir/Patient/{pid}", json={**patient_body("195009072553"), "id": pid}, headers={"If-Match": 'W/"1"'}).status_code == 412
    assert api.delete(f"/fhir/Patient/{pid}").status_code in (200, 204)
    assert api.get(f"/fhir/Patient/{pid}").status_code == 410
