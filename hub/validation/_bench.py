"""Validator figures for `knutpunkt bench`: validate_per_s on a Swedish AllergyIntolerance NDJSON workload
(the `validate --format summary` path, one process), and agreement with the HL7 reference validator on the
conformance cases (conformance/README.md)."""

from __future__ import annotations

import copy
import random
import tempfile
import time
from pathlib import Path
from typing import Any

Figure = tuple[str, float, str]
PROFILE = "https://knutpunkt.se/fhir/StructureDefinition/se-allergyintolerance"
HSA = "urn:oid:1.2.752.29.4.19"
INJECTIONS = ("missing-patient", "bad-criticality", "impossible-date", "wrong-primitive-type")
_SUBSTANCES = [("373568007", "Klorhexidin"), ("111088007", "Latex"), ("764146007", "Penicillin"),
               ("227493005", "Cashewnöt"), ("256259004", "Pollen")]
_PATIENTS = ["195009072553", "196101182803", "199002222397", "200001252386", "191212121212"]


def make_allergy(i: int, rnd: random.Random) -> dict[str, Any]:
    """A realistic se-allergyintolerance instance (~1.3 KB as JSON)."""
    code, text = _SUBSTANCES[i % len(_SUBSTANCES)]
    unit = f"SE2321000016-E{rnd.randint(100, 999)}"
    return {
        "resourceType": "AllergyIntolerance",
        "id": f"ai-{i}",
        "meta": {"profile": [PROFILE]},
        "extension": [{
            "url": "https://knutpunkt.se/fhir/StructureDefinition/information-source",
            "extension": [
                {"url": "careGiver", "valueIdentifier": {"system": HSA, "value": "SE2321000016-0001"}},
                {"url": "careUnit", "valueIdentifier": {"system": HSA, "value": unit}},
                {"url": "informationType", "valueCode": "upp"},
            ],
        }],
        "identifier": [{"system": "urn:oid:1.2.752.129.2.1.2.1", "value": f"{unit}:doc-{i:08d}"}],
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                       "code": "active"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
            "code": "confirmed"}]},
        "type": "allergy",
        "category": ["medication" if i % 3 == 0 else "environment"],
        "criticality": "high" if i % 2 else "low",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": text}], "text": text},
        "patient": {"reference": f"Patient/pat-{_PATIENTS[i % len(_PATIENTS)]}"},
        "onsetDateTime": f"20{10 + i % 14:02d}-0{1 + i % 9}-1{i % 10}",
        "recordedDate": f"2024-0{1 + i % 9}-1{i % 10}T10:{i % 60:02d}:00+01:00",
        "recorder": {"reference": f"Practitioner/hsa-{rnd.randint(1000, 9999)}"},
        "note": [{"text": "Reaktion vid tidigare exponering."}],
        "reaction": [{
            "manifestation": [{"coding": [{"system": "http://snomed.info/sct", "code": "39579001",
                                           "display": "Anafylaxi"}]}],
            "severity": "severe",
        }],
    }


def inject(res: dict[str, Any], kind: str) -> dict[str, Any]:
    """One error of the given kind (see INJECTIONS)."""
    res = copy.deepcopy(res)
    if kind == "missing-patient":
        del res["patient"]
    elif kind == "bad-criticality":
        res["criticality"] = "severe"
    elif kind == "impossible-date":
        res["onsetDateTime"] = "2023-02-30"
    elif kind == "wrong-primitive-type":
        res["reaction"][0]["manifestation"][0]["coding"][0]["code"] = 39579001
    return res


def workload(n: int, seed: int = 7) -> list[tuple[dict[str, Any], str | None]]:
    rnd = random.Random(seed)
    out: list[tuple[dict[str, Any], str | None]] = []
    for i in range(n):
        res = make_allergy(i, rnd)
        if i % 10 == 9:
            kind = INJECTIONS[(i // 10) % len(INJECTIONS)]
            out.append((inject(res, kind), kind))
        else:
            out.append((res, None))
    return out


def check_detection(validator: Any, items: list[tuple[dict[str, Any], str | None]]) -> tuple[int, int]:
    """(injected errors missed, false errors on valid resources)."""
    missed = false = 0
    for res, kind in items:
        errors = [i for i in validator.validate(res) if i.severity in ("error", "fatal")]
        if kind is None:
            false += bool(errors)
        else:
            missed += not errors
    return missed, false


def run_bench(quick: bool) -> list[Figure]:
    import orjson

    from hub.cli.validate import run
    from hub.validation import default_validator

    n = 5_000 if quick else 50_000
    items = workload(n)
    validator = default_validator()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "allergies.ndjson"
        path.write_bytes(b"\n".join(orjson.dumps(r) for r, _ in items) + b"\n")
        out: list[str] = []
        run(validator, [path], None, "summary", out.append)  # warm-up: compile profiles, import models
        out.clear()
        t0 = time.process_time()  # CPU time of this one thread: throughput on one core, not wall clock
        run(validator, [path], None, "summary", out.append)
        elapsed = time.process_time() - t0
    missed, false = check_detection(validator, items[: min(n, 5_000)])
    expected_invalid = sum(1 for _, k in items if k)
    figures: list[Figure] = [
        ("validate_per_s", n / elapsed, "resources/s"),
        ("validate_injected_missed", float(missed), "resources"),
        ("validate_false_errors", float(false), "resources"),
        ("validate_summary_invalid_ok", 1.0 if out and out[0].startswith(f"{n} resources, {expected_invalid} invalid") else 0.0, "bool"),
    ]
    from hub.validation._conformance import agreement, conformance_dir, run_conformance

    d = conformance_dir()
    if d is not None:
        agree, exact = agreement(run_conformance(d))
        figures += [("conformance_agreement_pct", agree, "%"), ("conformance_exact_pct", exact, "%")]
    return figures
