"""GetAlertInformation 2.0 response → FHIR collection Bundle (domain.md section 2).

Order: hardened parse, envelope, XSD structure and Schematron checks, then per alertInformation the
header (patient identity), body and resource mapping. Every issue is collected; any issue → InvalidInput.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree

from adapters._bundle import SE_PATIENT_PROFILE, collection_bundle, information_source, urn
from adapters._xml import parse_xml
from adapters.rivta_alert._allergy import allergy_intolerance
from adapters.rivta_alert._body import read_body
from adapters.rivta_alert._envelope import find_response
from adapters.rivta_alert._flag import flag
from adapters.rivta_alert._header import Header, read_header
from adapters.rivta_alert._paths import RESPONDER_NS, child, children, issue, text
from adapters.rivta_alert._provenance import provenance
from adapters.rivta_alert._schema import check_response
from adapters.rivta_alert._schematron import BODY_CHOICES, check_rules
from hub.fhir.errors import InvalidInput, Issue

INFORMATION_TYPE = "upp"  # PDL information type of alert information (domain.md section 5)


class _Patients:
    """One Patient entry per distinct identifier in the response (fresh urn:uuid, no id)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, dict[str, Any]]] = []
        self._urls: dict[tuple[str, str], str] = {}

    def url_for(self, identifier: dict[str, Any]) -> str:
        key = (identifier["system"], identifier["value"])
        if key not in self._urls:
            url = urn(str(uuid.uuid4()))
            self._urls[key] = url
            patient = {"resourceType": "Patient", "meta": {"profile": [SE_PATIENT_PROFILE]}, "identifier": [dict(identifier)]}
            self.entries.append((url, patient))
        return self._urls[key]


def _source_extension(header: Header) -> dict[str, Any] | None:
    """The information-source extension; left out (consent then fails closed) without both HSA-ids."""
    if header.care_giver and header.care_unit:
        return information_source(header.care_giver, header.care_unit, INFORMATION_TYPE)
    return None


def _map_alert(
    alert: etree._Element, patients: _Patients, now: datetime, today: date, issues: list[Issue]
) -> list[tuple[str, dict[str, Any]]]:
    header = read_header(child(alert, "alertInformationHeader"), today, issues)
    body_elem = child(alert, "alertInformationBody")
    if body_elem is None:
        return []
    body = read_body(body_elem, BODY_CHOICES, issues)
    if header is None or body.choice is None:
        return []
    content = child(body_elem, body.choice)
    assert content is not None
    patient_url = patients.url_for(header.patient)
    ext = _source_extension(header)
    if body.choice == "hypersensitivity":
        clinical = allergy_intolerance(content, header, body, patient_url, now, ext)
    else:
        clinical = flag(content, header, body, patient_url, now, ext)
    clinical_url = urn(clinical["id"])
    prov = provenance(header, clinical_url, ext)
    return [(clinical_url, clinical), (urn(prov["id"]), prov)]


def _check_result(response: etree._Element, issues: list[Issue]) -> None:
    for result in children(response, "result", RESPONDER_NS):
        if text(result, "resultCode") == "ERROR":
            message = text(result, "message") or text(result, "errorCode") or "no message"
            issues.append(issue("processing", f"the source system reported an error: {message}", result, "resultCode"))


def _dedupe(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))


def convert_response(payload: bytes, now: datetime | None = None) -> dict[str, Any]:
    """The collection Bundle for a GetAlertInformation response (bare or in SOAP); InvalidInput with all issues.

    `now` decides inactive status (validity ended / obsolete) and the century of 10-digit person numbers.
    """
    now = now or datetime.now(UTC)
    today = now.date()
    response = find_response(parse_xml(payload))
    issues = check_response(response) + check_rules(response)
    _check_result(response, issues)
    patients = _Patients()
    clinical: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for alert in children(response, "alertInformation", RESPONDER_NS):
        mapped = _map_alert(alert, patients, now, today, issues)
        if mapped and mapped[0][0] in seen:
            doc = mapped[0][1]["identifier"][0]["value"]
            issues.append(issue("duplicate", f"document {doc} occurs more than once in the response",
                                alert, "alertInformationHeader/documentId"))
            continue
        seen.update(url for url, _ in mapped)
        clinical.extend(mapped)
    if issues:
        issues = _dedupe(issues)
        raise InvalidInput(f"GetAlertInformation response has {len(issues)} problem(s)", issues)
    return collection_bundle([*patients.entries, *clinical])
