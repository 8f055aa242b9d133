"""Source adapters: each turns one source format into a FHIR collection Bundle (contract.md adapter names)."""

from adapters._protocol import Adapter
from adapters._registry import UnknownAdapter, adapter_names, get_adapter

__all__ = ["Adapter", "UnknownAdapter", "adapter_names", "get_adapter"]
