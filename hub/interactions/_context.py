"""Who is calling and what an interaction returns; scope checks (contract.md: Who is asking)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.auth import Claims, allows
from hub.consent import Requester
from hub.fhir.errors import Forbidden

EXPLICIT_READ_TYPES = frozenset({"AuditEvent", "Consent"})


@dataclass(frozen=True)
class Caller:
    claims: Claims

    @property
    def requester(self) -> Requester:
        c = self.claims
        ids: set[tuple[str, str]] = set()
        if c.care_unit:
            ids.add(("urn:oid:1.2.752.29.4.19", c.care_unit))
        return Requester(
            care_giver=c.care_giver,
            care_unit=c.care_unit,
            practitioner=c.sub,
            purpose=c.purpose_of_use or "TREAT",
            organization=frozenset(ids),
        )

    def require(self, rtype: str, action: str) -> None:
        """Raise 403 unless a scope grants `action` (c r u d s) on `rtype`.

        Reading the directives (Consent) and the access log (AuditEvent) reveals what exists for a patient,
        so those reads need a scope naming the type; a wildcard scope is not enough.
        """
        explicit = rtype in EXPLICIT_READ_TYPES and action in ("r", "s")
        if not allows(self.claims.scopes, rtype, action, allow_wildcard=not explicit):
            raise Forbidden(f"scope does not allow '{action}' on {rtype}")


@dataclass
class Result:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
