"""The engine's value types: who asks (`Requester`), the answer (`Decision`), a compiled `PatientPolicy`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hub.consent._codes import HSA_SYSTEM, HSA_SYSTEMS


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks (contract.md 'Who is asking'; domain.md section 5 requester model).

    `care_giver`/`care_unit` are HSA-ids, `practitioner` the token's `sub` or a practitioner HSA-id,
    `purpose` a v3 PurposeOfUse code, `organization` the (system, value) identifiers of the requesting
    Organization (a registry's HSA-id or organisation number; a care unit's HSA-id).
    """

    care_giver: str | None
    care_unit: str | None
    practitioner: str | None
    purpose: str
    organization: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        # HSA-ids compare case-insensitively and under either HSA system OID (see hsa_key).
        object.__setattr__(self, "care_giver", hsa_key(self.care_giver) if self.care_giver else self.care_giver)
        object.__setattr__(self, "care_unit", hsa_key(self.care_unit) if self.care_unit else self.care_unit)
        object.__setattr__(self, "organization", frozenset(
            (HSA_SYSTEM, hsa_key(v)) if s in HSA_SYSTEMS else (s, v) for s, v in self.organization))


def hsa_key(value: str) -> str:
    """The form HSA-ids are compared in: trimmed, upper case (`se2321000016-0abc` = `SE2321000016-0ABC`)."""
    return value.strip().upper()


@dataclass(frozen=True, slots=True)
class Decision:
    """The filter's answer for one resource; `consent_ids` are the Consents that decided, sorted."""

    permit: bool
    rule: str
    consent_ids: tuple[str, ...] = ()
    emergency: bool = False
    mask: bool = False


@dataclass(frozen=True, slots=True)
class Grant:
    """A permit for a care unit and/or practitioner while [lo, hi) holds: a `consent` or a temporary revoke.

    Empty `units` or `practitioners` means that dimension is not restricted; the compiler guarantees at
    least one is non-empty.
    """

    consent_id: str
    units: frozenset[str]
    practitioners: frozenset[str]
    lo: float
    hi: float

    def matches(self, care_unit: str | None, practitioner: str | None, now: float) -> bool:
        return (
            self.lo <= now < self.hi
            and (not self.units or care_unit in self.units)
            and (not self.practitioners or practitioner in self.practitioners)
        )


@dataclass(frozen=True, slots=True)
class Block:
    """One blocked organisation of a `block` directive (inner = care unit, outer = care giver HSA-id)."""

    consent_id: str
    inner: bool
    target: str
    data_period: tuple[float, float] | None
    excluded_types: frozenset[str]
    revokes: tuple[Grant, ...]
    lo: float
    hi: float


@dataclass(frozen=True, slots=True)
class OptOut:
    """A `registry-opt-out`: `organizations` empty = every quality registry."""

    consent_id: str
    organizations: frozenset[tuple[str, str]]
    lo: float
    hi: float


def _empty() -> Mapping[str, tuple[Any, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PatientPolicy:
    """A patient's directives compiled once into look-up tables (see `compile_policy`).

    `readable` False means some active directive could not be understood: every decision denies.
    """

    readable: bool
    problem: str = ""
    protected: bool = False
    inner_blocks: Mapping[str, tuple[Block, ...]] = field(default_factory=_empty)
    outer_blocks: Mapping[str, tuple[Block, ...]] = field(default_factory=_empty)
    consents: Mapping[str, tuple[Grant, ...]] = field(default_factory=_empty)
    opt_outs: tuple[OptOut, ...] = ()
    consent_ids: tuple[str, ...] = ()
