"""Read-path consent figure: latency the consent filter (decide + mask + audit) adds to a 100-resource
search, against the same SQL search without the filter, measured in the same run."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

Figure = tuple[str, float, str]
CG, CU = "SE2321000016-0001", "SE2321000016-E001"


def _source(unit: str) -> dict:
    hsa = "urn:oid:1.2.752.29.4.19"
    return {"url": "https://knutpunkt.se/fhir/StructureDefinition/information-source", "extension": [
        {"url": "careGiver", "valueIdentifier": {"system": hsa, "value": CG}},
        {"url": "careUnit", "valueIdentifier": {"system": hsa, "value": unit}},
        {"url": "informationType", "valueCode": "upp"}]}


def _block(pid: str, unit: str, i: int) -> dict:
    return {
        "resourceType": "Consent", "id": f"b-{pid}-{i}", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "https://knutpunkt.se/fhir/CodeSystem/pdl-directive", "code": "block"}]}],
        "patient": {"reference": f"Patient/{pid}"},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
        "extension": [{"url": "https://knutpunkt.se/fhir/StructureDefinition/pdl-block-type", "valueCode": "inner"}],
        "provision": {"type": "deny", "actor": [{
            "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "CST"}]},
            "reference": {"identifier": {"system": "urn:oid:1.2.752.29.4.19", "value": unit}}}]},
    }


def run_bench(quick: bool) -> list[Figure]:
    from hub.auth import Claims
    from hub.interactions import Caller, search
    from hub.settings import Settings
    from hub.store import parse_query
    from hub.wiring import build_hub

    rounds = 20 if quick else 100
    with tempfile.TemporaryDirectory() as d:
        hub = build_hub(Settings(database_url=f"sqlite:///{Path(d) / 'r.db'}", key_file=str(Path(d) / "k.pem")))
        with hub.store.transaction() as s:
            pid = "p1"
            hub.store.update(s, {"resourceType": "Patient", "id": pid})
            for i in range(20):  # 20 directives: blocks on other units of the same care giver
                hub.store.update(s, _block(pid, f"SE2321000016-X{i:03d}", i))
            for i in range(100):
                hub.store.update(s, {"resourceType": "AllergyIntolerance", "id": f"a{i}", "patient": {"reference": f"Patient/{pid}"},
                                     "code": {"text": f"allergen {i}"}, "extension": [_source(CU if i % 2 else f"SE2321000016-X{i % 20:03d}")]})
        caller = Caller(Claims("bench", ("system/*.rs",), CG, CU, "TREAT"))
        pairs = [("patient", "Patient/p1"), ("_count", "100")]
        filtered, bare = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            with hub.store.transaction() as s:
                hub.store.search(s, parse_query("AllergyIntolerance", pairs))
            bare.append(time.perf_counter() - t)
            t = time.perf_counter()
            result = search(hub, caller, "AllergyIntolerance", pairs)
            filtered.append(time.perf_counter() - t)
        shown = len(result.body["entry"])  # type: ignore[index]
    added = statistics.median(filtered) - statistics.median(bare)
    return [
        ("read_filter_100_added_ms", added * 1000, f"ms (median; {shown} of 100 released; decide + audit 100 decisions)"),
        ("read_search_100_bare_ms", statistics.median(bare) * 1000, "ms (same SQL search, no filter: baseline)"),
    ]
