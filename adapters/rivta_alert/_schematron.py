"""The GetAlertInformation 2.0 producer Schematron rules (NPÖ adapter test suite, constraints.xml),
implemented as element checks. Each failed assertion becomes an error Issue naming the element.
"""

from __future__ import annotations

from lxml import etree

from adapters.rivta_alert._paths import RESPONDER_NS, children, core, issue
from hub.fhir.errors import Issue

# Elements of type CVType the rules constrain (pattern.CvType). The rule file names
# communicableDisease/communicableDisease from an older schema; 2.1 calls it communicableDiseaseCode.
CV_ELEMENTS = (
    "healthcareProfessionalRoleCode", "typeOfAlertInformation", "typeOfHypersensitivity", "degreeOfSeverity",
    "degreeOfCertainty", "atcSubstance", "pharmaceuticalProductId", "hypersensitivityAgentCode", "disease",
    "treatmentCode", "pharmaceuticalTreatment", "communicableDiseaseCode", "routeOfTransmission",
    "typeOfAlertInformationRelationship",
)
BODY_CHOICES = (
    "hypersensitivity", "seriousDisease", "treatment", "communicableDisease", "restrictionOfCare",
    "unstructuredAlertInformation",
)
_HEADER_FORBIDDEN = ("nullified", "nullifiedReason", "documentTime", "documentTitle")


def check_rules(response: etree._Element) -> list[Issue]:
    """Every Schematron violation in the response, in document order per rule."""
    issues: list[Issue] = []
    for name in CV_ELEMENTS:
        for cv in response.iter(core(name)):
            issues.extend(_cv(cv))
    for header in response.iter(core("alertInformationHeader")):
        for name in _HEADER_FORBIDDEN:
            for bad in children(header, name):
                issues.append(issue("invariant", f"alertInformationHeader must not contain {name}", bad))
    for body in response.iter(core("alertInformationBody")):
        issues.extend(_body(body))
    for pharma in response.iter(core("pharmaceuticalHypersensitivity")):
        issues.extend(_pharmaceutical(pharma))
    for result in response.iter(f"{{{RESPONDER_NS}}}result"):
        for name in ("resultCode", "logId"):
            if len(children(result, name)) != 1:
                issues.append(issue("invariant", f"result must contain exactly one {name} element", result, name))
    return issues


def _cv(cv: etree._Element) -> list[Issue]:
    """pattern.CvType: either code + codeSystem + displayName, or originalText alone."""
    has = {n: bool(children(cv, n)) for n in ("code", "codeSystem", "displayName", "originalText")}
    name = etree.QName(cv).localname
    coded = [n for n in ("code", "codeSystem", "displayName") if has[n]]
    out: list[Issue] = []
    if has["code"] == has["originalText"]:
        out.append(issue("invariant", f"In {name}, either code or originalText must be given", cv))
    if has["originalText"] and coded:
        out.append(issue("invariant", f"In {name}, originalText must not be given together with {', '.join(coded)}", cv))
    elif coded and len(coded) < 3:
        missing = [n for n in ("code", "codeSystem", "displayName") if not has[n]]
        out.append(
            issue("invariant", f"In {name}, code, codeSystem and displayName must be given together "
                  f"(missing {', '.join(missing)})", cv)
        )
    return out


def _body(body: etree._Element) -> list[Issue]:
    out: list[Issue] = []
    n = sum(len(children(body, c)) for c in BODY_CHOICES)
    if n != 1:
        out.append(issue(
            "invariant",
            f"In alertInformationBody exactly one of {', '.join(BODY_CHOICES)} must be supplied (found {n})", body,
        ))
    starts = [s for p in children(body, "validityTimePeriod") for s in children(p, "start")]
    if len(starts) != 1:
        out.append(issue("invariant", "In alertInformationBody validityTimePeriod/start must be supplied", body,
                         "validityTimePeriod/start"))
    return out


def _pharmaceutical(ph: etree._Element) -> list[Issue]:
    atc, non_atc, comment = (len(children(ph, n)) for n in ("atcSubstance", "nonATCSubstance", "nonATCSubstanceComment"))
    out: list[Issue] = []
    if atc + non_atc != 1:
        out.append(issue("invariant", "In pharmaceuticalHypersensitivity exactly one of atcSubstance and "
                         "nonATCSubstance must be supplied", ph))
    if atc + comment != 1:
        out.append(issue("invariant", "In pharmaceuticalHypersensitivity exactly one of atcSubstance and "
                         "nonATCSubstanceComment must be supplied", ph))
    if not (atc == 1 or non_atc + comment == 2):
        out.append(issue("invariant", "In pharmaceuticalHypersensitivity either atcSubstance or both nonATCSubstance "
                         "and nonATCSubstanceComment must be supplied", ph))
    return out

