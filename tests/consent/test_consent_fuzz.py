"""Mangled directives: compiling never raises, and a policy that cannot be read denies everything."""

from __future__ import annotations

import copy
from typing import Any

from consent_builders import (
    GIVER_A,
    GIVER_OF,
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
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.consent import Requester, compile_policy, decide

SEEDS = [
    block("b1", UNIT_A1, inner=True, data_period=(1, 3), excluded=("upp",), revokes=((UNIT_A2, None, 0, 9),)),
    block("b2", GIVER_A, inner=False, literal=False),
    consent("c1", UNIT_B1, practitioner="SE2321000016-5001", days=(0, 9)),
    opt_out("o1", "R1"),
]
JUNK = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.just([]), st.just({}), st.just([{}]),
                 st.just("2025-13-40"), st.just({"start": "x"}))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(range(len(SEEDS))), st.data(), JUNK, st.booleans())
def test_mangled_directive_never_raises_and_unreadable_denies(seed: int, data: st.DataObject, junk: Any,
                                                             delete: bool) -> None:
    directive = copy.deepcopy(SEEDS[seed])
    path = data.draw(st.sampled_from(_paths(directive)))
    parent = directive
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = junk
    policy = compile_policy([directive], organizations())
    requesters = [Requester(GIVER_A, UNIT_A1, None, "TREAT"), Requester(GIVER_OF[UNIT_B1], UNIT_B1, None, "ETREAT")]
    for requester in requesters:
        for resource in (allergy(GIVER_A, UNIT_A1, recorded=2), patient()):
            d = decide(policy, resource, requester, noon(5))
            if not policy.readable:
                assert (d.permit, d.rule) == (False, "unreadable-directives")


NON_TEXT_JUNK = st.one_of(st.none(), st.integers(), st.just([]), st.just({}), st.just([{}]), st.just({"start": "x"}))
RESOURCES = [allergy(GIVER_A, UNIT_A1, recorded=r, itype=t) for r in (None, 0, 2, 8) for t in ("upp", "lak", None)]
REQUESTERS = [Requester(GIVER_A, UNIT_A2, None, "TREAT"), Requester(GIVER_A, UNIT_A2, None, "ETREAT"),
              Requester(GIVER_OF[UNIT_B1], UNIT_B1, "SE2321000016-5001", "TREAT"),
              Requester(GIVER_OF[UNIT_B1], UNIT_B1, None, "ETREAT"),
              Requester(None, None, None, "HQUALIMP", frozenset({("urn:oid:1.2.752.29.4.19", "SE2321000016-9001")}))]


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from([0, 1, 3]), st.data(), NON_TEXT_JUNK, st.booleans())
def test_mangling_a_deny_directive_never_permits_more(seed: int, data: st.DataObject, junk: Any,
                                                       delete: bool) -> None:
    """Deleting or nulling parts of a block or opt-out (outside its nested permits) either makes it
    unreadable or widens what it denies."""
    directive = copy.deepcopy(SEEDS[seed])
    paths = [p for p in _paths(directive) if p[:2] != ("provision", "provision")]
    path = data.draw(st.sampled_from(paths))
    parent = directive
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = junk
    others = [SEEDS[2]]
    before = compile_policy([SEEDS[seed], *others], organizations())
    after = compile_policy([directive, *others], organizations())
    for requester in REQUESTERS:
        for resource in RESOURCES:
            if decide(after, resource, requester, noon(5)).permit:
                assert decide(before, resource, requester, noon(5)).permit, (path, requester, resource)
