"""build_audit_event: one R4 AuditEvent per consent decision (domain.md section 5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.auditevent import AuditEvent

from hub.audit import CONSENT_RULE_URL, EMERGENCY_ACCESS_URL, build_audit_event
from hub.consent import Decision, Requester

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
HSA = "urn:oid:1.2.752.29.4.19"
DOCTOR = Requester("SE2321000016-2000", "SE2321000016-2001", "SE2321000016-5001", "TREAT")
REGISTRY = Requester(None, None, None, "HQUALIMP",
                     frozenset({(HSA, "SE2321000016-9001"), ("urn:oid:2.5.4.97", "2220009991")}))


def build(decision: Decision, requester: Requester = DOCTOR, action: str = "R", **kw: object) -> dict:
    args: dict = {"decision": decision, "requester": requester, "patient_ref": "Patient/p1",
                  "entity_ref": "AllergyIntolerance/a1", "action": action, "source": "knutpunkt", "now": NOW}
    args.update(kw)
    event = build_audit_event(**args)
    AuditEvent.model_validate(event)  # structurally valid FHIR
    return event


def _ext(event: dict, url: str) -> list:
    return [e for e in event.get("extension", []) if e["url"] == url]


def test_permitted_read() -> None:
    e = build(Decision(True, "consent", ("c1",)))
    assert e["resourceType"] == "AuditEvent"
    assert (e["action"], e["outcome"], e["outcomeDesc"]) == ("R", "0", "consent")
    assert e["type"]["code"] == "110110" and e["subtype"][0]["code"] == "read"
    assert e["recorded"].startswith("2026-11-25T10:30:00")
    assert _ext(e, CONSENT_RULE_URL)[0]["valueCode"] == "consent"
    assert e["purposeOfEvent"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}
    whats = [x["what"]["reference"] for x in e["entity"]]
    assert whats == ["Patient/p1", "AllergyIntolerance/a1", "Consent/c1"]
    assert [x["role"]["code"] for x in e["entity"]] == ["1", "4", "13"]
    assert not _ext(e, EMERGENCY_ACCESS_URL)


def test_agents_name_the_person_unit_and_giver() -> None:
    agents = build(Decision(True, "same-unit"))["agent"]
    assert [a["requestor"] for a in agents] == [True, False, False]
    assert agents[0]["who"]["identifier"] == {"system": HSA, "value": "SE2321000016-5001"}
    assert [(a["role"][0]["text"], a["who"]["identifier"]["value"]) for a in agents[1:]] == [
        ("care-unit", "SE2321000016-2001"), ("care-giver", "SE2321000016-2000")]
    assert all(a["purposeOfUse"][0]["coding"][0]["code"] == "TREAT" for a in agents)


def test_client_id_that_is_not_an_hsa_id() -> None:
    req = Requester("SE2321000016-2000", "SE2321000016-2001", "npo-client", "TREAT")
    who = build(Decision(True, "same-unit"), req)["agent"][0]["who"]["identifier"]
    assert who == {"system": "https://knutpunkt.se/fhir/sid/client-id", "value": "npo-client"}


def test_denied_registry_delivery() -> None:
    e = build(Decision(False, "registry-opt-out", ("o1", "o2")), REGISTRY, "E")
    assert (e["outcome"], e["outcomeDesc"], e["action"]) == ("4", "registry-opt-out", "E")
    assert e["type"]["code"] == "110106" and e["subtype"][0]["code"] == "update"
    assert [a["who"]["identifier"]["value"] for a in e["agent"]] == ["SE2321000016-9001", "2220009991"]
    assert e["agent"][0]["requestor"] is True
    assert [x["what"]["reference"] for x in e["entity"]][-2:] == ["Consent/o1", "Consent/o2"]


def test_retraction_and_interaction_override() -> None:
    assert build(Decision(True, "registry-permit"), REGISTRY, "D")["subtype"][0]["code"] == "delete"
    assert build(Decision(True, "consent"), interaction="search-type")["subtype"][0]["code"] == "search-type"


def test_emergency_access_is_marked() -> None:
    req = Requester("SE2321000016-2000", "SE2321000016-2001", "SE2321000016-5001", "ETREAT")
    e = build(Decision(True, "emergency", (), True), req)
    assert _ext(e, EMERGENCY_ACCESS_URL) == [{"url": EMERGENCY_ACCESS_URL, "valueBoolean": True}]
    assert e["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
    denied = build(Decision(False, "blocked", ("b1",), True), req)
    assert _ext(denied, EMERGENCY_ACCESS_URL) and denied["outcome"] == "4"


def test_patient_read_has_no_separate_resource_entity() -> None:
    e = build(Decision(True, "patient-demographics"), entity_ref="Patient/p1")
    assert [x["what"]["reference"] for x in e["entity"]] == ["Patient/p1"]
    assert len(build(Decision(True, "consent"), entity_ref=None)["entity"]) == 1


def test_naive_time_is_utc_and_bad_action_is_refused() -> None:
    e = build(Decision(True, "consent"), now=datetime(2026, 11, 25, 10, 30))
    assert e["recorded"] == "2026-11-25T10:30:00.000+00:00"
    with pytest.raises(ValueError):
        build(Decision(True, "consent"), action="X")


def test_events_do_not_share_mutable_parts() -> None:
    e = build(Decision(True, "same-unit"))
    e["agent"][0]["purposeOfUse"][0]["coding"][0]["code"] = "changed"
    assert e["agent"][1]["purposeOfUse"][0]["coding"][0]["code"] == "TREAT"
    assert e["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
