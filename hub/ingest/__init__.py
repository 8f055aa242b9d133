"""Ingest: adapter → FHIR → identity (patient linking) → validate → store → route, all-or-nothing.

The adapter's collection Bundle becomes one transaction: a Patient is linked by identifier (conditional
create, an existing Patient is kept), every other resource is PUT under the adapter's stable id, so
re-ingesting a source document updates and never duplicates.
"""

from __future__ import annotations

from typing import Any

from hub.fhir.errors import FhirError, InvalidInput, Issue
from hub.ingest._pipeline import Converter, ingest_stream
from hub.interactions import Caller, Result
from hub.wiring import Hub


def convert(adapter_name: str, payload: bytes) -> dict[str, Any]:
    """Run one adapter: source bytes → collection Bundle (InvalidInput with every issue on bad input)."""
    from adapters import get_adapter

    return get_adapter(adapter_name).convert(payload)


def _patient_condition(patient: dict[str, Any]) -> str | None:
    """The identifier a Patient is linked by: personnummer, then samordningsnummer, then reservnummer."""
    from hub.identity import preferred_identifier

    ident = preferred_identifier(patient.get("identifier", []) or [])
    if ident is None:
        idents = [i for i in patient.get("identifier", []) or [] if i.get("system") and i.get("value")]
        ident = idents[0] if idents else None
    return f"identifier={ident['system']}|{ident['value']}" if ident else None


def to_transaction(collection: dict[str, Any]) -> dict[str, Any]:
    entries = []
    for i, entry in enumerate(collection.get("entry", []) or []):
        res = entry.get("resource") or {}
        rtype = res.get("resourceType")
        if rtype == "Patient":
            cond = _patient_condition(res)
            if cond is None:
                raise InvalidInput("patient without identifier", [Issue("error", "required", "a Patient needs an identifier to be linked", (f"Bundle.entry[{i}].resource.identifier",))])
            request = {"method": "POST", "url": "Patient", "ifNoneExist": cond}
        elif res.get("id"):
            request = {"method": "PUT", "url": f"{rtype}/{res['id']}"}
        else:
            request = {"method": "POST", "url": rtype}
        entries.append({"fullUrl": entry.get("fullUrl"), "resource": res, "request": request})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def ingest(hub: Hub, caller: Caller, adapter_name: str, payload: bytes, base: str = "") -> Result:
    """One source document through the whole pipeline; raises the FhirError that rejected it."""
    (outcome,) = ingest_many(hub, caller, adapter_name, [payload], base)
    if isinstance(outcome, FhirError):
        raise outcome
    return outcome


def ingest_many(hub: Hub, caller: Caller, adapter_name: str, payloads: list[bytes], base: str = "") -> list[Result | FhirError]:
    """Many source documents, each all-or-nothing on its own, committed together in order (the outcome
    of ingesting them one by one, in a few statements per batch): a Result (201) or the FhirError that
    rejected the document, per document."""
    return list(ingest_stream(hub, caller, Converter(adapter_name), payloads, base))


__all__ = ["Converter", "convert", "ingest", "ingest_many", "ingest_stream", "to_transaction"]
