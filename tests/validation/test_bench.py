"""The benchmark workload: every injected error is found and valid resources raise none."""

from __future__ import annotations

import orjson

from hub.validation import Validator
from hub.validation._bench import INJECTIONS, check_detection, workload


def test_workload_shape() -> None:
    items = workload(200)
    assert sum(1 for _, k in items if k) == 20
    assert {k for _, k in items if k} == set(INJECTIONS)
    sizes = [len(orjson.dumps(r)) for r, k in items if not k]
    assert 1100 <= sum(sizes) / len(sizes) <= 1600


def test_injected_errors_found_without_false_errors(validator: Validator) -> None:
    assert check_detection(validator, workload(400)) == (0, 0)
