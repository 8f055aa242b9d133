"""A terminology service that knows nothing: every value set is unknown, OIDs map to `urn:oid:`.

For tests and deployments without terminology data; the "not available" side of the protocol.
"""

from __future__ import annotations

from typing import Any

from hub.fhir.errors import NotFound
from hub.terminology._protocol import LookupResult, TranslateMatch, ValidateCodeResult


class NullTerminologyService:
    def lookup(self, system: str, code: str, version: str | None = None) -> LookupResult | None:
        return None

    def validate_code(
        self, valueset_url: str, system: str | None, code: str, display: str | None = None
    ) -> ValidateCodeResult:
        raise NotFound(f"ValueSet {valueset_url} is not known")

    def expand(
        self, valueset_url: str, filter: str | None = None, offset: int = 0, count: int | None = None
    ) -> dict[str, Any]:
        raise NotFound(f"ValueSet {valueset_url} is not known")

    def translate(
        self, system: str | None, code: str, conceptmap_url: str | None = None, target_system: str | None = None
    ) -> list[TranslateMatch]:
        return []

    def oid_to_uri(self, oid: str) -> str:
        return "urn:oid:" + oid.removeprefix("urn:oid:")

    def uri_to_oid(self, uri: str) -> str | None:
        return uri[len("urn:oid:"):] if uri.startswith("urn:oid:") else None

    def has_valueset(self, url: str) -> bool:
        return False
