"""Shared fixtures for the validator tests: a fresh Validator with the project's profiles."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from hub.paths import examples_dir, profiles_dir  # noqa: F401
from hub.validation import Validator, default_validator


@pytest.fixture(scope="session")
def validator() -> Validator:
    return default_validator()


@pytest.fixture()
def allergy() -> dict[str, Any]:
    data = json.loads((profiles_dir() / "examples" / "se-allergyintolerance-valid.json").read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def errors(issues: list[Any]) -> list[Any]:
    return [i for i in issues if i.severity in ("error", "fatal")]


def error_paths(issues: list[Any]) -> list[str]:
    return [e for i in errors(issues) for e in i.expression]
