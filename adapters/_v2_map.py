"""HL7 v2 PID → Patient and AL1 → AllergyIntolerance (domain.md section 3), codes via the project's ConceptMaps.

Field meanings from HL7 v2.5.1 chapter 3 (PID, AL1); table 0127 allergen type, 0128 severity, 0396 coding
system, 0001 administrative sex.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from adapters._bundle import SE_ALLERGY_PROFILE, SE_PATIENT_PROFILE, stable_id
from adapters._codes import system_uri, translate_one
from adapters._time import v2_dtm_to_fhir
from adapters._v2 import Segment
from hub.fhir.errors import InvalidInput, Issue
from hub.identity import is_person_system, normalise_identifier, parse_person_number

CATEGORY_MAP = "https://knutpunkt.se/fhir/ConceptMap/hl7v2-allergen-type-category"
SEVERITY_MAP = "https://knutpunkt.se/fhir/ConceptMap/hl7v2-severity-criticality"
CODING_SYSTEM_MAP = "https://knutpunkt.se/fhir/ConceptMap/hl7v2-coding-system-uri"
GENDER_MAP = "https://knutpunkt.se/fhir/ConceptMap/hl7v2-sex-gender"
V2_TABLE = "http://terminology.hl7.org/CodeSystem/v2-{:04d}"
ALLERGY_SYSTEM = "https://knutpunkt.se/fhir/sid/hl7v2-allergy"
CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_OID = re.compile(r"^(urn:oid:)?[0-2](\.\d+)+$", re.IGNORECASE)
# CX.5 identifier type codes Swedish senders use for the national person number (table 0203 NN + country).
_PERSON_ID_TYPES = {"NNSWE", "PN", "PNR"}


def _table(n: int) -> str:
    return V2_TABLE.format(n)


def coding_system(name: str) -> str | None:
    """A FHIR system URI for a CWE coding-system name, OID or URI; None when unknown."""
    if not name:
        return None
    if _OID.match(name):
        return system_uri(name)
    if ":" in name:
        return name
    hit = translate_one(_table(396), name, CODING_SYSTEM_MAP, "urn:ietf:rfc:3986")
    return hit[0] if hit else None


def cwe_concept(seg: Segment, n: int) -> dict[str, Any] | None:
    """CodeableConcept of a CWE/CE field: primary and alternate triplet; text from the first text component."""
    codings = []
    for code_c, text_c, sys_c in ((1, 2, 3), (4, 5, 6)):
        code, display, system = seg.component(n, code_c), seg.component(n, text_c), seg.component(n, sys_c)
        uri = coding_system(system)
        if code and uri:
            codings.append({"system": uri, "code": code, **({"display": display} if display else {})})
    text = seg.component(n, 2) or (seg.component(n, 1) if not codings else "")
    concept: dict[str, Any] = {}
    if codings:
        concept["coding"] = codings
    if text:
        concept["text"] = text
    return concept or None


def _person_identifier(seg: Segment, rep: str, today: date) -> dict[str, Any] | None:
    """One PID-3 CX as a FHIR Identifier; the system from CX.4 (HD universal id or namespace) or CX.5."""
    value = seg.component(3, 1, rep)
    namespace, universal = seg.component(3, 4, rep, 1), seg.component(3, 4, rep, 2)
    system = universal or (namespace if _OID.match(namespace) or ":" in namespace else "")
    if not system and seg.component(3, 5, rep).upper() in _PERSON_ID_TYPES:
        try:
            kind = parse_person_number(value, today).kind
        except ValueError:
            kind = "personnummer"
        system = "1.2.752.129.2.1.3.3" if kind == "samordningsnummer" else "1.2.752.129.2.1.3.1"
    if not value or not system:
        return None
    return normalise_identifier(system, value, today=today, expression=seg.where(3))


def patient(pid: Segment, today: date, issues: list[Issue]) -> dict[str, Any] | None:
    """The Patient of PID; an issue when PID-3 holds no usable Swedish person identifier."""
    identifiers: list[dict[str, Any]] = []
    before = len(issues)
    for rep in pid.repetitions(3):
        try:
            ident = _person_identifier(pid, rep, today)
        except InvalidInput as exc:
            issues.extend(Issue(i.severity, i.code, i.diagnostics, i.expression, pid.line) for i in exc.issues)
            continue
        if ident and ident not in identifiers:
            identifiers.append(ident)
    if not any(is_person_system(i["system"]) for i in identifiers):
        if len(issues) == before:
            issues.append(Issue("error", "required", "PID-3 carries no personnummer, samordningsnummer or reservnummer",
                                (pid.where(3),), pid.line))
        return None
    res: dict[str, Any] = {"resourceType": "Patient", "meta": {"profile": [SE_PATIENT_PROFILE]}, "identifier": identifiers}
    family, given = pid.component(5, 1), [g for g in (pid.component(5, 2), pid.component(5, 3)) if g]
    if family or given:
        res["name"] = [{**({"family": family} if family else {}), **({"given": given} if given else {})}]
    sex = pid.component(8, 1)
    gender = translate_one(_table(1), sex, GENDER_MAP) if sex else None
    if gender:
        res["gender"] = gender[0]
    born = pid.component(7, 1)
    if born:
        try:
            res["birthDate"] = v2_dtm_to_fhir(born[:8])
        except ValueError:
            issues.append(Issue("error", "value", f"PID-7 '{born}' is not a date", (pid.where(7),), pid.line))
    return res


def allergy(
    al1: Segment, patient_url: str, patient_key: str, source_key: str, source_ext: dict[str, Any] | None,
    issues: list[Issue],
) -> dict[str, Any] | None:
    """The AllergyIntolerance of one AL1; its id is stable per (source, patient, allergen)."""
    code = cwe_concept(al1, 3)
    if code is None:
        issues.append(Issue("error", "required", "AL1-3 (allergen code/mnemonic/description) is required",
                            (al1.where(3),), al1.line))
        return None
    first = (code.get("coding") or [{}])[0]
    allergen_key = f"{first['system']}|{first['code']}" if first else code["text"].casefold()
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": stable_id("AllergyIntolerance", source_key, patient_key, allergen_key),
        "meta": {"profile": [SE_ALLERGY_PROFILE]},
    }
    if source_ext:
        res["extension"] = [source_ext]
    res["identifier"] = [{"system": ALLERGY_SYSTEM, "value": f"{source_key}/{patient_key}/{allergen_key}"}]
    res["clinicalStatus"] = {"coding": [{"system": CLINICAL_SYSTEM, "code": "active", "display": "Active"}]}
    kind = al1.component(2, 1)
    category = translate_one(_table(127), kind, CATEGORY_MAP) if kind else None
    if category:
        res["category"] = [category[0]]
    severity = al1.component(4, 1)
    criticality = translate_one(_table(128), severity, SEVERITY_MAP) if severity else None
    if criticality:
        res["criticality"] = criticality[0]
    res["code"] = code
    res["patient"] = {"reference": patient_url}
    identified = al1.component(6, 1)
    if identified:
        try:
            res["onsetDateTime"] = v2_dtm_to_fhir(identified)
        except ValueError:
            issues.append(Issue("error", "value", f"AL1-6 '{identified}' is not a date/time", (al1.where(6),), al1.line))
    reactions = [r for r in (al1.component(5, 1, rep) for rep in al1.repetitions(5)) if r]
    if reactions:
        res["reaction"] = [{"manifestation": [{"text": r} for r in reactions]}]
    return res
