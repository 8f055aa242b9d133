"""Pure FHIR domain helpers: the error tree, OperationOutcome, formats. No I/O."""

from hub.fhir.errors import (
    Conflict,
    FhirError,
    Forbidden,
    Gone,
    InvalidInput,
    Issue,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
    operation_outcome,
)

__all__ = [
    "Conflict",
    "FhirError",
    "Forbidden",
    "Gone",
    "InvalidInput",
    "Issue",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedMediaType",
    "operation_outcome",
]
