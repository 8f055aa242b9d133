"""Property-based tests: the engine against a deliberately simple oracle written from domain.md section 5.

The oracle works on plain tuples (never on FHIR JSON), with whole days as the only time unit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from unittest import mock

from consent_builders import (
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
from hypothesis import given, settings
from hypothesis import strategies as st

import hub.consent._decide as engine_module
from hub.consent import Decision, Requester, compile_policy, decide
from hub.consent._model import Grant

UNITS = [UNIT_A1, UNIT_A2, UNIT_B1, UNIT_B2]
GIVERS = sorted(set(GIVER_OF.values()))
DAYS = st.integers(0, 9)
SPAN = st.tuples(DAYS, DAYS).map(lambda t: (min(t), max(t)))


# The oracle's world ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OBlock:
    inner: bool
    target: str  # care unit (inner) or care giver (outer)
    data_period: tuple[int, int] | None
    excluded: frozenset[str]
    revokes: tuple[tuple[str | None, str | None, int, int], ...]
    active: bool = True
    literal: bool = True


@dataclass(frozen=True)
class OConsent:
    unit: str
    prac: str | None
    days: tuple[int, int] | None
    active: bool = True
    literal: bool = True


@dataclass(frozen=True)
class OOptOut:
    registry: str | None
    active: bool = True
    by_orgnr: bool = False


@dataclass(frozen=True)
class OResource:
    unit: str | None
    itype: str | None
    recorded: int | None
    confidential: bool


@dataclass(frozen=True)
class ORequest:
    unit: str | None  # None = a registry
    prac: str | None
    purpose: str
    registry: str | None
    by_orgnr: bool = False


Directive = OBlock | OConsent | OOptOut


def oracle(directives: list[Directive], res: OResource, req: ORequest, now: int) -> bool:
    """domain.md section 5, rules 1-7, read literally."""
    active = [d for d in directives if d.active]
    if res.unit is None:  # rule 1: no information source
        return False
    unit, giver = res.unit, GIVER_OF[res.unit]
    if res.confidential and (req.registry is not None or req.unit != unit):  # rule 2
        return False
    if req.registry is not None:  # rule 3
        return not any(isinstance(d, OOptOut) and d.registry in (None, req.registry) for d in active)
    assert req.unit is not None
    if req.unit == unit:  # rule 4
        return True
    req_giver = GIVER_OF[req.unit]
    for b in active:  # rule 5
        if not isinstance(b, OBlock):
            continue
        applies = b.target == unit if b.inner else (b.target == giver and req_giver != giver)
        if not applies:
            continue
        if b.data_period and res.recorded is not None and not b.data_period[0] <= res.recorded <= b.data_period[1]:
            continue
        if res.itype in b.excluded:
            continue
        if any((u is None or u == req.unit) and (p is None or p == req.prac) and s <= now <= e
               for u, p, s, e in b.revokes):
            continue
        if b.inner and req_giver == giver and req.purpose == "ETREAT":
            continue
        return False
    if req_giver != giver:  # rule 6
        for c in active:
            if isinstance(c, OConsent) and c.unit == req.unit and c.prac in (None, req.prac) and (
                    c.days is None or c.days[0] <= now <= c.days[1]):
                return True
        return req.purpose == "ETREAT"
    return True  # rule 7


# Strategies and translation to FHIR --------------------------------------------------------------------

REVOKE = st.tuples(st.sampled_from([None, *UNITS]), st.sampled_from([None, PRAC_1, PRAC_2]), SPAN).filter(
    lambda t: t[0] is not None or t[1] is not None).map(lambda t: (t[0], t[1], t[2][0], t[2][1]))
BLOCK = st.builds(
    lambda inner, unit, giver, dp, ex, revs, active, literal: OBlock(
        inner, unit if inner else giver, dp, ex, revs, active, literal),
    st.booleans(), st.sampled_from(UNITS), st.sampled_from(GIVERS), st.none() | SPAN,
    st.frozensets(st.sampled_from(["upp", "lak"]), max_size=2), st.lists(REVOKE, max_size=2).map(tuple),
    st.booleans() | st.just(True), st.booleans(),
)
CONSENT = st.builds(OConsent, st.sampled_from(UNITS), st.sampled_from([None, PRAC_1, PRAC_2]),
                    st.none() | SPAN, st.booleans() | st.just(True), st.booleans())
OPT_OUT = st.builds(OOptOut, st.sampled_from([None, "R1", "R2"]), st.booleans() | st.just(True), st.booleans())
DIRECTIVES = st.lists(st.one_of(BLOCK, CONSENT, OPT_OUT), max_size=8)
RESOURCE = st.builds(OResource, st.sampled_from(UNITS) | st.none(), st.sampled_from(["upp", "lak", None]),
                     st.none() | DAYS, st.booleans())
CARE_REQUEST = st.builds(lambda u, p, pur: ORequest(u, p, pur, None), st.sampled_from(UNITS),
                         st.sampled_from([None, PRAC_1, PRAC_2]), st.sampled_from(["TREAT", "ETREAT"]))
REGISTRY_REQUEST = st.builds(lambda r, o: ORequest(None, None, "HQUALIMP", r, o), st.sampled_from(["R1", "R2"]),
                             st.booleans())
REQUEST = st.one_of(CARE_REQUEST, REGISTRY_REQUEST)


@st.composite
def focused_case(draw: st.DrawFn) -> tuple[list[Directive], OResource, ORequest, int]:
    """Directives aimed at the drawn resource and care requester, so blocks, revokes and consents bite."""
    res = draw(RESOURCE.filter(lambda r: r.unit is not None))
    req = draw(CARE_REQUEST)
    assert res.unit is not None and req.unit is not None
    units = st.sampled_from([res.unit, req.unit])
    givers = st.sampled_from([GIVER_OF[res.unit], GIVER_OF[req.unit]])
    pracs = st.sampled_from([None, req.prac, PRAC_1])
    revoke = st.tuples(st.none() | units, pracs, SPAN).filter(lambda t: t[0] is not None or t[1] is not None).map(
        lambda t: (t[0], t[1], t[2][0], t[2][1]))
    blocks = st.builds(
        lambda inner, unit, giver, dp, ex, revs, active: OBlock(inner, unit if inner else giver, dp, ex, revs, active),
        st.booleans(), units, givers, st.none() | SPAN, st.frozensets(st.sampled_from(["upp", "lak"]), max_size=1),
        st.lists(revoke, max_size=2).map(tuple), st.booleans() | st.just(True))
    consents = st.builds(OConsent, units, pracs, st.none() | SPAN, st.booleans() | st.just(True))
    directives = draw(st.lists(st.one_of(blocks, consents), max_size=5))
    return directives, res, req, draw(DAYS)


def to_fhir(directives: list[Directive]) -> list[dict]:
    out = []
    for i, d in enumerate(directives):
        cid = f"d{i}"
        status = "active" if d.active else "inactive"
        if isinstance(d, OBlock):
            out.append(block(cid, d.target, inner=d.inner, data_period=d.data_period,
                             excluded=tuple(sorted(d.excluded)), revokes=d.revokes, status=status,
                             literal=d.literal))
        elif isinstance(d, OConsent):
            out.append(consent(cid, d.unit, practitioner=d.prac, days=d.days, status=status, literal=d.literal))
        else:
            out.append(opt_out(cid, d.registry, status=status, by_orgnr=d.by_orgnr))
    return out


def to_resource(r: OResource) -> dict:
    giver = GIVER_OF[r.unit] if r.unit else None
    return allergy(giver, r.unit, itype=r.itype, recorded=r.recorded, confidential=r.confidential)


def to_requester(q: ORequest) -> Requester:
    if q.registry is not None:
        ident = (ORGNR, REGISTRY_ORGNR[q.registry]) if q.by_orgnr else (HSA, REGISTRY_HSA[q.registry])
        return Requester(None, None, None, "HQUALIMP", frozenset({ident}))
    assert q.unit is not None
    return Requester(GIVER_OF[q.unit], q.unit, q.prac, q.purpose, frozenset({(HSA, q.unit)}))


def engine(fhir_directives: list[dict], res: OResource, req: ORequest, now: int) -> Decision:
    policy = compile_policy(fhir_directives, organizations())
    assert policy.readable, policy.problem
    return decide(policy, to_resource(res), to_requester(req), noon(now))


# Properties --------------------------------------------------------------------------------------------

@settings(max_examples=600, deadline=None, database=None)
@given(DIRECTIVES, RESOURCE, REQUEST, DAYS)
def test_engine_agrees_with_the_oracle(directives: list[Directive], res: OResource, req: ORequest, now: int) -> None:
    d = engine(to_fhir(directives), res, req, now)
    expected = oracle(directives, res, req, now)
    assert d.permit is expected, d
    assert not (d.permit and not expected), "permitted what the rules deny"
    assert set(d.consent_ids) <= {f"d{i}" for i, x in enumerate(directives) if x.active}
    assert d.emergency is (req.purpose == "ETREAT")


@settings(max_examples=500, deadline=None, database=None)
@given(focused_case())
def test_engine_agrees_with_the_oracle_on_focused_cases(
    case: tuple[list[Directive], OResource, ORequest, int],
) -> None:
    directives, res, req, now = case
    assert engine(to_fhir(directives), res, req, now).permit is oracle(directives, res, req, now)


@settings(max_examples=300, deadline=None, database=None)
@given(DIRECTIVES, st.one_of(BLOCK, OPT_OUT).map(lambda d: replace(d, active=True)), RESOURCE, REQUEST, DAYS)
def test_adding_a_block_or_opt_out_never_turns_a_deny_into_a_permit(
    directives: list[Directive], extra: Directive, res: OResource, req: ORequest, now: int
) -> None:
    before = engine(to_fhir(directives), res, req, now)
    after = engine(to_fhir([*directives, extra]), res, req, now)
    if after.permit:
        assert before.permit


@settings(max_examples=300, deadline=None, database=None)
@given(DIRECTIVES.filter(bool), st.integers(0, 7), RESOURCE, REQUEST, DAYS)
def test_setting_a_directive_inactive_acts_as_if_it_were_gone(
    directives: list[Directive], pick: int, res: OResource, req: ORequest, now: int
) -> None:
    i = pick % len(directives)
    revoked = list(directives)
    revoked[i] = replace(revoked[i], active=False)
    after = engine(to_fhir(revoked), res, req, now)
    assert after.permit is oracle(revoked, res, req, now)
    dropped = to_fhir(directives)
    del dropped[i]
    gone = engine(dropped, res, req, now)
    assert (after.permit, after.rule) == (gone.permit, gone.rule)
    assert f"d{i}" not in after.consent_ids


@settings(max_examples=250, deadline=None, database=None)
@given(DIRECTIVES, RESOURCE, REQUEST, DAYS, st.permutations(range(8)))
def test_no_decision_depends_on_the_order_of_consents(
    directives: list[Directive], res: OResource, req: ORequest, now: int, perm: list[int]
) -> None:
    fhir = to_fhir(directives)
    shuffled = [fhir[i] for i in perm if i < len(fhir)]
    assert engine(fhir, res, req, now) == engine(shuffled, res, req, now)


@settings(max_examples=200, deadline=None, database=None)
@given(DIRECTIVES, RESOURCE, REQUEST, DAYS)
def test_missing_information_source_always_denies(
    directives: list[Directive], res: OResource, req: ORequest, now: int
) -> None:
    d = engine(to_fhir(directives), replace(res, unit=None), req, now)
    assert (d.permit, d.rule) == (False, "no-information-source")


@settings(max_examples=250, deadline=None, database=None)
@given(DIRECTIVES, RESOURCE, REQUEST, DAYS,
       st.sampled_from(["information_source", "labels", "clinical_times", "_registry", "_overlaps", "matches"]))
def test_any_exception_inside_the_engine_denies(
    directives: list[Directive], res: OResource, req: ORequest, now: int, target: str
) -> None:
    policy = compile_policy(to_fhir(directives), organizations())
    resource, requester = to_resource(res), to_requester(req)
    failing = mock.Mock(side_effect=RuntimeError("internal failure"))
    patcher = (mock.patch.object(Grant, "matches", failing) if target == "matches"
               else mock.patch.object(engine_module, target, failing))
    with patcher:
        d = decide(policy, resource, requester, noon(now))
    if failing.called:
        assert (d.permit, d.rule) == (False, "error")
    else:
        assert d == decide(policy, resource, requester, noon(now))


@settings(max_examples=100, deadline=None, database=None)
@given(DIRECTIVES, RESOURCE, REQUEST, DAYS)
def test_patched_source_reader_always_yields_error(
    directives: list[Directive], res: OResource, req: ORequest, now: int
) -> None:
    policy = compile_policy(to_fhir(directives), organizations())
    with mock.patch.object(engine_module, "information_source", mock.Mock(side_effect=KeyError("x"))):
        d = decide(policy, to_resource(res), to_requester(req), noon(now))
    assert (d.permit, d.rule) == (False, "error")
