"""chain_hash / verify_chain: a tamper-evident chain over AuditEvents."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from hub.audit import GENESIS_HASH, build_audit_event, chain_hash, verify_chain
from hub.consent import Decision, Requester

REQ = Requester("SE2321000016-2000", "SE2321000016-2001", "SE2321000016-5001", "TREAT")


def events(n: int) -> list[dict]:
    start = datetime(2026, 11, 25, tzinfo=UTC)
    return [build_audit_event(decision=Decision(i % 2 == 0, "consent" if i % 2 == 0 else "no-consent", ()),
                              requester=REQ, patient_ref="Patient/p1", entity_ref=f"AllergyIntolerance/a{i}",
                              action="R", source="knutpunkt", now=start + timedelta(seconds=i)) for i in range(n)]


def chain(evts: list[dict]) -> list[tuple[dict, str, str]]:
    out, prev = [], GENESIS_HASH
    for e in evts:
        h = chain_hash(prev, e)
        out.append((e, prev, h))
        prev = h
    return out


def test_hash_is_sha256_hex_and_depends_on_event_and_previous_hash() -> None:
    e = events(1)[0]
    h = chain_hash(GENESIS_HASH, e)
    assert len(h) == 64 and int(h, 16) >= 0
    assert chain_hash(GENESIS_HASH, e) == h
    assert chain_hash("1" * 64, e) != h
    changed = copy.deepcopy(e)
    changed["outcome"] = "4"
    assert chain_hash(GENESIS_HASH, changed) != h


def test_hash_ignores_key_order_and_store_bookkeeping() -> None:
    e = events(1)[0]
    reordered = dict(reversed(list(e.items())))
    assert chain_hash(GENESIS_HASH, reordered) == chain_hash(GENESIS_HASH, e)
    stored = {**e, "id": "42", "meta": {"versionId": "1", "lastUpdated": "2026-11-25T00:00:00Z"}}
    assert chain_hash(GENESIS_HASH, stored) == chain_hash(GENESIS_HASH, e)


def test_intact_chain_verifies() -> None:
    assert verify_chain(chain(events(6))) == []
    assert verify_chain([]) == []


def test_edited_event_breaks_its_link() -> None:
    links = chain(events(6))
    event, prev, h = links[3]
    edited = copy.deepcopy(event)
    edited["outcome"] = "0" if event["outcome"] == "4" else "4"
    links[3] = (edited, prev, h)
    assert verify_chain(links) == [3]


def test_rewritten_hash_breaks_the_next_link_too() -> None:
    links = chain(events(6))
    event, prev, _ = links[2]
    edited = copy.deepcopy(event)
    edited["outcomeDesc"] = "forged"
    links[2] = (edited, prev, chain_hash(prev, edited))
    assert verify_chain(links) == [3]


def test_removed_or_reordered_events_are_detected() -> None:
    links = chain(events(6))
    assert verify_chain(links[:2] + links[3:]) == [2]
    assert verify_chain([links[0], links[2], links[1], *links[3:]]) == [1, 2, 3]


def test_chain_may_be_checked_from_the_middle() -> None:
    assert verify_chain(chain(events(6))[3:]) == []
