"""One exception tree for the whole hub, mapped once to HTTP status and OperationOutcome.

Issue codes follow http://hl7.org/fhir/R4/valueset-issue-type.html.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: severity, code, human text and where (FHIRPath or source path)."""

    severity: str  # fatal | error | warning | information
    code: str  # issue-type code: invalid, structure, required, value, not-found, ...
    diagnostics: str
    expression: tuple[str, ...] = ()
    line: int | None = None
    column: int | None = None

    def to_fhir(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            out["expression"] = list(self.expression)
        if self.line is not None:
            out["extension"] = [
                {"url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line", "valueInteger": self.line},
            ]
            if self.column is not None:
                out["extension"].append(
                    {"url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col", "valueInteger": self.column}
                )
        return out


def operation_outcome(issues: list[Issue] | tuple[Issue, ...]) -> dict[str, Any]:
    """An OperationOutcome resource (dict) for the issues; an 'all ok' information issue when empty."""
    if not issues:
        issues = [Issue("information", "informational", "All OK")]
    return {"resourceType": "OperationOutcome", "issue": [i.to_fhir() for i in issues]}


class FhirError(Exception):
    """Base of every error the hub reports to a client. `status` is the HTTP status it maps to."""

    status: int = 500
    code: str = "exception"

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues: list[Issue] = list(issues) if issues else [Issue("error", self.code, message)]

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled whole (issues too) when it crosses a process boundary
        return (type(self), (self.message, self.issues))


class InvalidInput(FhirError):
    """Malformed or rule-breaking input (bad syntax, schema or Schematron violation): 400."""

    status, code = 400, "invalid"


class Unauthorized(FhirError):
    """No or invalid bearer token: 401."""

    status, code = 401, "login"


class Forbidden(FhirError):
    """Token lacks the scope: 403."""

    status, code = 403, "forbidden"


class NotFound(FhirError):
    """Unknown resource, type or version: 404."""

    status, code = 404, "not-found"


class MethodNotAllowed(FhirError):
    """Interaction not supported on this type: 405."""

    status, code = 405, "not-supported"


class Conflict(FhirError):
    """Version conflict or duplicate: 409."""

    status, code = 409, "conflict"


class Gone(FhirError):
    """The resource was deleted: 410."""

    status, code = 410, "deleted"


class PreconditionFailed(FhirError):
    """If-Match or conditional create precondition failed: 412."""

    status, code = 412, "conflict"


class PayloadTooLarge(FhirError):
    """Request body over the configured limit: 413."""

    status, code = 413, "too-costly"


class UnsupportedMediaType(FhirError):
    """Content-Type the hub cannot read: 415."""

    status, code = 415, "not-supported"


class Unprocessable(FhirError):
    """Well-formed but fails profile validation or business rules: 422."""

    status, code = 422, "processing"
