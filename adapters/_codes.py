"""Code translation for adapters, only through the terminology service's ConceptMaps and OID→URI mapping."""

from __future__ import annotations

from hub.terminology import TerminologyService, default_service

_NO_MATCH = frozenset({"unmatched", "disjoint"})


def terminology() -> TerminologyService:
    return default_service()


def translate_one(
    system: str | None, code: str, conceptmap_url: str, target_system: str | None = None
) -> tuple[str, str | None] | None:
    """The first usable (code, display) `code` translates to in `conceptmap_url`, or None."""
    for m in terminology().translate(system, code, conceptmap_url=conceptmap_url, target_system=target_system):
        if m.equivalence not in _NO_MATCH and m.code:
            return m.code, m.display
    return None


def system_uri(oid_or_uri: str) -> str:
    """A FHIR code system URI for a source system given as OID (or already as a URI)."""
    s = oid_or_uri.strip()
    if ":" in s and not s.lower().startswith("urn:oid:"):
        return s
    return terminology().oid_to_uri(s)
