"""The public surface of hub.consent (pinned so internals never leak) and the benchmark entry point."""

from __future__ import annotations

import dataclasses

import pytest

import hub.audit
import hub.consent
from hub.consent import Decision, Requester
from hub.consent._bench import run_bench


def test_public_api_is_pinned() -> None:
    assert hub.consent.__all__ == [
        "Decision", "PatientPolicy", "Requester", "Rule", "compile_policy", "decide", "decide_many", "mask"]
    assert hub.audit.__all__ == [
        "CONSENT_RULE_URL", "EMERGENCY_ACCESS_URL", "GENESIS_HASH", "build_audit_event", "canonical_json",
        "chain_hash", "verify_chain"]


def test_value_types_are_frozen() -> None:
    d = Decision(True, "consent")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.permit = False  # type: ignore[misc]
    r = Requester("g", "u", None, "TREAT")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.purpose = "ETREAT"  # type: ignore[misc]
    assert r.organization == frozenset()


def test_bench_reports_both_figures() -> None:
    figures = run_bench(quick=True)
    assert [(name, unit) for name, _, unit in figures] == [
        ("consent_decisions_per_s", "1/s"), ("consent_filter_100_ms", "ms")]
    assert all(value > 0 for _, value, _ in figures)
