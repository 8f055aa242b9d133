"""Adapter `hl7v2`: HL7 v2 ADT^A01 / ADT^A08 with PID and AL1 segments → FHIR (domain.md section 3).

Information source (domain.md section 5) — the choice made here:
- care unit: PV1-3.4 (assigned location's facility, HD universal id) when it is an HSA-id, else MSH-4
  (sending facility: HD universal id, or namespace id when that is an HSA-id);
- care giver: MSH-22 (sending responsible organization, XON.10 organization identifier, or XON.3 id number).
MSH-6 names the receiver (the hub) and is not a source. Without both HSA-ids the extension is left out and the
consent filter fails closed. One Provenance per message (MSH-10 control id) targets every AllergyIntolerance.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

from adapters._bundle import collection_bundle, information_source, stable_id, urn
from adapters._time import timestamp_to_fhir
from adapters._v2 import Segment, parse_message
from adapters._v2_map import allergy, patient
from hub.fhir.errors import InvalidInput, Issue
from hub.identity import HSA_SYSTEM

MESSAGE_SYSTEM = "https://knutpunkt.se/fhir/sid/hl7v2-message"
SUPPORTED = {("ADT", "A01"), ("ADT", "A08")}
_HSA = re.compile(r"^SE\d{10}-[A-Za-z0-9]+$")


def _hsa(*candidates: str) -> str | None:
    return next((c for c in candidates if c and _HSA.match(c)), None)


def _one(segments: list[Segment], name: str, issues: list[Issue]) -> Segment | None:
    found = [s for s in segments if s.name == name]
    if len(found) != 1:
        line = found[1].line if found else None
        issues.append(Issue("error", "structure", f"the message must contain exactly one {name} segment (found {len(found)})",
                            (name,), line))
        return None
    return found[0]


def _source(msh: Segment, pv1: Segment | None) -> tuple[str | None, str | None]:
    """(care giver, care unit) HSA-ids per the module docstring."""
    unit = _hsa(pv1.component(3, 4, sub=2), pv1.component(3, 4, sub=1)) if pv1 else None
    unit = unit or _hsa(msh.component(4, 2), msh.component(4, 1))
    giver = _hsa(msh.component(22, 10), msh.component(22, 3))
    return giver, unit


def _header(msh: Segment, issues: list[Issue]) -> tuple[str, str | None]:
    """(control id, recorded instant) after checking MSH-9, MSH-10 and MSH-7."""
    kind = (msh.component(9, 1), msh.component(9, 2))
    if kind not in SUPPORTED:
        issues.append(Issue("error", "not-supported", f"message type '{'^'.join(kind)}' is not supported "
                            "(expected ADT^A01 or ADT^A08)", (msh.where(9),), msh.line))
    control = msh.component(10)
    if not control:
        issues.append(Issue("error", "required", "MSH-10 (message control id) is required", (msh.where(10),), msh.line))
    stamp = re.match(r"^\d{8,14}", msh.component(7))
    recorded = None
    if stamp and len(stamp.group(0)) in (8, 10, 12, 14):
        try:
            recorded = timestamp_to_fhir(stamp.group(0).ljust(14, "0"))
        except ValueError:
            recorded = None
    if recorded is None:
        issues.append(Issue("error", "value", "MSH-7 (date/time of message) is missing or not a date/time",
                            (msh.where(7),), msh.line))
    return control, recorded


def convert_v2(payload: bytes, today: date | None = None) -> dict[str, Any]:
    """The collection Bundle (Patient, AllergyIntolerances, Provenance) for one ADT message."""
    today = today or datetime.now(UTC).date()
    segments = parse_message(payload)
    msh = segments[0]
    issues: list[Issue] = []
    control, recorded = _header(msh, issues)
    pid = _one(segments, "PID", issues)
    pv1 = next((s for s in segments if s.name == "PV1"), None)
    care_giver, care_unit = _source(msh, pv1)
    ext = information_source(care_giver, care_unit, "upp") if care_giver and care_unit else None
    source_key = care_unit or msh.component(4, 2) or msh.component(4, 1) or msh.component(3, 1) or "unknown"
    pat = patient(pid, today, issues) if pid else None
    entries: list[tuple[str, dict[str, Any]]] = []
    if pat is not None:
        patient_url = urn(str(uuid.uuid4()))
        entries.append((patient_url, pat))
        key = pat["identifier"][0]["value"]
        first_of: dict[str, Segment] = {}
        for al1 in (s for s in segments if s.name == "AL1"):
            res = allergy(al1, patient_url, key, source_key, ext, issues)
            if res is None:
                continue
            if res["id"] in first_of:
                issues.append(Issue("error", "duplicate", f"{al1.where()} repeats the allergen of "
                                    f"{first_of[res['id']].where()}", (al1.where(3),), al1.line))
                continue
            first_of[res["id"]] = al1
            entries.append((urn(res["id"]), res))
    if issues:
        raise InvalidInput(f"HL7 v2 message has {len(issues)} problem(s)", issues)
    targets = [url for url, r in entries if r["resourceType"] == "AllergyIntolerance"]
    if targets:
        entries.append(_provenance(source_key, control, recorded, targets, care_giver, care_unit, msh, ext))
    return collection_bundle(entries)


def _provenance(
    source_key: str, control: str, recorded: str | None, targets: list[str], care_giver: str | None,
    care_unit: str | None, msh: Segment, ext: dict[str, Any] | None,
) -> tuple[str, dict[str, Any]]:
    rid = stable_id("Provenance", source_key, control)
    res: dict[str, Any] = {"resourceType": "Provenance", "id": rid}
    if ext:
        res["extension"] = [ext]
    res["target"] = [{"reference": t} for t in targets]
    res["recorded"] = recorded
    who: dict[str, Any] = (
        {"type": "Organization", "identifier": {"system": HSA_SYSTEM, "value": care_unit}} if care_unit
        else {"type": "Device", "display": msh.component(3, 1) or source_key}
    )
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                             "code": "author", "display": "Author"}]},
        "who": who,
    }
    if care_giver and care_unit:
        agent["onBehalfOf"] = {"type": "Organization", "identifier": {"system": HSA_SYSTEM, "value": care_giver}}
    res["agent"] = [agent]
    res["entity"] = [{"role": "source", "what": {"identifier": {"system": MESSAGE_SYSTEM, "value": f"{source_key}/{control}"}}}]
    return urn(rid), res


class Hl7v2Adapter:
    """HL7 v2 ADT^A01/A08 (PID, AL1) → collection Bundle."""

    name = "hl7v2"

    def convert(self, payload: bytes) -> dict[str, Any]:
        return convert_v2(payload)


adapter = Hl7v2Adapter()
