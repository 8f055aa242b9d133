"""Builders for PDL Consent directives and clinical resources used by the consent tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

BASE = "https://knutpunkt.se/fhir"
HSA = "urn:oid:1.2.752.29.4.19"
ORGNR = "urn:oid:2.5.4.97"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"

# Two care givers with two care units each, two registries, two practitioners.
GIVER_A, UNIT_A1, UNIT_A2 = "SE2321000016-1000", "SE2321000016-1001", "SE2321000016-1002"
GIVER_B, UNIT_B1, UNIT_B2 = "SE2321000016-2000", "SE2321000016-2001", "SE2321000016-2002"
GIVER_OF = {UNIT_A1: GIVER_A, UNIT_A2: GIVER_A, UNIT_B1: GIVER_B, UNIT_B2: GIVER_B}
REGISTRY_HSA = {"R1": "SE2321000016-9001", "R2": "SE2321000016-9002"}
REGISTRY_ORGNR = {"R1": "2220009991", "R2": "2220009992"}
PRAC_1, PRAC_2 = "SE2321000016-5001", "SE2321000016-5002"

DAY0 = date(2025, 1, 1)


def day(n: int) -> str:
    return (DAY0 + timedelta(days=n)).isoformat()


def noon(n: int) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=n), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def organizations() -> dict[str, dict[str, Any]]:
    """Literal reference → Organization for every organisation of the test universe."""
    out: dict[str, dict[str, Any]] = {}
    for hsa in (GIVER_A, GIVER_B):
        out[f"Organization/{hsa}"] = {"resourceType": "Organization", "id": hsa,
                                      "identifier": [{"system": HSA, "value": hsa}]}
    for unit, giver in GIVER_OF.items():
        out[f"Organization/{unit}"] = {"resourceType": "Organization", "id": unit,
                                       "identifier": [{"system": HSA, "value": unit}],
                                       "partOf": {"reference": f"Organization/{giver}"}}
    for name in REGISTRY_HSA:
        out[f"Organization/{name}"] = {"resourceType": "Organization", "id": name, "identifier": [
            {"system": HSA, "value": REGISTRY_HSA[name]}, {"system": ORGNR, "value": REGISTRY_ORGNR[name]}]}
    return out


def org_ref(hsa_or_name: str, literal: bool = True) -> dict[str, Any]:
    if literal:
        return {"reference": f"Organization/{hsa_or_name}"}
    return {"type": "Organization", "identifier": {"system": HSA, "value": hsa_or_name}}


def prac_ref(hsa: str) -> dict[str, Any]:
    return {"type": "Practitioner", "identifier": {"system": HSA, "value": hsa}}


def actor(role: str, ref: dict[str, Any]) -> dict[str, Any]:
    return {"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                 "code": role}]}, "reference": ref}


def directive(cid: str, kind: str, provision: dict[str, Any], status: str = "active",
              block_type: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {
        "resourceType": "Consent",
        "id": cid,
        "status": status,
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": f"{BASE}/CodeSystem/pdl-directive", "code": kind}]}],
        "patient": {"reference": "Patient/p1"},
        "provision": provision,
    }
    if block_type:
        c["extension"] = [{"url": f"{BASE}/StructureDefinition/pdl-block-type", "valueCode": block_type}]
    return c


def block(cid: str, target: str, *, inner: bool, data_period: tuple[int, int] | None = None,
          excluded: tuple[str, ...] = (), revokes: tuple[tuple[str | None, str | None, int, int], ...] = (),
          status: str = "active", literal: bool = True) -> dict[str, Any]:
    """A block on `target` (care unit HSA-id if inner, care giver if outer); revokes are
    (care unit, practitioner, first day, last day)."""
    prov: dict[str, Any] = {"type": "deny", "actor": [actor("CST", org_ref(target, literal))]}
    if data_period is not None:
        prov["dataPeriod"] = {"start": day(data_period[0]), "end": day(data_period[1])}
    nested = []
    if excluded:
        nested.append({"type": "permit", "code": [{"coding": [
            {"system": f"{BASE}/CodeSystem/pdl-information-type", "code": c} for c in excluded]}]})
    for unit, prac, start, end in revokes:
        actors = ([actor("IRCP", org_ref(unit, literal))] if unit else []) + (
            [actor("IRCP", prac_ref(prac))] if prac else [])
        nested.append({"type": "permit", "actor": actors, "period": {"start": day(start), "end": day(end)}})
    if nested:
        prov["provision"] = nested
    return directive(cid, "block", prov, status, "inner" if inner else "outer")


def consent(cid: str, unit: str, *, practitioner: str | None = None, days: tuple[int, int] | None = None,
            status: str = "active", literal: bool = True) -> dict[str, Any]:
    actors = [actor("IRCP", org_ref(unit, literal))]
    if practitioner:
        actors.append(actor("IRCP", prac_ref(practitioner)))
    prov: dict[str, Any] = {"type": "permit", "actor": actors}
    if days is not None:
        prov["period"] = {"start": day(days[0]), "end": day(days[1])}
    return directive(cid, "consent", prov, status)


def opt_out(cid: str, registry: str | None = None, *, status: str = "active", by_orgnr: bool = False) -> dict[str, Any]:
    prov: dict[str, Any] = {"type": "deny", "purpose": [{"system": ACT_REASON, "code": "HQUALIMP"}]}
    if registry is not None:
        ref = ({"type": "Organization", "identifier": {"system": ORGNR, "value": REGISTRY_ORGNR[registry]}}
               if by_orgnr else org_ref(registry))
        prov["actor"] = [actor("IRCP", ref)]
    return directive(cid, "registry-opt-out", prov, status)


def allergy(giver: str | None, unit: str | None, *, itype: str | None = "upp", recorded: int | None = None,
            confidential: bool = False, rid: str = "a1") -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "AllergyIntolerance", "id": rid, "code": {"text": "latex"},
                         "patient": {"reference": "Patient/p1"}}
    if giver or unit:
        subs = []
        if giver:
            subs.append({"url": "careGiver", "valueIdentifier": {"system": HSA, "value": giver}})
        if unit:
            subs.append({"url": "careUnit", "valueIdentifier": {"system": HSA, "value": unit}})
        if itype:
            subs.append({"url": "informationType", "valueCode": itype})
        r["extension"] = [{"url": f"{BASE}/StructureDefinition/information-source", "extension": subs}]
    if recorded is not None:
        r["recordedDate"] = day(recorded)
    if confidential:
        r["meta"] = {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                                   "code": "V"}]}
    return r


def patient(*labels: str) -> dict[str, Any]:
    p: dict[str, Any] = {
        "resourceType": "Patient", "id": "p1",
        "identifier": [{"system": "http://electronichealth.se/identifier/personnummer", "value": "200001252386"}],
        "name": [{"family": "Testsson", "given": ["Tilda"]}],
        "telecom": [{"system": "phone", "value": "+46701234567"}],
        "address": [{"line": ["Hemliga gatan 1"], "city": "Norrstad"}],
        "contact": [{"name": {"family": "Testsson"}}],
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Hemliga gatan 1</div>"},
    }
    if labels:
        p["meta"] = {"security": [{"system": "http://hl7.se/fhir/ig/base/CodeSystem/security-labels", "code": c}
                                  for c in labels]}
    return p
