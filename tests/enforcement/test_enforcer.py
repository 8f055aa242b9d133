"""The enforcement point in the request path: fail closed on unknown patients, audit every decision
(denials too), and explicit scopes for the directive and access-log types."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.settings import Settings
from hub.store import parse_query
from hub.wiring import build_hub

CG, CU = "SE2321000016-0001", "SE2321000016-E001"
SOURCE = {
    "url": "https://knutpunkt.se/fhir/StructureDefinition/information-source",
    "extension": [
        {"url": "careGiver", "valueIdentifier": {"system": "urn:oid:1.2.752.29.4.19", "value": CG}},
        {"url": "careUnit", "valueIdentifier": {"system": "urn:oid:1.2.752.29.4.19", "value": CU}},
        {"url": "informationType", "valueCode": "upp"},
    ],
}


@pytest.fixture()
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    hub = build_hub(Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", key_file=str(tmp_path / "k.pem"), validate_on_write=False))
    client = TestClient(create_app(hub, run_worker=False))
    headers = {"Authorization": f"Bearer {hub.tokens.issue('me', 'system/*.cruds', care_giver=CG, care_unit=CU)}"}
    return hub, client, headers


def _audits(hub) -> list[dict]:  # type: ignore[no-untyped-def]
    with hub.store.transaction() as s:
        return [st.resource for st in hub.store.search(s, parse_query("AuditEvent", [("_count", "1000")]))]


def test_clinical_resource_without_determinable_patient_is_withheld_and_audited(env) -> None:  # type: ignore[no-untyped-def]
    hub, client, h = env
    p = client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=h).json()["id"]
    with_patient = client.post("/fhir/Observation", json={"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                                                          "subject": {"reference": f"Patient/{p}"}, "extension": [SOURCE]}, headers=h).json()["id"]
    orphan = client.post("/fhir/Observation", json={"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                                                    "extension": [SOURCE]}, headers=h).json()["id"]
    assert client.get(f"/fhir/Observation/{with_patient}", headers=h).status_code == 200
    assert client.get(f"/fhir/Observation/{orphan}", headers=h).status_code == 404
    outcomes = sorted((a["outcome"], a["outcomeDesc"]) for a in _audits(hub))
    assert ("4", "no-patient") in outcomes, outcomes  # the denial was audited although the read answered 404
    assert any(o == "0" for o, _ in outcomes)


def test_withheld_read_is_indistinguishable_from_unknown(env) -> None:  # type: ignore[no-untyped-def]
    hub, client, h = env
    p = client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=h).json()["id"]
    ai = client.post("/fhir/AllergyIntolerance", json={"resourceType": "AllergyIntolerance", "patient": {"reference": f"Patient/{p}"},
                                                       "code": {"text": "latex"}, "extension": [SOURCE]}, headers=h).json()["id"]
    other = {"Authorization": f"Bearer {hub.tokens.issue('x', 'system/*.rs', care_giver='SE999', care_unit='SE999-1')}"}
    withheld = client.get(f"/fhir/AllergyIntolerance/{ai}", headers=other)
    unknown = client.get("/fhir/AllergyIntolerance/does-not-exist", headers=other)
    assert withheld.status_code == unknown.status_code == 404
    assert withheld.json()["issue"][0]["code"] == unknown.json()["issue"][0]["code"]
    search = client.get(f"/fhir/AllergyIntolerance?patient={p}", headers=other).json()
    assert "total" not in search and not search.get("entry")


@pytest.mark.parametrize("rtype", ["AuditEvent", "Consent"])
def test_directives_and_access_log_need_an_explicit_scope(env, rtype: str) -> None:  # type: ignore[no-untyped-def]
    hub, client, h = env
    assert client.get(f"/fhir/{rtype}", headers=h).status_code == 403  # system/*.cruds is not enough
    explicit = {"Authorization": f"Bearer {hub.tokens.issue('auditor', f'system/{rtype}.rs')}"}
    assert client.get(f"/fhir/{rtype}", headers=explicit).status_code == 200
