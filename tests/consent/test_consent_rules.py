"""One example per rule and edge of domain.md section 5 (the PDL decision)."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest
from consent_builders import (
    GIVER_A,
    GIVER_B,
    GIVER_OF,
    HSA,
    ORGNR,
    PRAC_1,
    PRAC_2,
    REGISTRY_HSA,
    REGISTRY_ORGNR,
    UNIT_A1,
    UNIT_A2,
    UNIT_B1,
    UNIT_B2,
    allergy,
    block,
    consent,
    noon,
    opt_out,
    organizations,
)

from hub.consent import Decision, Requester, compile_policy, decide, decide_many

NOW = noon(5)


def req(unit: str, purpose: str = "TREAT", prac: str | None = None) -> Requester:
    return Requester(GIVER_OF[unit], unit, prac, purpose, frozenset({(HSA, unit)}))


def registry(name: str, by_orgnr: bool = False) -> Requester:
    ident = (ORGNR, REGISTRY_ORGNR[name]) if by_orgnr else (HSA, REGISTRY_HSA[name])
    return Requester(None, None, None, "HQUALIMP", frozenset({ident}))


def run(directives: list[dict], resource: dict, requester: Requester, now: datetime = NOW) -> Decision:
    policy = compile_policy(directives, organizations())
    assert policy.readable, policy.problem
    return decide(policy, resource, requester, now)


A1_ALLERGY = allergy(GIVER_A, UNIT_A1, recorded=3)


# Rule 1 -------------------------------------------------------------------------------------------------

def test_no_information_source_denies_even_the_same_unit() -> None:
    d = run([], allergy(None, None), req(UNIT_A1))
    assert (d.permit, d.rule) == (False, "no-information-source")


def test_information_source_without_care_unit_denies() -> None:
    assert not run([], allergy(GIVER_A, None), req(UNIT_A2)).permit


def test_information_source_with_wrong_identifier_system_denies() -> None:
    r = allergy(GIVER_A, UNIT_A1)
    r["extension"][0]["extension"][1]["valueIdentifier"]["system"] = "urn:oid:1.2.3"
    assert run([], r, req(UNIT_A1)).rule == "no-information-source"


def test_unsupported_purpose_and_unknown_requester_deny() -> None:
    assert run([], A1_ALLERGY, Requester(GIVER_A, UNIT_A1, None, "HPAYMT")).rule == "unsupported-purpose"
    assert run([], A1_ALLERGY, Requester(None, None, "someone", "TREAT")).rule == "unknown-requester"


def test_error_inside_the_engine_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    import hub.consent._decide as engine

    def boom(resource: dict) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "information_source", boom)
    d = run([], A1_ALLERGY, req(UNIT_A1))
    assert (d.permit, d.rule) == (False, "error")
    assert [x.rule for x in decide_many(compile_policy([]), [A1_ALLERGY] * 2, req(UNIT_A1), NOW)] == ["error"] * 2


def test_resource_that_is_not_a_dict_denies() -> None:
    assert decide(compile_policy([]), None, req(UNIT_A1), NOW).rule == "error"  # type: ignore[arg-type]


# Rule 2 -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("requester", "permit"),
    [(req(UNIT_A1), True), (req(UNIT_A1, "ETREAT"), True), (req(UNIT_A2), False), (req(UNIT_B1), False),
     (req(UNIT_B1, "ETREAT"), False), (registry("R1"), False)],
)
def test_confidentiality_v_only_for_the_source_unit(requester: Requester, permit: bool) -> None:
    d = run([consent("c1", UNIT_B1)], allergy(GIVER_A, UNIT_A1, confidential=True), requester)
    assert d.permit is permit
    if not permit:
        assert d.rule == "confidential"


# Rule 3 -------------------------------------------------------------------------------------------------

def test_registry_permitted_despite_blocks() -> None:
    directives = [block("b1", UNIT_A1, inner=True), block("b2", GIVER_A, inner=False)]
    d = run(directives, A1_ALLERGY, registry("R1"))
    assert (d.permit, d.rule) == (True, "registry-permit")


def test_registry_opt_out_for_one_registry() -> None:
    directives = [opt_out("o1", "R1")]
    d = run(directives, A1_ALLERGY, registry("R1"))
    assert (d.permit, d.rule, d.consent_ids) == (False, "registry-opt-out", ("o1",))
    assert not run(directives, A1_ALLERGY, registry("R1", by_orgnr=True)).permit
    assert run(directives, A1_ALLERGY, registry("R2")).permit


def test_registry_opt_out_by_organisation_number_actor() -> None:
    directives = [opt_out("o1", "R2", by_orgnr=True)]
    assert not run(directives, A1_ALLERGY, registry("R2", by_orgnr=True)).permit
    # The known Organization carries both identifiers, so the HSA-id is covered too.
    assert not run(directives, A1_ALLERGY, registry("R2")).permit
    assert run(directives, A1_ALLERGY, registry("R1")).permit
    # Without the Organization, the organisation number named in the directive still matches.
    policy = compile_policy(directives)
    assert not decide(policy, A1_ALLERGY, registry("R2", by_orgnr=True), NOW).permit


def test_registry_opt_out_for_all_registries() -> None:
    directives = [opt_out("o-all")]
    for name in ("R1", "R2"):
        d = run(directives, A1_ALLERGY, registry(name))
        assert (d.permit, d.consent_ids) == (False, ("o-all",))


def test_inactive_opt_out_is_ignored() -> None:
    assert run([opt_out("o1", status="inactive")], A1_ALLERGY, registry("R1")).permit


def test_opt_out_does_not_affect_care() -> None:
    assert run([opt_out("o1")], A1_ALLERGY, req(UNIT_A2)).permit


# Rule 4 -------------------------------------------------------------------------------------------------

def test_same_unit_permitted_despite_its_own_inner_block() -> None:
    d = run([block("b1", UNIT_A1, inner=True)], A1_ALLERGY, req(UNIT_A1))
    assert (d.permit, d.rule) == (True, "same-unit")


# Rule 5 -------------------------------------------------------------------------------------------------

def test_inner_block_denies_another_unit_of_the_same_care_giver() -> None:
    d = run([block("b1", UNIT_A1, inner=True)], A1_ALLERGY, req(UNIT_A2))
    assert (d.permit, d.rule, d.consent_ids) == (False, "blocked", ("b1",))


def test_inner_block_denies_another_care_giver_even_with_consent() -> None:
    d = run([block("b1", UNIT_A1, inner=True), consent("c1", UNIT_B1)], A1_ALLERGY, req(UNIT_B1))
    assert (d.permit, d.rule) == (False, "blocked")


def test_outer_block_denies_another_care_giver_even_with_consent() -> None:
    d = run([block("b1", GIVER_A, inner=False), consent("c1", UNIT_B1)], A1_ALLERGY, req(UNIT_B1))
    assert (d.permit, d.rule, d.consent_ids) == (False, "blocked", ("b1",))


def test_outer_block_does_not_apply_inside_the_blocked_care_giver() -> None:
    d = run([block("b1", GIVER_A, inner=False)], A1_ALLERGY, req(UNIT_A2))
    assert (d.permit, d.rule) == (True, "same-care-giver")


def test_block_on_another_unit_or_giver_does_not_apply() -> None:
    directives = [block("b1", UNIT_A2, inner=True), block("b2", GIVER_B, inner=False), consent("c1", UNIT_B1)]
    assert run(directives, A1_ALLERGY, req(UNIT_B1)).permit


@pytest.mark.parametrize(
    ("recorded", "blocked"), [(2, True), (3, True), (4, True), (1, False), (5, False)]
)
def test_data_period_limits_the_block(recorded: int, blocked: bool) -> None:
    directives = [block("b1", GIVER_A, inner=False, data_period=(2, 4)), consent("c1", UNIT_B1)]
    d = run(directives, allergy(GIVER_A, UNIT_A1, recorded=recorded), req(UNIT_B1))
    assert d.permit is not blocked


def test_data_period_partial_overlap_of_onset_period_blocks() -> None:
    r = allergy(GIVER_A, UNIT_A1)
    r["onsetPeriod"] = {"start": "2024-12-01", "end": "2025-01-03"}  # ends inside dataPeriod days 2-4
    directives = [block("b1", GIVER_A, inner=False, data_period=(2, 4)), consent("c1", UNIT_B1)]
    assert not run(directives, r, req(UNIT_B1)).permit
    r["onsetPeriod"] = {"start": "2024-12-01", "end": "2025-01-02"}  # ends the day before
    assert run(directives, r, req(UNIT_B1)).permit


def test_data_period_any_time_of_the_resource_overlapping_blocks() -> None:
    r = allergy(GIVER_A, UNIT_A1, recorded=9)
    r["onsetDateTime"] = "2025-01-04T08:00:00+01:00"
    directives = [block("b1", UNIT_A1, inner=True, data_period=(2, 4))]
    assert not run(directives, r, req(UNIT_A2)).permit


def test_data_period_uses_flag_period_and_last_updated() -> None:
    directives = [block("b1", UNIT_A1, inner=True, data_period=(2, 4))]
    flag = allergy(GIVER_A, UNIT_A1)
    flag["resourceType"] = "Flag"
    flag["period"] = {"start": "2025-01-04"}
    assert not run(directives, flag, req(UNIT_A2)).permit
    flag["period"] = {"start": "2025-01-06"}
    assert run(directives, flag, req(UNIT_A2)).permit
    updated = allergy(GIVER_A, UNIT_A1)
    updated["meta"] = {"lastUpdated": "2025-01-08T10:00:00Z"}
    assert run(directives, updated, req(UNIT_A2)).permit
    updated["meta"] = {"lastUpdated": "2025-01-03T10:00:00Z"}
    assert not run(directives, updated, req(UNIT_A2)).permit


@pytest.mark.parametrize("recorded", [None, "not-a-date", "2025-13-01"])
def test_data_period_with_unknown_resource_time_blocks(recorded: str | None) -> None:
    r = allergy(GIVER_A, UNIT_A1)
    if recorded is not None:
        r["recordedDate"] = recorded
    assert not run([block("b1", UNIT_A1, inner=True, data_period=(2, 4))], r, req(UNIT_A2)).permit


@pytest.mark.parametrize(("itype", "blocked"), [("upp", False), ("lak", True), (None, True)])
def test_excluded_information_type(itype: str | None, blocked: bool) -> None:
    directives = [block("b1", UNIT_A1, inner=True, excluded=("upp",))]
    assert run(directives, allergy(GIVER_A, UNIT_A1, itype=itype), req(UNIT_A2)).permit is not blocked


@pytest.mark.parametrize(
    ("now_day", "permit"), [(2, False), (3, True), (5, True), (7, True), (8, False)]
)
def test_temporary_revoke_window(now_day: int, permit: bool) -> None:
    directives = [block("b1", UNIT_A1, inner=True, revokes=((UNIT_A2, None, 3, 7),))]
    d = run(directives, A1_ALLERGY, req(UNIT_A2), noon(now_day))
    assert d.permit is permit
    assert d.rule == ("block-revoked" if permit else "blocked")


def test_temporary_revoke_expires_at_the_end_of_its_last_day() -> None:
    directives = [block("b1", UNIT_A1, inner=True, revokes=((UNIT_A2, None, 3, 7),))]
    assert run(directives, A1_ALLERGY, req(UNIT_A2), datetime.fromisoformat("2025-01-08T23:59:59+00:00")).permit
    assert not run(directives, A1_ALLERGY, req(UNIT_A2), datetime.fromisoformat("2025-01-09T00:00:00+00:00")).permit


def test_temporary_revoke_only_for_its_unit_or_practitioner() -> None:
    unit_revoke = [block("b1", UNIT_A1, inner=True, revokes=((UNIT_B2, None, 0, 9),))]
    assert not run(unit_revoke, A1_ALLERGY, req(UNIT_A2)).permit
    prac_revoke = [block("b1", UNIT_A1, inner=True, revokes=((None, PRAC_1, 0, 9),))]
    assert run(prac_revoke, A1_ALLERGY, req(UNIT_A2, prac=PRAC_1)).permit
    assert not run(prac_revoke, A1_ALLERGY, req(UNIT_A2, prac=PRAC_2)).permit
    both = [block("b1", UNIT_A1, inner=True, revokes=((UNIT_A2, PRAC_1, 0, 9),))]
    assert run(both, A1_ALLERGY, req(UNIT_A2, prac=PRAC_1)).permit
    assert not run(both, A1_ALLERGY, req(UNIT_A2, prac=PRAC_2)).permit


def test_revoked_block_at_another_care_giver_still_needs_consent() -> None:
    b = block("b1", GIVER_A, inner=False, revokes=((UNIT_B1, None, 0, 9),))
    assert run([b], A1_ALLERGY, req(UNIT_B1)).rule == "no-consent"
    d = run([b, consent("c1", UNIT_B1)], A1_ALLERGY, req(UNIT_B1))
    assert (d.permit, d.rule, d.consent_ids) == (True, "block-revoked", ("b1", "c1"))


def test_emergency_passes_inner_block_within_the_care_giver() -> None:
    d = run([block("b1", UNIT_A1, inner=True)], A1_ALLERGY, req(UNIT_A2, "ETREAT"))
    assert (d.permit, d.rule, d.emergency, d.consent_ids) == (True, "emergency", True, ("b1",))


@pytest.mark.parametrize("directive", [block("b1", UNIT_A1, inner=True), block("b1", GIVER_A, inner=False)])
def test_emergency_never_passes_a_block_at_another_care_giver(directive: dict) -> None:
    d = run([directive, consent("c1", UNIT_B1)], A1_ALLERGY, req(UNIT_B1, "ETREAT"))
    assert (d.permit, d.rule, d.emergency) == (False, "blocked", True)


def test_inactive_block_is_ignored() -> None:
    for status in ("inactive", "draft", "rejected", "entered-in-error", "proposed"):
        assert run([block("b1", UNIT_A1, inner=True, status=status)], A1_ALLERGY, req(UNIT_A2)).permit


def test_all_blocking_consents_are_named() -> None:
    directives = [block("b2", UNIT_A1, inner=True), block("b1", GIVER_A, inner=False), consent("c", UNIT_B1)]
    assert run(directives, A1_ALLERGY, req(UNIT_B1)).consent_ids == ("b1", "b2")


# Rule 6 -------------------------------------------------------------------------------------------------

def test_another_care_giver_needs_consent() -> None:
    d = run([], A1_ALLERGY, req(UNIT_B1))
    assert (d.permit, d.rule, d.consent_ids) == (False, "no-consent", ())
    d = run([consent("c1", UNIT_B1)], A1_ALLERGY, req(UNIT_B1))
    assert (d.permit, d.rule, d.consent_ids) == (True, "consent", ("c1",))


def test_consent_is_for_its_unit_practitioner_and_period_only() -> None:
    assert not run([consent("c1", UNIT_B2)], A1_ALLERGY, req(UNIT_B1)).permit
    named = [consent("c1", UNIT_B1, practitioner=PRAC_1)]
    assert run(named, A1_ALLERGY, req(UNIT_B1, prac=PRAC_1)).permit
    assert not run(named, A1_ALLERGY, req(UNIT_B1, prac=PRAC_2)).permit
    assert not run(named, A1_ALLERGY, req(UNIT_B1)).permit
    dated = [consent("c1", UNIT_B1, days=(0, 4))]
    assert run(dated, A1_ALLERGY, req(UNIT_B1), noon(4)).permit
    assert not run(dated, A1_ALLERGY, req(UNIT_B1), noon(5)).permit
    assert not run([consent("c1", UNIT_B1, status="inactive")], A1_ALLERGY, req(UNIT_B1)).permit


def test_consent_with_logical_references() -> None:
    assert run([consent("c1", UNIT_B1, literal=False)], A1_ALLERGY, req(UNIT_B1)).permit


def test_emergency_access_across_care_givers() -> None:
    d = run([], A1_ALLERGY, req(UNIT_B1, "ETREAT"))
    assert (d.permit, d.rule, d.emergency) == (True, "emergency", True)


# Rule 7 -------------------------------------------------------------------------------------------------

def test_same_care_giver_another_unit() -> None:
    d = run([], A1_ALLERGY, req(UNIT_A2))
    assert (d.permit, d.rule, d.emergency) == (True, "same-care-giver", False)


def test_decide_many_keeps_order_and_length() -> None:
    policy = compile_policy([block("b1", UNIT_A1, inner=True)], organizations())
    resources = [A1_ALLERGY, allergy(GIVER_A, UNIT_A2), allergy(None, None)]
    assert [d.rule for d in decide_many(policy, resources, req(UNIT_A2), NOW)] == [
        "blocked", "same-unit", "no-information-source"]


def test_hsa_ids_compare_case_insensitively_and_under_either_oid() -> None:
    lower_block = block("b1", UNIT_A1.lower(), inner=True, literal=False)
    lower_block["provision"]["actor"][0]["reference"]["identifier"]["system"] = "urn:oid:1.2.752.129.2.1.4.1"
    assert run([lower_block], A1_ALLERGY, req(UNIT_A2)).rule == "blocked"
    shouting = Requester(GIVER_A.lower(), f" {UNIT_A1.lower()} ", None, "TREAT")
    assert run([], A1_ALLERGY, shouting).rule == "same-unit"
    reg = Requester(None, None, None, "HQUALIMP", frozenset({("urn:oid:1.2.752.129.2.1.4.1", REGISTRY_HSA["R1"].lower())}))
    assert run([opt_out("o1", "R1")], A1_ALLERGY, reg).rule == "registry-opt-out"


def test_ambiguous_information_source_denies() -> None:
    twice = allergy(GIVER_A, UNIT_A1)
    twice["extension"].append(copy.deepcopy(twice["extension"][0]))
    assert run([], twice, req(UNIT_A1)).rule == "no-information-source"
    two_units = allergy(GIVER_A, UNIT_A1)
    two_units["extension"][0]["extension"].append(
        {"url": "careUnit", "valueIdentifier": {"system": HSA, "value": UNIT_A2}})
    assert run([], two_units, req(UNIT_A2)).rule == "no-information-source"
    not_text = allergy(GIVER_A, UNIT_A1)
    not_text["extension"][0]["extension"][1]["valueIdentifier"]["value"] = 1001
    assert not run([], not_text, req(UNIT_A1)).permit


def test_block_and_opt_out_validity_period() -> None:
    b = block("b1", UNIT_A1, inner=True)
    b["provision"]["period"] = {"start": "2025-01-03", "end": "2025-01-05"}
    assert run([b], A1_ALLERGY, req(UNIT_A2), noon(4)).rule == "blocked"
    assert run([b], A1_ALLERGY, req(UNIT_A2), noon(6)).permit
    o = opt_out("o1")
    o["provision"]["period"] = {"start": "2025-01-03"}
    assert run([o], A1_ALLERGY, registry("R1"), noon(1)).permit
    assert not run([o], A1_ALLERGY, registry("R1"), noon(3)).permit


def test_block_covers_its_organisation_whatever_level_it_names() -> None:
    outer_on_unit = [block("b1", UNIT_A1, inner=False), consent("c1", UNIT_B1)]
    assert run(outer_on_unit, A1_ALLERGY, req(UNIT_B1)).rule == "blocked"
    assert run(outer_on_unit, A1_ALLERGY, req(UNIT_A2)).permit  # outer: not inside the care giver
    assert run(outer_on_unit, allergy(GIVER_A, UNIT_A2), req(UNIT_B1)).permit
    inner_on_giver = [block("b1", GIVER_A, inner=True)]
    assert run(inner_on_giver, A1_ALLERGY, req(UNIT_A2)).rule == "blocked"
    assert run(inner_on_giver, A1_ALLERGY, req(UNIT_A2, "ETREAT")).rule == "emergency"
    assert run(inner_on_giver, A1_ALLERGY, req(UNIT_B1, "ETREAT")).rule == "blocked"
