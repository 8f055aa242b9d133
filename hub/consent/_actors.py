"""Reading `Consent.provision.actor` references into the identifiers the engine matches on.

Actors are literal references resolved through the caller's map (or `#contained`), or logical references
(`Reference.identifier`); R4 Consent: http://hl7.org/fhir/R4/consent-definitions.html#Consent.provision.actor.
Anything that cannot be resolved raises `Unreadable` (the whole policy then denies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.consent._codes import HSA_SYSTEM, HSA_SYSTEMS, PARTICIPATION_SYSTEM
from hub.consent._model import hsa_key

_KINDS = frozenset({"Organization", "Practitioner"})


class Unreadable(Exception):
    """A directive the engine cannot understand; its message says why."""


@dataclass(frozen=True, slots=True)
class Actor:
    role: str
    kind: str  # Organization | Practitioner | "" (not stated)
    identifiers: frozenset[tuple[str, str]]

    @property
    def hsa_ids(self) -> frozenset[str]:
        return frozenset(v for s, v in self.identifiers if s == HSA_SYSTEM)

    @property
    def values(self) -> frozenset[str]:
        return frozenset(v for _, v in self.identifiers)


def identifier_pairs(identifiers: object) -> set[tuple[str, str]]:
    """(system, value) pairs of FHIR Identifiers; HSA-ids under `urn:oid:1.2.752.29.4.19`, in `hsa_key` form."""
    out: set[tuple[str, str]] = set()
    items = identifiers if isinstance(identifiers, list) else [identifiers]
    for ident in items:
        if not isinstance(ident, dict):
            raise Unreadable("identifier is not an object")
        system, value = ident.get("system"), ident.get("value")
        if not isinstance(system, str) or not isinstance(value, str) or not system or not value:
            raise Unreadable("identifier without system and value")
        out.add((HSA_SYSTEM, hsa_key(value)) if system in HSA_SYSTEMS else (system, value))
    return out


def _lookup(literal: str, consent: dict[str, Any], resources: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    if literal.startswith("#"):
        for res in consent.get("contained") or ():
            if isinstance(res, dict) and res.get("id") == literal[1:]:
                return res
        raise Unreadable(f"contained actor {literal} not found")
    found = resources.get(literal)
    if found is None and "/" in literal:
        parts = literal.split("/")
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        found = resources.get("/".join(parts[-2:]))
    if not isinstance(found, dict):
        raise Unreadable(f"actor reference {literal} cannot be resolved")
    return found


def _known_aliases(ids: set[tuple[str, str]], resources: Mapping[str, dict[str, Any]]) -> set[tuple[str, str]]:
    """Every identifier of a known resource sharing one with `ids` (a registry named by organisation
    number is then also matched by its HSA-id)."""
    out: set[tuple[str, str]] = set()
    for res in resources.values():
        try:
            own = identifier_pairs(res.get("identifier") or [])
        except Unreadable:
            continue
        if not own.isdisjoint(ids):
            out |= own
    return out


def read_actor(actor: object, consent: dict[str, Any], resources: Mapping[str, dict[str, Any]]) -> Actor:
    """One provision actor: its role code and the identifiers of the Organization/Practitioner it names."""
    if not isinstance(actor, dict):
        raise Unreadable("actor is not an object")
    roles = [
        c.get("code")
        for c in (actor.get("role") or {}).get("coding") or ()
        if isinstance(c, dict) and c.get("system") == PARTICIPATION_SYSTEM
    ]
    if len(roles) != 1 or roles[0] not in ("CST", "IRCP"):
        raise Unreadable("actor role must be one v3-ParticipationType CST or IRCP")
    ref = actor.get("reference")
    if not isinstance(ref, dict):
        raise Unreadable("actor without reference")
    kinds: set[str] = set()
    if ref.get("type") is not None:
        kinds.add(ref["type"])
    ids: set[tuple[str, str]] = set()
    literal = ref.get("reference")
    if literal is not None:
        if not isinstance(literal, str) or not literal:
            raise Unreadable("actor reference is not a string")
        if not literal.startswith("#") and "/" in literal:
            kinds.add(literal.split("/")[-2] if "/_history/" not in literal else literal.split("/")[-4])
        target = _lookup(literal, consent, resources)
        kinds.add(str(target.get("resourceType")))
        ids |= identifier_pairs(target.get("identifier") or [])
    if ref.get("identifier") is not None:
        ids |= identifier_pairs(ref["identifier"])
        ids |= _known_aliases(ids, resources)
    if len(kinds) > 1 or (kinds and not kinds <= _KINDS):
        raise Unreadable(f"actor must be one Organization or Practitioner, got {sorted(kinds)}")
    if not ids:
        raise Unreadable("actor without identifiers to match on")
    return Actor(role=roles[0], kind=kinds.pop() if kinds else "", identifiers=frozenset(ids))
