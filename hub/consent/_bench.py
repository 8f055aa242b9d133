"""Consent filter benchmarks for `knutpunkt bench`: decisions per second and a 100-resource search page.

Goals (issue 5): >= 200,000 decisions/s on one core with 20 directives per patient; <= 5 ms per 100.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from hub.consent._codes import (
    ACT_REASON_SYSTEM,
    BLOCK_TYPE_URL,
    CONSENT_SCOPE_SYSTEM,
    DIRECTIVE_SYSTEM,
    HSA_SYSTEM,
    INFORMATION_SOURCE_URL,
    INFORMATION_TYPE_SYSTEM,
    PARTICIPATION_SYSTEM,
)
from hub.consent._compile import compile_policy
from hub.consent._decide import decide, decide_many
from hub.consent._model import PatientPolicy, Requester

_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _hsa(n: int) -> str:
    return f"SE2321000016-{n:04d}"


def _actor(role: str, hsa: str, kind: str = "Organization") -> dict[str, Any]:
    return {
        "role": {"coding": [{"system": PARTICIPATION_SYSTEM, "code": role}]},
        "reference": {"type": kind, "identifier": {"system": HSA_SYSTEM, "value": hsa}},
    }


def _consent(cid: str, kind: str, provision: dict[str, Any], block_type: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {
        "resourceType": "Consent",
        "id": cid,
        "status": "active",
        "scope": {"coding": [{"system": CONSENT_SCOPE_SYSTEM, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": DIRECTIVE_SYSTEM, "code": kind}]}],
        "patient": {"reference": "Patient/bench"},
        "provision": provision,
    }
    if block_type:
        c["extension"] = [{"url": BLOCK_TYPE_URL, "valueCode": block_type}]
    return c


def bench_directives() -> list[dict[str, Any]]:
    """20 directives: 8 inner blocks, 4 outer blocks (dated, one with a revoke), 6 consents, 2 opt-outs."""
    out = []
    for i in range(8):
        out.append(_consent(f"inner-{i}", "block", {"type": "deny", "actor": [_actor("CST", _hsa(1100 + i))]},
                            "inner"))
    for i in range(4):
        prov: dict[str, Any] = {
            "type": "deny",
            "actor": [_actor("CST", _hsa(3000 + i * 100))],
            "dataPeriod": {"start": f"{2018 + i}-01-01", "end": f"{2019 + i}-06-30"},
            "provision": [{"type": "permit", "code": [{"coding": [{"system": INFORMATION_TYPE_SYSTEM, "code": "lak"}]}]}],
        }
        if i == 0:
            prov["provision"].append({"type": "permit", "actor": [_actor("IRCP", _hsa(2001))],
                                      "period": {"start": "2026-01-01", "end": "2026-12-31"}})
        out.append(_consent(f"outer-{i}", "block", prov, "outer"))
    for i in range(6):
        out.append(_consent(f"consent-{i}", "consent", {
            "type": "permit", "actor": [_actor("IRCP", _hsa(2001 + i))],
            "period": {"start": "2026-01-01", "end": "2027-01-01"}}))
    for i in range(2):
        prov = {"type": "deny", "purpose": [{"system": ACT_REASON_SYSTEM, "code": "HQUALIMP"}],
                "actor": [_actor("IRCP", _hsa(9001 + i))]}
        out.append(_consent(f"opt-out-{i}", "registry-opt-out", prov))
    return out


def bench_resources(n: int) -> list[dict[str, Any]]:
    """`n` AllergyIntolerances from a spread of care units and care givers, dated 2016-2025."""
    out = []
    for i in range(n):
        giver = 1000 if i % 3 == 0 else 3000 + (i % 4) * 100
        unit = 1100 + i % 10 if giver == 1000 else giver + 1 + i % 3
        out.append({
            "resourceType": "AllergyIntolerance",
            "id": f"a{i}",
            "extension": [{"url": INFORMATION_SOURCE_URL, "extension": [
                {"url": "careGiver", "valueIdentifier": {"system": HSA_SYSTEM, "value": _hsa(giver)}},
                {"url": "careUnit", "valueIdentifier": {"system": HSA_SYSTEM, "value": _hsa(unit)}},
                {"url": "informationType", "valueCode": "upp"},
            ]}],
            "code": {"text": "latex"},
            "patient": {"reference": "Patient/bench"},
            "recordedDate": f"{2016 + i % 10}-03-{1 + i % 28:02d}",
        })
    return out


def bench_requesters() -> list[Requester]:
    return [
        Requester(_hsa(1000), _hsa(1150), "SE2321000016-P001", "TREAT"),
        Requester(_hsa(1000), _hsa(1150), "SE2321000016-P001", "ETREAT"),
        Requester(_hsa(2000), _hsa(2001), "SE2321000016-P002", "TREAT"),
        Requester(_hsa(2000), _hsa(2099), "SE2321000016-P003", "TREAT"),
        Requester(None, None, None, "HQUALIMP", frozenset({(HSA_SYSTEM, _hsa(9001))})),
    ]


def _decisions_per_s(policy: PatientPolicy, resources: list[dict[str, Any]], seconds: float) -> float:
    requesters = bench_requesters()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for req in requesters:
            for res in resources:
                decide(policy, res, req, _NOW)
        count += len(requesters) * len(resources)
        if time.perf_counter() >= deadline:
            break
    return count / (time.perf_counter() - start)


def _filter_100_ms(policy: PatientPolicy, rounds: int) -> float:
    page = bench_resources(100)
    req = bench_requesters()[2]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        decide_many(policy, page, req, _NOW)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] * 1000.0


def run_bench(quick: bool) -> list[tuple[str, float, str]]:
    """(name, value, unit) per figure: consent_decisions_per_s, consent_filter_100_ms (median)."""
    policy = compile_policy(bench_directives())
    if not policy.readable:
        raise RuntimeError(f"benchmark directives unreadable: {policy.problem}")
    resources = bench_resources(50)
    return [
        ("consent_decisions_per_s", round(_decisions_per_s(policy, resources, 0.3 if quick else 2.0)), "1/s"),
        ("consent_filter_100_ms", round(_filter_100_ms(policy, 20 if quick else 200), 3), "ms"),
    ]
