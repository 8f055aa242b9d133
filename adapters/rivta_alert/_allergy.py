"""hypersensitivity (upp-okh) → AllergyIntolerance (http://hl7.org/fhir/R4/allergyintolerance.html).

Severity → criticality and certainty → verificationStatus go through the project's ConceptMaps;
pharmaceutical hypersensitivity → category `medication` (domain.md sections 1-2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from adapters._bundle import SE_ALLERGY_PROFILE, stable_id
from adapters._codes import system_uri, translate_one
from adapters.rivta_alert._body import BodyInfo, cv_coding, cv_concept
from adapters.rivta_alert._header import Header
from adapters.rivta_alert._paths import child, children, text

SEVERITY_MAP = "https://knutpunkt.se/fhir/ConceptMap/rivta-severity-criticality"
CERTAINTY_MAP = "https://knutpunkt.se/fhir/ConceptMap/rivta-certainty-verification"
CRITICALITY_SYSTEM = "http://hl7.org/fhir/allergy-intolerance-criticality"
CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def _translate_cv(cv: etree._Element | None, conceptmap: str, target: str) -> tuple[str, str | None] | None:
    """Translate a CV: its code (system from the OID) or, for free text, its originalText."""
    if cv is None:
        return None
    code, system = text(cv, "code"), text(cv, "codeSystem")
    if code and system:
        return translate_one(system_uri(system), code, conceptmap, target)
    original = text(cv, "originalText")
    return translate_one(None, original, conceptmap, target) if original else None


def _substance(hs: etree._Element) -> tuple[dict[str, Any] | None, bool]:
    """AllergyIntolerance.code from the agent, and whether it is a pharmaceutical."""
    pharma = child(hs, "pharmaceuticalHypersensitivity")
    if pharma is not None:
        concept = cv_concept(child(pharma, "atcSubstance")) or {}
        non_atc = text(pharma, "nonATCSubstance")
        if non_atc:
            concept.setdefault("text", non_atc)
        products = [c for c in (cv_coding(p) for p in children(pharma, "pharmaceuticalProductId")) if c]
        if products:
            concept["coding"] = [*concept.get("coding", []), *products]
        return concept or None, True
    other = child(hs, "otherHypersensitivity")
    if other is not None:
        concept = cv_concept(child(other, "hypersensitivityAgentCode")) or {}
        agent = text(other, "hypersensitivityAgent")
        if agent:
            concept["text"] = agent
        return concept or None, False
    return None, False


def allergy_intolerance(
    hs: etree._Element, header: Header, body: BodyInfo, patient_url: str, now: datetime,
    source_ext: dict[str, Any] | None,
) -> dict[str, Any]:
    """The AllergyIntolerance for one hypersensitivity document."""
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": stable_id("AllergyIntolerance", header.source_system, header.document_id),
        "meta": {"profile": [SE_ALLERGY_PROFILE]},
    }
    if source_ext:
        res["extension"] = [source_ext]
    res["identifier"] = [header.document_identifier]
    status = "inactive" if body.inactive(now) else "active"
    res["clinicalStatus"] = {"coding": [{"system": CLINICAL_SYSTEM, "code": status, "display": status.capitalize()}]}
    verification = _translate_cv(child(hs, "degreeOfCertainty"), CERTAINTY_MAP, VERIFICATION_SYSTEM)
    if verification:
        coding = {"system": VERIFICATION_SYSTEM, "code": verification[0]}
        if verification[1]:
            coding["display"] = verification[1]
        res["verificationStatus"] = {"coding": [coding]}
    code, is_pharma = _substance(hs)
    if is_pharma:
        res["category"] = ["medication"]
    criticality = _translate_cv(child(hs, "degreeOfSeverity"), SEVERITY_MAP, CRITICALITY_SYSTEM)
    if criticality:
        res["criticality"] = criticality[0]
    # IPS requires code 1..1: fall back to the kind of hypersensitivity, then to the alert type's text.
    res["code"] = code or cv_concept(child(hs, "typeOfHypersensitivity")) or {"text": body.type_display or "Överkänslighet"}
    res["patient"] = {"reference": patient_url}
    if body.start:
        res["onsetDateTime"] = body.start.isoformat()
    if header.author_time:
        res["recordedDate"] = header.author_time
    prof = header.professional_ref()
    if prof:
        res["recorder"] = prof
        res["asserter"] = dict(prof)
    notes = [n for n in (body.comment, text(child(hs, "pharmaceuticalHypersensitivity"), "nonATCSubstanceComment")) if n]
    if body.obsolete_comment:
        notes.append(f"Inaktuell: {body.obsolete_comment}")
    if notes:
        res["note"] = [{"text": n} for n in notes]
    return res
