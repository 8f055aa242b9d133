"""The terminology service: CodeSystem/ValueSet/ConceptMap loaded from `terminology/` and FHIR packages.

Other layers call the `TerminologyService` protocol; `default_service()` returns the local implementation.
"""

from hub.terminology._protocol import LookupResult, TerminologyService, TranslateMatch, ValidateCodeResult

__all__ = ["LookupResult", "TerminologyService", "TranslateMatch", "ValidateCodeResult", "default_service"]


def default_service() -> TerminologyService:
    """The process-wide local terminology service (loaded once from the project's `terminology/` data)."""
    from hub.terminology._local import default_local_service

    return default_local_service()
