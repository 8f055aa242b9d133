"""Registry deliveries through a real receiver, ingest of GetAlertInformation examples, and the audit chain
(`knutpunkt audit verify`) of the same hub process (domain.md sections 5-6, contract.md Routing)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from typing import Any

import httpx
import pytest
from consent_e2e_data import (
    CU_AKUTEN,
    EXAMPLES,
    REGISTRY_ORG,
    allergy,
    block,
    organizations,
    patient,
    personnummer,
    registry_opt_out,
    registry_subscription,
    wait_for,
)

PROTECTED = [{"system": "https://knutpunkt.se/fhir/CodeSystem/protected-person", "code": "skyddadFolkbokforing"}]


def world() -> list[dict[str, Any]]:
    pnr = iter(personnummer("19820704", n) for n in range(201, 300))
    return [
        *organizations(),
        # r1 objected to the allergy registry before anything was recorded
        patient("r1", next(pnr)),
        registry_opt_out("r1-opt-out", "r1", REGISTRY_ORG),
        allergy("r1-a", "r1", CU_AKUTEN),
        # r2 is delivered, objects later
        patient("r2", next(pnr)),
        allergy("r2-a", "r2", CU_AKUTEN),
        allergy("r2-b", "r2", CU_AKUTEN, text="Latex"),
        # r3 has an inner block: blocks do not stop registry reporting
        patient("r3", next(pnr)),
        block("r3-block", "r3", CU_AKUTEN),
        allergy("r3-a", "r3", CU_AKUTEN),
        # r4 is a protected person: delivered, masked
        patient("r4", "189602029812", security=PROTECTED),
        allergy("r4-a", "r4", CU_AKUTEN),
        # r5 objected to another registry only
        patient("r5", next(pnr)),
        registry_opt_out("r5-opt-out-hjarta", "r5", "registry-hjarta"),
        allergy("r5-a", "r5", CU_AKUTEN),
    ]


def state(receiver: str) -> dict[str, Any]:
    return httpx.get(receiver + "/_state", timeout=10).json()


def pending(hub) -> float:  # type: ignore[no-untyped-def]
    for line in httpx.get(hub.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith('knutpunkt_deliveries{status="pending"}'):
            return float(line.split()[-1])
    return 0.0


@pytest.fixture(scope="module")
def delivered(hub, receiver):  # type: ignore[no-untyped-def]
    """The world loaded after the registry subscribed, and every delivery finished."""
    hub.put_all(organizations() + [registry_subscription("e2e-registry", receiver)])
    hub.put_all(world())
    expected = {"AllergyIntolerance/r2-a", "AllergyIntolerance/r2-b", "AllergyIntolerance/r3-a", "AllergyIntolerance/r4-a",
                "AllergyIntolerance/r5-a", "Patient/r2", "Patient/r3", "Patient/r4", "Patient/r5"}
    wait_for(lambda: expected <= set(state(receiver)["held"]) and pending(hub) == 0, what=f"delivery; hub log:\n{hub.log_tail()}")
    return hub


def test_registry_gets_permitted_data_and_never_an_opted_out_patient(delivered, receiver) -> None:  # type: ignore[no-untyped-def]
    st = state(receiver)
    assert not [e for e in st["log"] if "r1" in e["path"]]  # not the allergy, not the Patient, not ever
    held = st["held"]
    assert held["AllergyIntolerance/r3-a"]["id"] == "r3-a"  # the inner block does not stop the registry
    assert not {"address", "telecom", "contact"} & set(held["Patient/r4"])  # protected person masked
    assert {"address", "telecom"} <= set(held["Patient/r2"])
    puts = [e["path"] for e in st["log"] if e["method"] == "PUT"]
    assert len(puts) == len(set(puts))  # each resource once


def test_delivery_decisions_are_audited(delivered) -> None:  # type: ignore[no-untyped-def]
    with delivered.admin() as admin:
        bundle = admin.get("/fhir/AuditEvent", params={"patient": "Patient/r1", "_count": "1000"}).json()
    events = [e["resource"] for e in bundle.get("entry", [])]
    on_allergy = [ev for ev in events if any(x["what"]["reference"] == "AllergyIntolerance/r1-a" for x in ev["entity"])]
    assert on_allergy, events
    for ev in on_allergy:
        assert ev["outcome"] != "0" and ev["action"] == "E"
        assert ev["purposeOfEvent"][0]["coding"][0]["code"] == "HQUALIMP"
        assert {"reference": "Consent/r1-opt-out"} in [x["what"] for x in ev["entity"]]


def _deleted(receiver: str) -> set[str]:
    return {e["path"] for e in state(receiver)["log"] if e["method"] == "DELETE"}


def test_later_opt_out_retracts_every_delivered_resource(delivered, receiver) -> None:  # type: ignore[no-untyped-def]
    delivered.put_all([registry_opt_out("r2-opt-out", "r2")])  # every quality registry
    wanted = {"AllergyIntolerance/r2-a", "AllergyIntolerance/r2-b"}
    wait_for(lambda: wanted <= _deleted(receiver) and pending(delivered) == 0, timeout=15, what="retraction")
    held = set(state(receiver)["held"])
    assert not held & wanted
    assert "AllergyIntolerance/r5-a" in held and "Patient/r5" in held  # other patients untouched


def test_later_opt_out_retracts_the_patient_too(delivered, receiver) -> None:  # type: ignore[no-untyped-def]
    """PDL 7 kap.: on objection the registry erases the patient's data, the Patient included."""
    wait_for(lambda: "AllergyIntolerance/r2-a" in _deleted(receiver) and pending(delivered) == 0, timeout=15, what="retraction")
    assert "Patient/r2" in _deleted(receiver)
    assert "Patient/r2" not in state(receiver)["held"]


