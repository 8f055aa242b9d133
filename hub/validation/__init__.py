"""Profile validation of FHIR R4 resources: base structure (from the R4B models), invariants, references,
StructureDefinitions from `profiles/` and FHIR packages. Spec: http://hl7.org/fhir/R4/validation.html

`validate_resource` and `validate_bytes` use the process-wide `default_validator()`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from hub.fhir.errors import Issue
from hub.validation._validator import Validator

__all__ = ["Issue", "Validator", "default_validator", "has_errors", "validate_bytes", "validate_resource"]


@lru_cache(maxsize=1)
def default_validator() -> Validator:
    """The process-wide Validator with the project's profiles (`hub.paths.profiles_dir()`) loaded."""
    from hub.paths import profiles_dir

    v = Validator()
    d = profiles_dir()
    if d.is_dir():
        v.load_directory(d)
    return v


def validate_resource(resource: dict[str, Any], profile: str | None = None) -> list[Issue]:
    """Issues for a resource dict: base spec, its known `meta.profile` entries and `profile` if given."""
    return default_validator().validate(resource, profile)


def validate_bytes(data: bytes, fmt: str = "json", profile: str | None = None) -> tuple[dict[str, Any] | None, list[Issue]]:
    """Parse FHIR JSON or XML and validate it; syntax errors carry line/column. Returns (resource, issues)."""
    from hub.validation._syntax import parse

    resource, issues = parse(data, fmt)
    if resource is None:
        return None, issues
    return resource, issues + default_validator().validate(resource, profile)


def has_errors(issues: list[Issue]) -> bool:
    """True when any issue is an error or fatal."""
    return any(i.severity in ("error", "fatal") for i in issues)
