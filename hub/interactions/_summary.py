"""`Patient/{id}/$summary`: an IPS-style document Bundle holding only what the requester may see.

Shapes: http://hl7.org/fhir/R4/patient-operation-summary.html (IPS `$summary`), document Bundles
http://hl7.org/fhir/R4/documents.html, IPS allergies section LOINC 48765-2. Every item passes the consent
filter (domain.md section 5); nothing in the document tells whether or how much was withheld.
"""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime
from typing import Any

from hub.enforcement import Released
from hub.fhir.errors import NotFound
from hub.interactions._context import Caller, Result
from hub.store import fhir_instant, parse_query
from hub.wiring import Hub

LOINC = "http://loinc.org"
SUMMARY_TYPE = {"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}
ALLERGIES_CODE = {"system": LOINC, "code": "48765-2", "display": "Allergies and adverse reactions Document"}
#: The neutral empty reason: it must not say whether anything was withheld (domain.md section 5).
EMPTY_REASON = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason", "code": "unavailable", "display": "Unavailable"}]
}
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
_MAX_ITEMS = 1000


def summary(hub: Hub, caller: Caller, patient_id: str, base: str = "") -> Result:
    """The consent-filtered patient summary; 404 when the Patient is unknown or withheld from the caller."""
    caller.require("Patient", "r")
    caller.require("AllergyIntolerance", "r")
    requester = caller.requester
    allergies: list[Released] = []
    with hub.store.transaction() as s:
        patient = hub.store.read_optional(s, "Patient", patient_id)
        shown_patient = hub.enforcer.filter(s, [patient], requester) if patient is not None else []
        if shown_patient:
            query = parse_query("AllergyIntolerance", [("patient", f"Patient/{patient_id}"), ("_count", str(_MAX_ITEMS))])
            candidates = [st for st in hub.store.search(s, query) if not _entered_in_error(st.resource)]
            allergies = hub.enforcer.filter(s, candidates, requester)
    if not shown_patient:  # raised after commit, so a denial's AuditEvent is kept
        raise NotFound(f"Patient/{patient_id} is not known")
    return Result(200, build_document(shown_patient[0], allergies, base))


def build_document(patient: Released, allergies: list[Released], base: str = "", now: datetime | None = None) -> dict[str, Any]:
    """The document Bundle: Composition first, then the Patient, then the released allergies."""
    now = now or datetime.now(UTC)
    comp_url = f"urn:uuid:{uuid.uuid4()}"
    patient_ref = f"Patient/{patient.stored.rid}"
    section: dict[str, Any] = {
        "title": "Allergier och överkänslighet",
        "code": {"coding": [ALLERGIES_CODE]},
    }
    if allergies:
        section["text"] = {"status": "generated", "div": _list_div(allergies)}
        section["entry"] = [{"reference": f"AllergyIntolerance/{a.stored.rid}"} for a in allergies]
    else:
        section["text"] = {"status": "generated", "div": _div("<p>Inga uppgifter tillgängliga.</p>")}
        section["emptyReason"] = EMPTY_REASON
    composition = {
        "resourceType": "Composition",
        "id": comp_url.removeprefix("urn:uuid:"),
        "status": "final",
        "type": {"coding": [SUMMARY_TYPE]},
        "subject": {"reference": patient_ref},
        "date": fhir_instant(now),
        "author": [{"display": "Knutpunkt"}],
        "title": "Patientöversikt",
        "section": [section],
    }
    entries = [
        {"fullUrl": comp_url, "resource": composition},
        {"fullUrl": _full_url(base, patient_ref), "resource": patient.resource},
    ]
    entries += [{"fullUrl": _full_url(base, f"AllergyIntolerance/{a.stored.rid}"), "resource": a.resource} for a in allergies]
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "type": "document",
        "timestamp": fhir_instant(now),
        "entry": entries,
    }


def _full_url(base: str, ref: str) -> str:
    return f"{base}/{ref}" if base else ref


def _entered_in_error(resource: dict[str, Any]) -> bool:
    """IPS: entered-in-error allergies are never part of a summary."""
    codings = (resource.get("verificationStatus") or {}).get("coding") or []
    return any(c.get("system") == _VERIFICATION and c.get("code") == "entered-in-error" for c in codings if isinstance(c, dict))


def _label(resource: dict[str, Any]) -> str:
    code = resource.get("code") or {}
    if code.get("text"):
        return str(code["text"])
    for coding in code.get("coding") or []:
        if isinstance(coding, dict) and (coding.get("display") or coding.get("code")):
            return str(coding.get("display") or coding.get("code"))
    return "Okänt ämne"


def _list_div(allergies: list[Released]) -> str:
    items = []
    for a in allergies:
        crit = a.resource.get("criticality")
        text = html.escape(_label(a.resource)) + (f" (kritikalitet: {html.escape(str(crit))})" if crit else "")
        items.append(f"<li>{text}</li>")
    return _div("<ul>" + "".join(items) + "</ul>")


def _div(inner: str) -> str:
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{inner}</div>'
