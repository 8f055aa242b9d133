"""The public API of hub.validation is pinned: callers (ingest, REST, $validate) rely on these names."""

from __future__ import annotations

import inspect

import hub.validation as v
from hub.fhir.errors import Issue


def test_public_names() -> None:
    assert v.__all__ == ["Issue", "Validator", "default_validator", "has_errors", "validate_bytes", "validate_resource"]


def test_signatures() -> None:
    assert list(inspect.signature(v.validate_resource).parameters) == ["resource", "profile"]
    assert list(inspect.signature(v.validate_bytes).parameters) == ["data", "fmt", "profile"]
    assert v.default_validator() is v.default_validator()


def test_issue_type_and_expression(allergy: dict) -> None:
    allergy["reaction"][0]["severity"] = "x"
    issues = v.validate_resource(allergy)
    assert all(isinstance(i, Issue) for i in issues)
    assert issues[0].expression == ("AllergyIntolerance.reaction[0].severity",)
    assert v.has_errors(issues) and not v.has_errors([])


def test_profile_urls_lists_resource_profiles() -> None:
    urls = v.default_validator().profile_urls()
    base = "https://knutpunkt.se/fhir/StructureDefinition/"
    assert [base + n for n in ("pdl-consent", "se-allergyintolerance", "se-patient")] == [u for u in urls if u.startswith(base)]
