"""Read the common parts of alertInformationBody: CV codes, validity, obsolescence, comments.

CVType (code + codeSystem OID + displayName, or originalText) becomes a FHIR CodeableConcept; OIDs become
system URIs through the terminology service (domain.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from adapters._codes import system_uri
from adapters._time import parse_timestamp
from adapters.rivta_alert._paths import child, issue, text
from hub.fhir.errors import Issue

ALERT_TYPE_OID = "1.2.752.129.2.2.2.1"
# Which body element goes with which KV Informationstyp code (GetAlertInformation 2.0 service description).
CHOICE_TYPE = {
    "hypersensitivity": "upp-okh",
    "seriousDisease": "upp-uas",
    "treatment": "upp-ube",
    "communicableDisease": "upp-arb",
    "restrictionOfCare": "upp-vbe",
    "unstructuredAlertInformation": "upp-est",
}


def cv_coding(cv: etree._Element | None) -> dict[str, Any] | None:
    """The Coding of a coded CV, or None when the CV is absent or free text."""
    code, system = text(cv, "code"), text(cv, "codeSystem")
    if not code or not system:
        return None
    coding: dict[str, Any] = {"system": system_uri(system)}
    version = text(cv, "codeSystemVersion")
    if version:
        coding["version"] = version
    coding["code"] = code
    display = text(cv, "displayName")
    if display:
        coding["display"] = display
    return coding


def cv_concept(cv: etree._Element | None) -> dict[str, Any] | None:
    """CodeableConcept of a CV: a coding, or text from originalText."""
    coding = cv_coding(cv)
    if coding:
        return {"coding": [coding]}
    original = text(cv, "originalText")
    return {"text": original} if original else None


@dataclass(frozen=True)
class BodyInfo:
    choice: str | None  # the one body element present
    type_code: str | None  # KV Informationstyp code
    type_display: str | None
    start: datetime | None
    end: datetime | None
    obsolete: datetime | None
    comment: str | None
    obsolete_comment: str | None

    def inactive(self, now: datetime) -> bool:
        """obsoleteTime reached, or the validity period ended before `now`."""
        return (self.obsolete is not None and self.obsolete <= now) or (self.end is not None and self.end < now)


def _time(elem: etree._Element | None, *names: str) -> datetime | None:
    value = text(elem, *names)
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None  # reported by the schema check


def read_body(body: etree._Element, choices: tuple[str, ...], issues: list[Issue]) -> BodyInfo:
    """Common body values, with issues for an alert type that contradicts the body or a reversed period."""
    present = [c for c in choices if child(body, c) is not None]
    choice = present[0] if len(present) == 1 else None
    type_cv = child(body, "typeOfAlertInformation")
    type_code = text(type_cv, "code")
    type_display = text(type_cv, "displayName") or text(type_cv, "originalText")
    if choice and type_cv is not None:
        expected = CHOICE_TYPE[choice]
        if type_code and text(type_cv, "codeSystem") == ALERT_TYPE_OID and type_code != expected:
            issues.append(issue("value", f"typeOfAlertInformation '{type_code}' does not match the body element "
                                f"'{choice}' (expected '{expected}')", type_cv, "code"))
        if not type_code or text(type_cv, "codeSystem") != ALERT_TYPE_OID:
            type_code = expected
    start = _time(body, "validityTimePeriod", "start")
    end = _time(body, "validityTimePeriod", "end")
    if start and end and end < start:
        issues.append(issue("value", "validityTimePeriod/end is before validityTimePeriod/start",
                            child(body, "validityTimePeriod"), "end"))
    return BodyInfo(
        choice=choice,
        type_code=type_code,
        type_display=type_display,
        start=start,
        end=end,
        obsolete=_time(body, "obsoleteTime"),
        comment=text(body, "alertInformationComment"),
        obsolete_comment=text(body, "obsoleteComment"),
    )
