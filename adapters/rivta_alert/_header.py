"""Read alertInformationHeader: document identity, patient, author and information source (domain.md section 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from lxml import etree

from adapters._time import timestamp_to_fhir
from adapters.rivta_alert._paths import child, issue, path, text
from hub.fhir.errors import InvalidInput, Issue
from hub.identity import HSA_SYSTEM, normalise_identifier

DOCUMENT_SYSTEM = "https://knutpunkt.se/fhir/sid/rivta-document"


@dataclass(frozen=True)
class Header:
    """The parts of alertInformationHeader the mapping needs, already normalised."""

    document_id: str
    source_system: str
    patient: dict[str, Any]  # FHIR Identifier
    author_time: str | None  # FHIR dateTime
    professional: str | None
    professional_name: str | None
    care_unit: str | None
    care_giver: str | None

    @property
    def document_identifier(self) -> dict[str, str]:
        return {"system": DOCUMENT_SYSTEM, "value": f"{self.source_system}/{self.document_id}"}

    def professional_ref(self) -> dict[str, Any] | None:
        """Reference to the accountable professional by HSA-id (or by name only)."""
        ref: dict[str, Any] = {}
        if self.professional:
            ref = {"type": "Practitioner", "identifier": {"system": HSA_SYSTEM, "value": self.professional}}
        if self.professional_name:
            ref["display"] = self.professional_name
        return ref or None

    def care_unit_ref(self) -> dict[str, Any] | None:
        if not self.care_unit:
            return None
        return {"type": "Organization", "identifier": {"system": HSA_SYSTEM, "value": self.care_unit}}


def _required_text(parent: etree._Element | None, name: str, issues: list[Issue]) -> str | None:
    """Text of a required simple child; an issue when present but empty (absence is a schema issue)."""
    elem = child(parent, name)
    if elem is None:
        return None
    value = text(parent, name)
    if value is None:
        issues.append(issue("required", f"'{name}' must not be empty", elem))
    return value


def read_header(header: etree._Element | None, today: date, issues: list[Issue]) -> Header | None:
    """The header's values, or None when a key part is missing (the issues say why)."""
    if header is None:
        return None
    doc = _required_text(header, "documentId", issues)
    src = _required_text(header, "sourceSystemHSAId", issues)
    pid = child(header, "patientId")
    pid_value = _required_text(pid, "id", issues)
    pid_type = _required_text(pid, "type", issues)
    patient = None
    if pid is not None and pid_value and pid_type:
        try:
            patient = normalise_identifier(pid_type, pid_value, today=today, expression=f"{path(pid)}/id")
        except InvalidInput as exc:
            id_elem = child(pid, "id")
            line = id_elem.sourceline if id_elem is not None else None
            issues.extend(Issue(i.severity, i.code, i.diagnostics, i.expression, line) for i in exc.issues)
    prof = child(header, "accountableHealthcareProfessional")
    author = text(prof, "authorTime")
    try:
        author_time = timestamp_to_fhir(author) if author else None
    except ValueError:
        author_time = None  # the schema check reports the bad timestamp
    if doc is None or src is None or patient is None:
        return None
    return Header(
        document_id=doc,
        source_system=src,
        patient=patient,
        author_time=author_time,
        professional=text(prof, "healthcareProfessionalHSAId"),
        professional_name=text(prof, "healthcareProfessionalName"),
        care_unit=text(prof, "healthcareProfessionalCareUnitHSAId"),
        care_giver=text(prof, "healthcareProfessionalCareGiverHSAId"),
    )
