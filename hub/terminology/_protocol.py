"""The terminology interface the validator, adapters and API call (local first, packages second)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class LookupResult:
    system: str
    code: str
    display: str | None
    version: str | None = None
    designations: tuple[tuple[str | None, str], ...] = ()  # (language, value)
    properties: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ValidateCodeResult:
    result: bool
    message: str | None = None
    display: str | None = None


@dataclass(frozen=True)
class TranslateMatch:
    equivalence: str  # relatedto | equivalent | equal | wider | subsumes | narrower | specializes | inexact | unmatched | disjoint
    system: str | None
    code: str | None
    display: str | None = None
    source: str | None = None  # ConceptMap url that produced it
    extra: dict[str, Any] = field(default_factory=dict)


class TerminologyService(Protocol):
    def lookup(self, system: str, code: str, version: str | None = None) -> LookupResult | None: ...

    def validate_code(
        self, valueset_url: str, system: str | None, code: str, display: str | None = None
    ) -> ValidateCodeResult: ...

    def expand(
        self, valueset_url: str, filter: str | None = None, offset: int = 0, count: int | None = None
    ) -> dict[str, Any]: ...

    def translate(
        self,
        system: str | None,
        code: str,
        conceptmap_url: str | None = None,
        target_system: str | None = None,
    ) -> list[TranslateMatch]: ...

    def oid_to_uri(self, oid: str) -> str: ...

    def uri_to_oid(self, uri: str) -> str | None: ...

    def has_valueset(self, url: str) -> bool: ...
