"""Alert types other than hypersensitivity → Flag (http://hl7.org/fhir/R4/flag.html), as HL7 Sweden's draft
alert-information IG does; the category comes from the project's ConceptMap, the KV type code is kept beside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from adapters._bundle import stable_id
from adapters._codes import system_uri, translate_one
from adapters.rivta_alert._body import ALERT_TYPE_OID, BodyInfo, cv_coding, cv_concept
from adapters.rivta_alert._header import Header
from adapters.rivta_alert._paths import child, text

CATEGORY_MAP = "https://knutpunkt.se/fhir/ConceptMap/rivta-alerttype-flagcategory"
FLAG_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/flag-category"


def _flag_code(content: etree._Element, choice: str) -> dict[str, Any] | None:
    if choice == "seriousDisease":
        return cv_concept(child(content, "disease"))
    if choice == "communicableDisease":
        return cv_concept(child(content, "communicableDiseaseCode"))
    if choice == "treatment":
        codings = [c for c in (cv_coding(child(content, n)) for n in ("treatmentCode", "pharmaceuticalTreatment")) if c]
        concept: dict[str, Any] = {"coding": codings} if codings else {}
        description = text(content, "treatmentDescription")
        if description:
            concept["text"] = description
        return concept or None
    if choice == "restrictionOfCare":
        comment = text(content, "restrictionOfCareComment")
        return {"text": comment} if comment else None
    heading = text(content, "unstructuredAlertInformationHeading")
    body = text(content, "unstructuredAlertInformationContent")
    joined = ": ".join(p for p in (heading, body) if p)
    return {"text": joined} if joined else None


def flag(
    content: etree._Element, header: Header, body: BodyInfo, patient_url: str, now: datetime,
    source_ext: dict[str, Any] | None,
) -> dict[str, Any]:
    """The Flag for one non-hypersensitivity alert document."""
    res: dict[str, Any] = {
        "resourceType": "Flag",
        "id": stable_id("Flag", header.source_system, header.document_id),
    }
    if source_ext:
        res["extension"] = [source_ext]
    res["identifier"] = [header.document_identifier]
    res["status"] = "inactive" if body.inactive(now) else "active"
    codings: list[dict[str, Any]] = []
    if body.type_code:
        kv_system = system_uri(ALERT_TYPE_OID)
        mapped = translate_one(kv_system, body.type_code, CATEGORY_MAP, FLAG_CATEGORY_SYSTEM)
        if mapped:
            codings.append({"system": FLAG_CATEGORY_SYSTEM, "code": mapped[0], **({"display": mapped[1]} if mapped[1] else {})})
        kv: dict[str, Any] = {"system": kv_system, "code": body.type_code}
        if body.type_display:
            kv["display"] = body.type_display
        codings.append(kv)
    if codings:
        res["category"] = [{"coding": codings}]
    res["code"] = _flag_code(content, body.choice or "") or {"text": body.type_display or "Uppmärksamhetsinformation"}
    res["subject"] = {"reference": patient_url}
    period: dict[str, str] = {}
    if body.start:
        period["start"] = body.start.isoformat()
    end = min((t for t in (body.end, body.obsolete) if t is not None), default=None)
    if end:
        period["end"] = end.isoformat()
    if period:
        res["period"] = period
    prof = header.professional_ref()
    if prof:
        res["author"] = prof
    return res
