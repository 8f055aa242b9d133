"""Adapter names (contract.md: `rivta-alert`, `hl7v2`, `fhir`) and lazy lookup of their implementations."""

from __future__ import annotations

import importlib

from adapters._protocol import Adapter
from hub.fhir.errors import InvalidInput, Issue

_ADAPTERS: dict[str, str] = {
    "fhir": "adapters.fhir_passthrough:adapter",
    "hl7v2": "adapters.hl7v2:adapter",
    "rivta-alert": "adapters.rivta_alert:adapter",
}


def adapter_names() -> list[str]:
    """Sorted names of every registered adapter."""
    return sorted(_ADAPTERS)


def get_adapter(name: str) -> Adapter:
    """The adapter registered under `name`; UnknownAdapter (an InvalidInput and a KeyError) for an unknown name."""
    target = _ADAPTERS.get(name)
    if target is None:
        msg = f"unknown adapter '{name}'; known adapters: {', '.join(adapter_names())}"
        raise UnknownAdapter(msg, [Issue("error", "not-supported", msg)])
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


class UnknownAdapter(InvalidInput, KeyError):
    """No adapter of that name: a 400 for HTTP callers, a KeyError for Python callers."""

    def __str__(self) -> str:
        return self.message
