"""Agreement with the HL7 reference validator on the fhir-test-cases subset (conformance/README.md)."""

from __future__ import annotations

import pytest

from hub.validation._conformance import agreement, conformance_dir, run_conformance

REACHED_AGREEMENT_PCT = 96.0  # the figure this validator reaches; raise it when rules improve


@pytest.mark.skipif(conformance_dir() is None, reason="conformance data not present")
def test_conformance_agreement() -> None:
    d = conformance_dir()
    assert d is not None
    results = run_conformance(d)
    assert len(results) >= 40
    agree, exact = agreement(results)
    assert agree >= REACHED_AGREEMENT_PCT, [r for r in results if not r.agrees]
    assert exact >= 74.0
