"""The adapter interface: one source format in, one FHIR collection Bundle (plain dict) out."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Adapter(Protocol):
    """A source adapter. `convert` raises hub.fhir.errors.InvalidInput carrying every issue it found."""

    name: str

    def convert(self, payload: bytes) -> dict[str, Any]: ...
