"""Adapter `rivta-alert`: Inera GetAlertInformation 2.0 response XML → FHIR (domain.md section 2)."""

from __future__ import annotations

from typing import Any

from adapters.rivta_alert._convert import convert_response
from adapters.rivta_alert._header import DOCUMENT_SYSTEM

__all__ = ["DOCUMENT_SYSTEM", "RivtaAlertAdapter", "adapter", "convert_response"]


class RivtaAlertAdapter:
    """GetAlertInformation 2.0 response (bare or SOAP 1.1/1.2) → collection Bundle."""

    name = "rivta-alert"

    def convert(self, payload: bytes) -> dict[str, Any]:
        return convert_response(payload)


adapter = RivtaAlertAdapter()
