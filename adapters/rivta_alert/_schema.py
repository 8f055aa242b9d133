"""Structural checks from the GetAlertInformation 2.0 XSD (GetAlertInformationResponder_2.0.xsd and
clinicalprocess_healthcond_description_2.1.xsd): required elements, occurrence limits, unknown elements
in the RIV namespaces, and the patterns of TimeStampType, DateType, xs:boolean and ResultCodeEnum.

`xs:any namespace="##other"` extension points are honoured: elements from foreign namespaces are ignored.
"""

from __future__ import annotations

import re

from lxml import etree

from adapters._time import DATE, TIMESTAMP, date_to_fhir, parse_timestamp
from adapters._xml import local, namespace
from adapters.rivta_alert._paths import CORE_NS, RESPONDER_NS, issue
from hub.fhir.errors import Issue

UNBOUNDED = 10**9
# type name -> ordered children: (element, type, minOccurs, maxOccurs)
_Child = tuple[str, str, int, int]
_CV = [(n, "string", 0, 1) for n in ("code", "codeSystem", "codeSystemName", "codeSystemVersion", "displayName", "originalText")]
TYPES: dict[str, list[_Child]] = {
    "AlertInformation": [("alertInformationHeader", "Header", 1, 1), ("alertInformationBody", "Body", 1, 1)],
    "Header": [
        ("documentId", "string", 1, 1), ("sourceSystemHSAId", "string", 1, 1), ("documentTitle", "string", 0, 1),
        ("documentTime", "timestamp", 0, 1), ("patientId", "PersonId", 1, 1),
        ("accountableHealthcareProfessional", "Professional", 1, 1), ("legalAuthenticator", "LegalAuthenticator", 0, 1),
        ("approvedForPatient", "boolean", 1, 1), ("careContactId", "string", 0, 1), ("nullified", "boolean", 0, 1),
        ("nullifiedReason", "string", 0, 1),
    ],
    "PersonId": [("id", "string", 1, 1), ("type", "string", 1, 1)],
    "Professional": [
        ("authorTime", "timestamp", 1, 1), ("healthcareProfessionalHSAId", "string", 0, 1),
        ("healthcareProfessionalName", "string", 0, 1), ("healthcareProfessionalRoleCode", "CV", 0, 1),
        ("healthcareProfessionalOrgUnit", "OrgUnit", 0, 1), ("healthcareProfessionalCareUnitHSAId", "string", 0, 1),
        ("healthcareProfessionalCareGiverHSAId", "string", 0, 1),
    ],
    "OrgUnit": [
        ("orgUnitHSAId", "string", 1, 1), ("orgUnitName", "string", 1, 1), ("orgUnitTelecom", "string", 0, 1),
        ("orgUnitEmail", "string", 0, 1), ("orgUnitAddress", "string", 0, 1), ("orgUnitLocation", "string", 0, 1),
    ],
    "LegalAuthenticator": [
        ("signatureTime", "timestamp", 1, 1), ("legalAuthenticatorHSAId", "string", 0, 1),
        ("legalAuthenticatorName", "string", 0, 1),
    ],
    "Body": [
        ("typeOfAlertInformation", "CV", 1, 1), ("ascertainedDate", "date", 0, 1), ("verifiedTime", "timestamp", 0, 1),
        ("validityTimePeriod", "TimePeriod", 1, 1), ("alertInformationComment", "string", 0, 1),
        ("obsoleteTime", "timestamp", 0, 1), ("obsoleteComment", "string", 0, 1),
        ("hypersensitivity", "Hypersensitivity", 0, 1), ("seriousDisease", "SeriousDisease", 0, 1),
        ("treatment", "Treatment", 0, 1), ("communicableDisease", "CommunicableDisease", 0, 1),
        ("restrictionOfCare", "RestrictionOfCare", 0, 1), ("unstructuredAlertInformation", "Unstructured", 0, 1),
        ("relatedAlertInformation", "Related", 0, UNBOUNDED),
    ],
    "TimePeriod": [("start", "timestamp", 0, 1), ("end", "timestamp", 0, 1)],
    "Hypersensitivity": [
        ("typeOfHypersensitivity", "CV", 0, 1), ("degreeOfSeverity", "CV", 0, 1), ("degreeOfCertainty", "CV", 0, 1),
        ("pharmaceuticalHypersensitivity", "Pharmaceutical", 0, 1), ("otherHypersensitivity", "Other", 0, 1),
    ],
    "Pharmaceutical": [
        ("atcSubstance", "CV", 0, 1), ("nonATCSubstance", "string", 0, 1), ("nonATCSubstanceComment", "string", 0, 1),
        ("pharmaceuticalProductId", "CV", 0, UNBOUNDED),
    ],
    "Other": [("hypersensitivityAgent", "string", 0, 1), ("hypersensitivityAgentCode", "CV", 0, 1)],
    "SeriousDisease": [("disease", "CV", 1, 1)],
    "Treatment": [("treatmentDescription", "string", 1, 1), ("treatmentCode", "CV", 0, 1), ("pharmaceuticalTreatment", "CV", 0, 1)],
    "CommunicableDisease": [("communicableDiseaseCode", "CV", 1, 1), ("routeOfTransmission", "CV", 0, 1)],
    "RestrictionOfCare": [("restrictionOfCareComment", "string", 1, 1)],
    "Unstructured": [("unstructuredAlertInformationHeading", "string", 1, 1), ("unstructuredAlertInformationContent", "string", 1, 1)],
    "Related": [
        ("typeOfAlertInformationRelationship", "CV", 1, 1), ("relationComment", "string", 0, 1),
        ("documentId", "string", 1, UNBOUNDED),
    ],
    "CV": _CV,
    "Result": [
        ("resultCode", "resultCode", 1, 1), ("errorCode", "errorCode", 0, 1), ("logId", "string", 1, 1),
        ("subCode", "string", 0, 1), ("message", "string", 0, 1),
    ],
}
_RESPONSE_CHILDREN: list[_Child] = [("alertInformation", "AlertInformation", 0, UNBOUNDED), ("result", "Result", 0, 1)]
_SIMPLE: dict[str, re.Pattern[str]] = {
    "timestamp": TIMESTAMP,
    "date": DATE,
    "boolean": re.compile(r"^(true|false|1|0)$"),
    "resultCode": re.compile(r"^(OK|ERROR|INFO)$"),
    "errorCode": re.compile(r"^INVALID_REQUEST$"),
}
_FORMAT = {"timestamp": "YYYYMMDDhhmmss", "date": "YYYYMMDD", "boolean": "true or false",
           "resultCode": "OK, ERROR or INFO", "errorCode": "INVALID_REQUEST"}


