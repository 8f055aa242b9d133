"""Shared fixtures for adapter tests: source payloads and small Bundle accessors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    return lambda name: (FIXTURES / name).read_bytes()


@pytest.fixture
def example_bytes() -> Callable[[str], bytes]:
    return lambda name: (EXAMPLES / name).read_bytes()


@pytest.fixture
def of_type() -> Callable[[dict[str, Any], str], list[dict[str, Any]]]:
    def pick(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
        return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]

    return pick
