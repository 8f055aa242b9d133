"""Who is calling and what an interaction returns; scope checks (contract.md: Who is asking)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.auth import Claims, allows
from hub.consent import Requester
from hub.fhir.errors import Forbidden


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
        """Raise 403 unless a scope grants `action` (c r u d s) on `rtype`."""
        if not allows(self.claims.scopes, rtype, action):
            raise Forbidden(f"scope does not allow '{action}' on {rtype}")


@dataclass
class Result:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
