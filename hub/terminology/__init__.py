"""The terminology service: CodeSystem/ValueSet/ConceptMap loaded from `terminology/` and FHIR packages.

Other layers call the `TerminologyService` protocol; `default_service()` returns the local implementation
(`LocalTerminologyService`, which also offers `register`, `unregister`, `load_package`, `load_path`).
"""

from hub.terminology._local import LocalTerminologyService, build_local_service
from hub.terminology._null import NullTerminologyService
from hub.terminology._protocol import LookupResult, TerminologyService, TranslateMatch, ValidateCodeResult

__all__ = [
    "LocalTerminologyService",
    "LookupResult",
    "NullTerminologyService",
    "TerminologyService",
    "TranslateMatch",
    "ValidateCodeResult",
    "build_local_service",
    "default_service",
]


def default_service() -> LocalTerminologyService:
    """The process-wide local terminology service (loaded once from the project's `terminology/` data)."""
    from hub.terminology._local import default_local_service

    return default_local_service()