def _evaluate_registry(hub, patient_id: str, registry: str) -> dict[str, tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    params = [{"name": "patient", "valueReference": {"reference": f"Patient/{patient_id}"}},
              {"name": "purpose", "valueCode": "HQUALIMP"},
              {"name": "recipient", "valueReference": {"reference": f"Organization/{registry}"}}]
    with hub.client(hub.tokens.issue("support", "system/Consent.rs")) as support:
        r = support.post("/fhir/Consent/$evaluate", json={"resourceType": "Parameters", "parameter": params},
                         headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 200, r.text
    out = {}
    for p in r.json()["parameter"]:
        parts = {x["name"]: x for x in p["part"]}
        consents = [x["valueReference"]["reference"] for x in p["part"] if x["name"] == "consent"]
        out[parts["resource"]["valueReference"]["reference"]] = (parts["decision"]["valueCode"], consents)
    return out


def test_evaluate_explains_registry_decisions(delivered) -> None:  # type: ignore[no-untyped-def]
    assert _evaluate_registry(delivered, "r1", REGISTRY_ORG) == {
        "Patient/r1": ("deny", ["Consent/r1-opt-out"]), "AllergyIntolerance/r1-a": ("deny", ["Consent/r1-opt-out"])}
    assert _evaluate_registry(delivered, "r5", REGISTRY_ORG)["AllergyIntolerance/r5-a"] == ("permit", [])
    assert _evaluate_registry(delivered, "r5", "registry-hjarta")["AllergyIntolerance/r5-a"] == ("deny", ["Consent/r5-opt-out-hjarta"])


def _source_of(xml: bytes) -> tuple[str, str]:
    """(care giver, care unit) HSA-ids of a GetAlertInformation document's accountable professional."""
    from lxml import etree

    root = etree.fromstring(xml)
    giver = root.xpath("string(//*[local-name()='healthcareProfessionalCareGiverHSAId'])")
    unit = root.xpath("string(//*[local-name()='healthcareProfessionalCareUnitHSAId'])")
    assert giver and unit
    return str(giver), str(unit)


def test_ingested_alert_information_is_filtered_by_its_information_source(delivered) -> None:  # type: ignore[no-untyped-def]
    """Two GetAlertInformation documents of one patient from two care givers (examples/rivta)."""
    sources: dict[str, tuple[str, str]] = {}
    patients = set()
    with delivered.admin() as admin:
        for name in ("GetAlertInformation-196101182803-latex.xml", "GetAlertInformation-196101182803-obsolete-contrast.xml"):
            xml = (EXAMPLES / "rivta" / name).read_bytes()
            r = admin.post("/ingest/rivta-alert", content=xml, headers={"Content-Type": "application/xml"})
            assert r.status_code == 201, r.text
            # an already known Patient is linked without being shown to a caller who may not see it
            refs = [e["response"]["location"].split("/_history")[0] for e in r.json()["entry"] if "location" in e["response"]]
            [aid] = [ref.split("/")[1] for ref in refs if ref.startswith("AllergyIntolerance/")]
            patients |= {ref.split("/")[1] for ref in refs if ref.startswith("Patient/")}
            sources[aid] = _source_of(xml)
    assert len({g for g, _ in sources.values()}) == 2, sources  # the examples come from two care givers
    [pid] = patients
    for rid, (giver, unit) in sources.items():
        with delivered.reader(unit, care_giver=giver) as own, delivered.reader(unit, "ETREAT", care_giver=giver) as own_e:
            r = own.get("/fhir/AllergyIntolerance", params={"patient": f"Patient/{pid}"}).json()
            assert {e["resource"]["id"] for e in r.get("entry", [])} == {rid}  # the other care giver's is withheld
            r = own_e.get("/fhir/AllergyIntolerance", params={"patient": f"Patient/{pid}"}).json()
            assert {e["resource"]["id"] for e in r.get("entry", [])} == set(sources)


def _verify(hub) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, **(hub.env or {})}
    return subprocess.run([sys.executable, "-m", "hub", "audit", "verify"], env=env, capture_output=True, text=True, timeout=60,
                          cwd=hub.db.parent)


def test_audit_chain_verifies_and_detects_a_tampered_row(delivered) -> None:  # type: ignore[no-untyped-def]
    ok = _verify(delivered)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    db = sqlite3.connect(delivered.db, timeout=30)
    try:
        rid, content = db.execute(
            "SELECT rid, content FROM resource_version WHERE rtype = 'AuditEvent' AND current = 1 AND content LIKE '%\"outcome\":\"4\"%' LIMIT 1"
        ).fetchone()
        with db:  # a denial rewritten as a permit
            db.execute("UPDATE resource_version SET content = ? WHERE rtype = 'AuditEvent' AND rid = ?",
                       (content.replace('"outcome":"4"', '"outcome":"0"'), rid))
        broken = _verify(delivered)
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert rid in broken.stdout
        with db:
            db.execute("UPDATE resource_version SET content = ? WHERE rtype = 'AuditEvent' AND rid = ?", (content, rid))
    finally:
        db.close()
    assert _verify(delivered).returncode == 0
