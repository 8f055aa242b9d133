"""Runs the HL7 fhir-test-cases subset (`../shared/conformance/fhir-test-cases-r4/`) and scores agreement
with the reference validator's error counts (conformance/README.md)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CaseResult:
    file: str
    expected: int
    found: int

    @property
    def agrees(self) -> bool:
        return (self.expected > 0) == (self.found > 0)


def conformance_dir() -> Path | None:
    """`KNUTPUNKT_CONFORMANCE_DIR`, else `<repo>/../shared/conformance/fhir-test-cases-r4`; None when absent."""
    env = os.environ.get("KNUTPUNKT_CONFORMANCE_DIR")
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parents[2]
    candidates.append(repo.parent / "shared" / "conformance" / "fhir-test-cases-r4")
    candidates.append(Path.cwd().parent / "shared" / "conformance" / "fhir-test-cases-r4")
    for c in candidates:
        if (c / "expected.json").is_file():
            return c
    return None


def run_conformance(directory: Path) -> list[CaseResult]:
    from hub.validation import Validator
    from hub.validation._syntax import parse

    validator = Validator()
    out: list[CaseResult] = []
    for case in json.loads((directory / "expected.json").read_text(encoding="utf-8")):
        f = directory / "cases" / case["file"]
        fmt = "xml" if f.suffix == ".xml" else "json"
        resource, issues = parse(f.read_bytes(), fmt)
        if resource is not None:
            issues = issues + validator.validate(resource)
        found = sum(1 for i in issues if i.severity in ("error", "fatal"))
        out.append(CaseResult(case["file"], int(case["expected_errors"]), found))
    return out


def agreement(results: list[CaseResult]) -> tuple[float, float]:
    """(valid/invalid agreement %, exact error-count agreement %)."""
    if not results:
        return 0.0, 0.0
    n = len(results)
    return 100.0 * sum(r.agrees for r in results) / n, 100.0 * sum(r.expected == r.found for r in results) / n
