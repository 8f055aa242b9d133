"""Which identifier links a Patient: personnummer before samordningsnummer before reservnummer (domain.md section 4).

A samordningsnummer or reservnummer is issued when no personnummer is known, so the personnummer wins when present.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.identity._systems import (
    PERSONNUMMER_SYSTEM,
    RESERVNUMMER_SYSTEM,
    SAMORDNINGSNUMMER_SYSTEM,
    normalise_system,
)

_RANK = (PERSONNUMMER_SYSTEM, SAMORDNINGSNUMMER_SYSTEM, RESERVNUMMER_SYSTEM)


def preferred_identifier(identifiers: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The Swedish person identifier to link a Patient by (system normalised), or None when there is none."""
    best: tuple[int, dict[str, Any]] | None = None
    for ident in identifiers:
        system, value = ident.get("system"), ident.get("value")
        if not isinstance(system, str) or not isinstance(value, str) or not value.strip():
            continue
        canonical = normalise_system(system)
        if canonical in _RANK:
            rank = _RANK.index(canonical)
            if best is None or rank < best[0]:
                best = (rank, {"system": canonical, "value": value.strip()})
    return best[1] if best else None
