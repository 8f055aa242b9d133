"""compile_policy: what makes a directive set unreadable (rule 1, fail closed), and the shipped examples."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from consent_builders import (
    GIVER_A,
    GIVER_OF,
    HSA,
    REGISTRY_HSA,
    UNIT_A1,
    UNIT_A2,
    UNIT_B1,
    allergy,
    block,
    consent,
    noon,
    opt_out,
    organizations,
    patient,
)

from hub.consent import Requester, compile_policy, decide
from hub.paths import examples_dir

NOW = noon(5)
REQUESTERS = [
    Requester(GIVER_A, UNIT_A1, None, "TREAT", frozenset({(HSA, UNIT_A1)})),
    Requester(GIVER_A, UNIT_A2, None, "ETREAT"),
    Requester(GIVER_OF[UNIT_B1], UNIT_B1, None, "ETREAT"),
    Requester(None, None, None, "HQUALIMP", frozenset({(HSA, REGISTRY_HSA["R1"])})),
]


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def apply(c: dict) -> None:
        *parents, last = path.split(".")
        node: Any = c
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return apply


_DELETE = object()
BREAKAGES: list[tuple[str, Callable[[], dict], Callable[[dict], None]]] = [
    ("unknown category", lambda: consent("c", UNIT_B1), _set("category.0.coding.0.code", "samtycke")),
    ("two categories", lambda: consent("c", UNIT_B1),
     lambda c: c["category"].append(copy.deepcopy(c["category"][0]))),
    ("unknown status", lambda: block("b", UNIT_A1, inner=True), _set("status", "Active")),
    ("no id", lambda: block("b", UNIT_A1, inner=True), _set("id", _DELETE)),
    ("no scope", lambda: block("b", UNIT_A1, inner=True), _set("scope", _DELETE)),
    ("no patient", lambda: block("b", UNIT_A1, inner=True), _set("patient", _DELETE)),
    ("block without actor", lambda: block("b", UNIT_A1, inner=True), _set("provision.actor", _DELETE)),
    ("block with permit type", lambda: block("b", UNIT_A1, inner=True), _set("provision.type", "permit")),
    ("block without block type", lambda: block("b", UNIT_A1, inner=True), _set("extension", _DELETE)),
    ("block type unknown", lambda: block("b", UNIT_A1, inner=True), _set("extension.0.valueCode", "both")),
    ("block actor role IRCP", lambda: block("b", UNIT_A1, inner=True),
     _set("provision.actor.0.role.coding.0.code", "IRCP")),
    ("unresolvable actor", lambda: block("b", UNIT_A1, inner=True),
     _set("provision.actor.0.reference.reference", "Organization/nowhere")),
    ("actor without identifiers", lambda: block("b", UNIT_A1, inner=True),
     _set("provision.actor.0.reference", {"display": "Akuten"})),
    ("malformed dataPeriod", lambda: block("b", UNIT_A1, inner=True, data_period=(1, 2)),
     _set("provision.dataPeriod.start", "last year")),
    ("dataPeriod start after end", lambda: block("b", UNIT_A1, inner=True, data_period=(2, 5)),
     _set("provision.dataPeriod.start", "2025-01-10")),
    ("revoke without period", lambda: block("b", UNIT_A1, inner=True, revokes=((UNIT_A2, None, 1, 2),)),
     _set("provision.provision.0.period", _DELETE)),
    ("exclusion with foreign code", lambda: block("b", UNIT_A1, inner=True, excluded=("upp",)),
     _set("provision.provision.0.code.0.coding.0.system", "http://snomed.info/sct")),
    ("unknown provision element", lambda: block("b", UNIT_A1, inner=True), _set("provision.class", [])),
    ("modifierExtension", lambda: consent("c", UNIT_B1), _set("modifierExtension", [{"url": "x"}])),
    ("consent untyped practitioner", lambda: consent("c", UNIT_B1),
     lambda c: c["provision"]["actor"].append({"role": c["provision"]["actor"][0]["role"],
                                               "reference": {"identifier": {"system": HSA, "value": "x"}}})),
    ("consent without unit", lambda: consent("c", UNIT_B1), _set("provision.actor", [])),
    ("consent malformed period", lambda: consent("c", UNIT_B1, days=(1, 3)), _set("provision.period.end", 2025)),
    ("opt-out without purpose", lambda: opt_out("o", "R1"), _set("provision.purpose", _DELETE)),
    ("opt-out wrong purpose", lambda: opt_out("o", "R1"), _set("provision.purpose.0.code", "TREAT")),
    ("not a Consent", lambda: opt_out("o", "R1"), _set("resourceType", "Contract")),
    ("provision not an object", lambda: opt_out("o", "R1"), _set("provision", [])),
]


@pytest.mark.parametrize(("name", "make", "breakage"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_a_directive_not_understood_denies_everything(name: str, make: Callable[[], dict],
                                                      breakage: Callable[[dict], None]) -> None:
    good = make()
    assert compile_policy([good], organizations()).readable
    bad = copy.deepcopy(good)
    breakage(bad)
    policy = compile_policy([consent("ok", UNIT_B1), bad], organizations())
    assert not policy.readable and policy.problem
    for requester in REQUESTERS:
        for resource in (allergy(GIVER_A, UNIT_A1), patient()):
            d = decide(policy, resource, requester, NOW)
            assert (d.permit, d.rule) == (False, "unreadable-directives")


def test_inactive_directive_is_not_read_at_all() -> None:
    broken = block("b", UNIT_A1, inner=True, status="inactive")
    broken["provision"] = "garbage"
    assert compile_policy([broken]).readable


def test_directives_for_two_patients_are_unreadable() -> None:
    other = consent("c2", UNIT_B1)
    other["patient"] = {"reference": "Patient/p2"}
    assert not compile_policy([consent("c1", UNIT_B1), other], organizations()).readable


def test_compile_never_raises() -> None:
    for junk in ([None], [1], ["Consent"], [{"resourceType": "Consent", "status": "active", "id": "x",
                                             "scope": "patient-privacy"}]):
        assert not compile_policy(junk).readable  # type: ignore[arg-type]


def test_contained_and_absolute_actor_references() -> None:
    c = consent("c1", UNIT_B1)
    c["contained"] = [{"resourceType": "Organization", "id": "u", "identifier": [{"system": HSA, "value": UNIT_B1}]}]
    c["provision"]["actor"][0]["reference"] = {"reference": "#u"}
    req = Requester(GIVER_OF[UNIT_B1], UNIT_B1, None, "TREAT")
    assert decide(compile_policy([c]), allergy(GIVER_A, UNIT_A1), req, NOW).permit
    c2 = consent("c1", UNIT_B1)
    c2["provision"]["actor"][0]["reference"] = {"reference": f"https://hub.example/fhir/Organization/{UNIT_B1}"}
    assert decide(compile_policy([c2], organizations()), allergy(GIVER_A, UNIT_A1), req, NOW).permit


def test_riv_hsa_system_is_the_same_identifier() -> None:
    c = consent("c1", UNIT_B1, literal=False)
    c["provision"]["actor"][0]["reference"]["identifier"]["system"] = "urn:oid:1.2.752.129.2.1.4.1"
    req = Requester(GIVER_OF[UNIT_B1], UNIT_B1, None, "TREAT")
    assert decide(compile_policy([c]), allergy(GIVER_A, UNIT_A1), req, NOW).permit


# The shipped examples --------------------------------------------------------------------------------------

def _examples() -> tuple[list[dict], dict[str, dict]]:
    resources = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((examples_dir() / "consents").glob("*.json"))]
    orgs = {f"Organization/{r['id']}": r for r in resources if r["resourceType"] == "Organization"}
    return [r for r in resources if r["resourceType"] == "Consent"], orgs


def test_examples_cover_every_directive_kind_and_compile() -> None:
    consents, orgs = _examples()
    kinds = {c["category"][0]["coding"][0]["code"] for c in consents}
    assert kinds == {"block", "consent", "registry-opt-out"}
    policy = compile_policy(consents, orgs)
    assert policy.readable, policy.problem
    assert len(policy.consent_ids) == len(consents) == 7


def test_examples_decide_as_described() -> None:
    consents, orgs = _examples()
    policy = compile_policy(consents, orgs)
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    norr, akuten, allergi = "SE2321000016-1000", "SE2321000016-1001", "SE2321000016-1002"
    syd, vardcentral = "SE2321000016-2000", "SE2321000016-2001"
    akut_req = Requester(norr, akuten, None, "TREAT")
    syd_doctor = Requester(syd, vardcentral, "SE2321000016-5001", "TREAT")
    syd_other = Requester(syd, vardcentral, "SE2321000016-5999", "TREAT")
    # Inner block on Allergimottagningen, temporarily revoked for Akuten in Nov-Dec 2026.
    assert decide(policy, allergy(norr, allergi), akut_req, now).rule == "block-revoked"
    assert decide(policy, allergy(norr, allergi), akut_req, datetime(2027, 1, 2, tzinfo=UTC)).rule == "blocked"
    # Outer block on Region Norrland for 2023 data; consent for one doctor at Vårdcentralen Sydby.
    r2023, r2024 = allergy(norr, akuten, recorded=None), allergy(norr, "SE2321000016-1003")
    r2023["recordedDate"] = "2023-06-01"
    r2024["recordedDate"] = "2024-06-01"
    assert decide(policy, r2023, syd_doctor, now).rule == "blocked"
    assert decide(policy, r2024, syd_doctor, now).rule == "consent"
    assert decide(policy, r2024, syd_other, now).rule == "no-consent"
    # Outer block on Region Sydland excludes alert information (upp).
    other_giver = Requester(norr, akuten, None, "ETREAT")
    assert decide(policy, allergy(syd, vardcentral, itype="upp"), other_giver, now).permit
    assert decide(policy, allergy(syd, vardcentral, itype="lak"), other_giver, now).rule == "blocked"
    # Opt-outs: every registry.
    for reg in ("SE2321000016-9001", "SE2321000016-9002"):
        reg_req = Requester(None, None, None, "HQUALIMP", frozenset({(HSA, reg)}))
        assert decide(policy, allergy(norr, akuten), reg_req, now).rule == "registry-opt-out"
    only_one = [c for c in consents if c["id"] != "registry-opt-out-all"]
    policy_one = compile_policy(only_one, orgs)
    by_orgnr = Requester(None, None, None, "HQUALIMP", frozenset({("urn:oid:2.5.4.97", "2220009991")}))
    assert not decide(policy_one, allergy(norr, akuten), by_orgnr, now).permit
    hjarta = Requester(None, None, None, "HQUALIMP", frozenset({(HSA, "SE2321000016-9002")}))
    assert decide(policy_one, allergy(norr, akuten), hjarta, now).permit


def test_examples_are_structurally_valid_fhir() -> None:
    from fhir.resources.R4B.consent import Consent
    from fhir.resources.R4B.organization import Organization

    consents, orgs = _examples()
    for c in consents:
        Consent.model_validate(c)
        assert c["meta"]["profile"] == ["https://knutpunkt.se/fhir/StructureDefinition/pdl-consent"]
    for o in orgs.values():
        Organization.model_validate(o)
    units = [o for o in orgs.values() if "partOf" in o]
    assert units and all(o["partOf"]["reference"] in orgs for o in units)


def test_literal_practitioner_reference_is_resolved_through_the_map() -> None:
    c = consent("c1", UNIT_B1)
    c["provision"]["actor"].append({"role": c["provision"]["actor"][0]["role"],
                                    "reference": {"reference": "Practitioner/dr"}})
    resources = {**organizations(), "Practitioner/dr": {
        "resourceType": "Practitioner", "id": "dr", "identifier": [{"system": HSA, "value": "SE2321000016-5001"}]}}
    policy = compile_policy([c], resources)
    doctor = Requester(GIVER_OF[UNIT_B1], UNIT_B1, "SE2321000016-5001", "TREAT")
    other = Requester(GIVER_OF[UNIT_B1], UNIT_B1, "SE2321000016-5002", "TREAT")
    assert decide(policy, allergy(GIVER_A, UNIT_A1), doctor, NOW).permit
    assert not decide(policy, allergy(GIVER_A, UNIT_A1), other, NOW).permit
    assert not compile_policy([c], organizations()).readable  # Practitioner/dr unknown
    resources["Practitioner/dr"]["resourceType"] = "Organization"  # reference type and resource disagree
    assert not compile_policy([c], resources).readable
