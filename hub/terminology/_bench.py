"""Terminology benchmarks for `knutpunkt bench`: $validate-code rate, $expand time, index memory.

Measured in-process on a generated 50,000-concept code system (a tree, 10 children per node) and a
value set including the whole system. `validate_code_per_s` repeats 10,000 distinct codes (as a validator
does; answers are memoised per value set), `validate_code_cold_per_s` asks each code once. Goals: ≥200,000 validations/s, expansion <200 ms, <100 MB.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
import tracemalloc
from typing import Any

from hub.terminology._local import LocalTerminologyService

SYSTEM = "https://knutpunkt.se/fhir/CodeSystem/bench-50k"
VALUESET = "https://knutpunkt.se/fhir/ValueSet/bench-50k"
SIZE = 50_000


def generated_codesystem(size: int = SIZE) -> dict[str, Any]:
    """A flat concept list with `parent` properties forming a 10-ary tree (codes C0 … C{size-1})."""
    concepts = []
    for i in range(size):
        c: dict[str, Any] = {"code": f"C{i}", "display": f"Generated concept number {i}"}
        if i:
            c["property"] = [{"code": "parent", "valueCode": f"C{(i - 1) // 10}"}]
        concepts.append(c)
    return {"resourceType": "CodeSystem", "url": SYSTEM, "status": "active", "content": "complete", "concept": concepts}


def generated_valueset() -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": VALUESET, "status": "active", "compose": {"include": [{"system": SYSTEM}]}}


def _memory_mb() -> tuple[float, float]:
    """(retained MB after loading and dropping the source dict, peak MB while loading)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        svc = LocalTerminologyService()
        cs = generated_codesystem()
        svc.register(cs)
        svc.register(generated_valueset())
        svc.compiled(VALUESET)
        del cs
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del svc
    return (current - base) / 1e6, (peak - base) / 1e6


def run_bench(quick: bool) -> list[tuple[str, float, str]]:
    """[(name, value, unit)]: validate_code_per_s, expand_50k_ms, codesystem_50k_mb."""
    svc = LocalTerminologyService()
    svc.register(generated_codesystem())
    svc.register(generated_valueset())
    t0 = time.perf_counter()
    svc.validate_code(VALUESET, SYSTEM, "C1")  # compiles the value set
    compile_ms = (time.perf_counter() - t0) * 1000
    rng = random.Random(4)
    n = 50_000 if quick else 500_000
    codes = [f"C{rng.randrange(SIZE + SIZE // 10)}" for _ in range(10_000)]  # ~9 % not members
    calls = [codes[i % len(codes)] for i in range(n)]
    validate = svc.validate_code
    t0 = time.perf_counter()
    for code in calls:
        validate(VALUESET, SYSTEM, code)
    rate = n / (time.perf_counter() - t0)
    compiled = svc.compiled(VALUESET)
    assert compiled is not None
    cold = [f"C{i}" for i in range(SIZE + SIZE // 10)]
    rng.shuffle(cold)
    compiled.results.clear()
    t0 = time.perf_counter()
    for code in cold:  # every code seen for the first time: no memo
        validate(VALUESET, SYSTEM, code)
    cold_rate = len(cold) / (time.perf_counter() - t0)
    runs = []
    for _ in range(3 if quick else 10):
        t0 = time.perf_counter()
        svc.expand(VALUESET)
        runs.append((time.perf_counter() - t0) * 1000)
    retained, peak = _memory_mb()
    return [
        ("validate_code_per_s", round(rate), "1/s"),
        ("validate_code_cold_per_s", round(cold_rate), "1/s"),
        ("expand_50k_ms", round(statistics.median(runs), 1), "ms"),
        ("expand_50k_compile_ms", round(compile_ms, 1), "ms"),
        ("codesystem_50k_mb", round(retained, 1), "MB"),
        ("codesystem_50k_peak_mb", round(peak, 1), "MB"),
    ]


if __name__ == "__main__":
    for name, value, unit in run_bench(quick=False):
        print(f"{name}: {value} {unit}")