def check_response(response: etree._Element) -> list[Issue]:
    """Every XSD structure violation below the GetAlertInformationResponse element."""
    issues: list[Issue] = []
    _check_children(response, _RESPONSE_CHILDREN, RESPONDER_NS, issues)
    return issues


_KNOWN: dict[int, dict[str, tuple[str, int, int]]] = {}
_SPLIT: dict[str, tuple[str, str]] = {}  # tag → (local name, namespace): documents repeat a few dozen tags


def _split(tag: str) -> tuple[str, str]:
    found = _SPLIT.get(tag)
    if found is None:
        if len(_SPLIT) > 10_000:  # foreign extension elements must not grow it without bound
            _SPLIT.clear()
        found = _SPLIT[tag] = (local(tag), namespace(tag))
    return found


def _check_children(elem: etree._Element, spec: list[_Child], own_ns: str, issues: list[Issue]) -> None:
    known = _KNOWN.get(id(spec))
    if known is None:
        known = _KNOWN[id(spec)] = {name: (typ, lo, hi) for name, typ, lo, hi in spec}
    counts: dict[str, int] = {}
    for c in elem:
        if not isinstance(c.tag, str):
            continue
        name, ns = _split(c.tag)
        if ns != own_ns:
            if ns in (CORE_NS, RESPONDER_NS) or ns == "":
                where = f"namespace {ns}" if ns else "no namespace"
                issues.append(issue("structure", f"unexpected element '{name}' ({where}) in {local(elem.tag)}", c))
            continue  # xs:any namespace="##other"
        if name not in known:
            issues.append(issue("structure", f"unexpected element '{name}' in {local(elem.tag)}", c))
            continue
        counts[name] = counts.get(name, 0) + 1
        typ, _lo, hi = known[name]
        if counts[name] == hi + 1:
            issues.append(issue("structure", f"'{name}' may occur at most {hi} time(s) in {local(elem.tag)}", c))
        _check_element(c, typ, issues)
    for name, _typ, lo, _hi in spec:
        if counts.get(name, 0) < lo:
            issues.append(issue("required", f"required element '{name}' is missing in {local(elem.tag)}", elem, name))


def _check_element(elem: etree._Element, typ: str, issues: list[Issue]) -> None:
    if typ in TYPES:
        _check_children(elem, TYPES[typ], CORE_NS, issues)
        return
    if len(elem) and any(isinstance(c.tag, str) and _split(c.tag)[1] in (CORE_NS, RESPONDER_NS, "") for c in elem):
        issues.append(issue("structure", f"'{local(elem.tag)}' must hold a simple value, not elements", elem))
        return
    pattern = _SIMPLE.get(typ)
    if pattern is None:
        return
    value = (elem.text or "").strip()
    ok = bool(pattern.match(value))
    if ok and typ == "timestamp":
        ok = _parses(parse_timestamp, value)
    elif ok and typ == "date":
        ok = _parses(date_to_fhir, value)
    if not ok:
        issues.append(issue("value", f"'{value}' is not a valid {local(elem.tag)} (expected {_FORMAT[typ]})", elem))


def _parses(fn: object, value: str) -> bool:
    try:
        fn(value)  # type: ignore[operator]
    except ValueError:
        return False
    return True
