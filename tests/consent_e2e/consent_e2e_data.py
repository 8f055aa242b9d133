"""The world of the consent end-to-end tests: organisations, patients, allergies and PDL directives as FHIR
JSON, and a small HTTP client for a hub process (domain.md section 5; contract.md HTTP API)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from hub.auth import TokenService

BASE = "https://knutpunkt.se/fhir"
HSA = "urn:oid:1.2.752.29.4.19"
PNR = "http://electronichealth.se/identifier/personnummer"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Care givers and their care units. Norr and Syd come from examples/consents; Väst has no directives at all.
CG_NORR, CU_AKUTEN, CU_ALLERGI, CU_NORR_VC = "SE2321000016-1000", "SE2321000016-1001", "SE2321000016-1002", "SE2321000016-1003"
CG_SYD, CU_SYD_VC = "SE2321000016-2000", "SE2321000016-2001"
CG_VAST, CU_VAST = "SE2321000016-3000", "SE2321000016-3001"
GIVER_OF = {CU_AKUTEN: CG_NORR, CU_ALLERGI: CG_NORR, CU_NORR_VC: CG_NORR, CU_SYD_VC: CG_SYD, CU_VAST: CG_VAST}
ORG_ID = {  # HSA-id → Organization id in the hub
    CG_NORR: "cg-region-norr", CU_AKUTEN: "cu-norr-akuten", CU_ALLERGI: "cu-norr-allergi", CU_NORR_VC: "cu-norr-vc",
    CG_SYD: "cg-region-syd", CU_SYD_VC: "cu-syd-vardcentral", CG_VAST: "cg-region-vast", CU_VAST: "cu-vast",
}
REGISTRY_ORG = "registry-allergi"
CLINICAL_SCOPE = "system/Patient.rs system/AllergyIntolerance.rs"
#: AuditEvent and Consent reads need a scope naming the type (a wildcard is not enough).
ADMIN_SCOPE = "system/*.cruds system/AuditEvent.rs system/Consent.rs"


def personnummer(birth: str, serial: int) -> str:
    """A valid 12-digit personnummer for birth date YYYYMMDD and a 3-digit serial (Luhn over YYMMDDNNN)."""
    body = birth[2:] + f"{serial:03d}"
    total = 0
    for i, ch in enumerate(body):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return birth + f"{serial:03d}" + str((10 - total % 10) % 10)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = datetime.now(UTC)
YESTERDAY, TOMORROW, NEXT_YEAR = iso(NOW - timedelta(days=1)), iso(NOW + timedelta(days=1)), iso(NOW + timedelta(days=365))
LAST_WEEK = iso(NOW - timedelta(days=7))


def organization(hsa: str) -> dict[str, Any]:
    org: dict[str, Any] = {"resourceType": "Organization", "id": ORG_ID[hsa], "active": True,
                           "identifier": [{"system": HSA, "value": hsa}], "name": ORG_ID[hsa]}
    if hsa in GIVER_OF:
        org["partOf"] = {"reference": f"Organization/{ORG_ID[GIVER_OF[hsa]]}"}
    return org


def organizations() -> list[dict[str, Any]]:
    """The example organisations (examples/consents) plus the ones only these tests use."""
    out = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((EXAMPLES / "consents").glob("Organization-*.json"))]
    have = {o["id"] for o in out}
    return out + [organization(h) for h, oid in ORG_ID.items() if oid not in have]


def patient(pid: str, pnr: str, *, security: list[dict[str, str]] | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Patient", "id": pid,
        "meta": {"profile": [f"{BASE}/StructureDefinition/se-patient"]},
        "identifier": [{"system": PNR, "value": pnr}],
        "name": [{"family": "Testsson", "given": [pid]}],
        "gender": "female",
        "birthDate": f"{pnr[:4]}-{pnr[4:6]}-{pnr[6:8]}",
        "telecom": [{"system": "phone", "value": "+46701234567"}],
        "address": [{"line": ["Hemliga gatan 1"], "city": "Norrstad", "postalCode": "90000"}],
        "contact": [{"name": {"family": "Anhörig"}, "telecom": [{"system": "phone", "value": "+46707654321"}]}],
    }
    if security:
        res["meta"]["security"] = security
    return res


def allergy(aid: str, pid: str, unit: str, *, itype: str = "upp", recorded: str = "2024-03-15T10:20:00+01:00",
            text: str = "Penicillin", security: list[dict[str, str]] | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance", "id": aid,
        "meta": {"profile": [f"{BASE}/StructureDefinition/se-allergyintolerance"]},
        "extension": [{
            "url": f"{BASE}/StructureDefinition/information-source",
            "extension": [
                {"url": "careGiver", "valueIdentifier": {"system": HSA, "value": GIVER_OF[unit]}},
                {"url": "careUnit", "valueIdentifier": {"system": HSA, "value": unit}},
                {"url": "informationType", "valueCode": itype},
            ],
        }],
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed"}]},
        "category": ["medication"],
        "criticality": "high",
        "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "J01CE02", "display": "fenoximetylpenicillin"}], "text": text},
        "patient": {"reference": f"Patient/{pid}"},
        "recordedDate": recorded,
    }
    if security:
        res["meta"]["security"] = security
    return res


def _consent(cid: str, pid: str, directive: str, provision: dict[str, Any], *, block_type: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Consent", "id": cid,
        "meta": {"profile": [f"{BASE}/StructureDefinition/pdl-consent"]},
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": f"{BASE}/CodeSystem/pdl-directive", "code": directive}]}],
        "patient": {"reference": f"Patient/{pid}"},
        "dateTime": LAST_WEEK,
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                   "code": "OPTIN" if provision["type"] == "permit" else "OPTOUT"}]},
        "provision": provision,
    }
    if block_type:
        res["extension"] = [{"url": f"{BASE}/StructureDefinition/pdl-block-type", "valueCode": block_type}]
    return res


def _actor(role: str, ref: str) -> dict[str, Any]:
    return {"role": {"coding": [{"system": PARTICIPATION, "code": role}]}, "reference": {"reference": ref}}


def block(cid: str, pid: str, hsa: str, *, data_period: tuple[str, str] | None = None, exclude: tuple[str, ...] = (),
          revokes: tuple[tuple[str, str, str], ...] = ()) -> dict[str, Any]:
    """A block (spärr) on a care unit (inner) or care giver (outer); `revokes` = (unit HSA, start, end)."""
    prov: dict[str, Any] = {"type": "deny", "actor": [_actor("CST", f"Organization/{ORG_ID[hsa]}")]}
    if data_period:
        prov["dataPeriod"] = {"start": data_period[0], "end": data_period[1]}
    nested = []
    if exclude:
        nested.append({"type": "permit", "code": [{"coding": [{"system": f"{BASE}/CodeSystem/pdl-information-type", "code": c}]} for c in exclude]})
    for unit, start, end in revokes:
        nested.append({"type": "permit", "actor": [_actor("IRCP", f"Organization/{ORG_ID[unit]}")], "period": {"start": start, "end": end}})
    if nested:
        prov["provision"] = nested
    return _consent(cid, pid, "block", prov, block_type="outer" if hsa in (CG_NORR, CG_SYD, CG_VAST) else "inner")


def consent(cid: str, pid: str, unit: str, start: str = LAST_WEEK, end: str = NEXT_YEAR) -> dict[str, Any]:
    """Samtycke to direct access for a care unit of another care giver."""
    return _consent(cid, pid, "consent", {"type": "permit", "actor": [_actor("IRCP", f"Organization/{ORG_ID[unit]}")],
                                          "period": {"start": start, "end": end}})


def registry_opt_out(cid: str, pid: str, registry_org: str | None = None) -> dict[str, Any]:
    prov: dict[str, Any] = {"type": "deny", "purpose": [{"system": ACT_REASON, "code": "HQUALIMP"}]}
    if registry_org:
        prov["actor"] = [_actor("IRCP", f"Organization/{registry_org}")]
    return _consent(cid, pid, "registry-opt-out", prov)


def registry_subscription(sid: str, endpoint: str) -> dict[str, Any]:
    return {
        "resourceType": "Subscription", "id": sid, "status": "active",
        "reason": "Kvalitetsregister för allergi (test)", "criteria": "AllergyIntolerance",
        "channel": {"type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json"},
        "extension": [
            {"url": f"{BASE}/StructureDefinition/subscription-purpose", "valueCoding": {"system": ACT_REASON, "code": "HQUALIMP"}},
            {"url": f"{BASE}/StructureDefinition/subscription-recipient", "valueReference": {"reference": f"Organization/{REGISTRY_ORG}"}},
        ],
    }


@dataclass
class HubClient:
    """HTTP access to a running hub: one admin client, plus clients acting for a care unit."""

    url: str
    tokens: TokenService

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}, timeout=30)

    def admin(self) -> httpx.Client:
        return self.client(self.tokens.issue("e2e-admin", ADMIN_SCOPE))

    def reader(self, unit: str, purpose: str = "TREAT", *, sub: str = "e2e-user", scope: str = CLINICAL_SCOPE,
               care_giver: str | None = None) -> httpx.Client:
        """A clinician at care unit `unit` (its care giver looked up unless given)."""
        giver = care_giver or GIVER_OF[unit]
        return self.client(self.tokens.issue(sub, scope, care_giver=giver, care_unit=unit, purpose=purpose))

    def put_all(self, resources: list[dict[str, Any]]) -> None:
        with self.admin() as c:
            for res in resources:
                r = c.put(f"/fhir/{res['resourceType']}/{res['id']}", json=res, headers={"Content-Type": "application/fhir+json"})
                assert r.status_code in (200, 201), f"PUT {res['resourceType']}/{res['id']}: {r.status_code} {r.text[:800]}"


def visible_ids(c: httpx.Client, patient_id: str) -> set[str]:
    """Ids of the AllergyIntolerances the client's search for the patient returns (asserting no total)."""
    r = c.get("/fhir/AllergyIntolerance", params={"patient": f"Patient/{patient_id}"})
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert "total" not in bundle
    return {e["resource"]["id"] for e in bundle.get("entry", [])}


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
