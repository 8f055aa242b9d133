"""Outbox rows commit with the change; claims take only queue heads, lease them, and never hand one row or
two rows of one (subscriber, patient) queue to two claimers at once. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from hub.routing._claim import claim_due
from hub.settings import Settings
from hub.store import Delivery, utcnow
from hub.wiring import build_hub

SUB = {"resourceType": "Subscription", "id": "reg", "status": "active", "reason": "test", "criteria": "AllergyIntolerance",
       "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/unused"}}


@pytest.fixture
def hub(database_url: str, workdir: Path):
    h = build_hub(Settings(database_url=database_url, key_file=str(workdir / "key.pem")))
    with h.store.transaction() as s:
        h.store.update(s, SUB)
    yield h
    h.store.engine.dispose()


def _allergy(rid: str, patient: str, note: str = "") -> dict:
    return {"resourceType": "AllergyIntolerance", "id": rid, "patient": {"reference": f"Patient/{patient}"}, "note": [{"text": note or rid}]}


def _write(hub, *resources: dict) -> None:
    with hub.store.transaction() as s:
        for r in resources:
            hub.store.update(s, r)


def _routes(hub):  # type: ignore[no-untyped-def]
    """The subscriptions whose pause and hold markers a claim reads (as the worker passes them)."""
    return lambda s: [r.id for r in hub.routes.active(s)]


def _rows(hub) -> list[Delivery]:
    with hub.store.transaction() as s:
        return list(s.execute(select(Delivery).order_by(Delivery.pk)).scalars())


def test_rows_commit_and_roll_back_with_the_change(hub):
    with pytest.raises(RuntimeError), hub.store.transaction() as s:
        hub.store.update(s, _allergy("a1", "p1"))
        raise RuntimeError("the interaction failed")
    assert _rows(hub) == []
    _write(hub, _allergy("a1", "p1"))
    (row,) = _rows(hub)
    assert (row.subscription_id, row.rtype, row.rid, row.patient_id, row.status) == ("reg", "AllergyIntolerance", "a1", "p1", "pending")


def test_newer_version_supersedes_and_keeps_backoff(hub):
    _write(hub, _allergy("a1", "p1"))
    later = utcnow() + timedelta(seconds=60)
    with hub.store.transaction() as s:
        s.execute(update(Delivery).values(attempts=3, next_attempt_at=later))
    _write(hub, _allergy("a1", "p1", "v2"))
    old, new = _rows(hub)
    assert old.status == "superseded" and new.status == "pending" and new.vid == 2
    assert new.attempts == 3 and abs((new.next_attempt_at.replace(tzinfo=later.tzinfo) - later).total_seconds()) < 1


def test_claims_only_queue_heads_with_a_lease(hub):
    _write(hub, _allergy("a1", "p1"))
    _write(hub, _allergy("a2", "p1"))
    _write(hub, _allergy("b1", "p2"))
    lease = timedelta(seconds=30)
    first = claim_due(hub.store, 10, lease, _routes(hub))
    rows = {r.pk: r for r in _rows(hub)}
    assert sorted(rows[pk].rid for pk in first) == ["a1", "b1"]  # a2 waits behind a1 (same patient)
    assert all(rows[pk].status == "sending" for pk in first)
    assert claim_due(hub.store, 10, lease, _routes(hub)) == []  # leased heads block their queues
    with hub.store.transaction() as s:  # the worker holding a1 crashed: its lease runs out
        s.execute(update(Delivery).where(Delivery.rid == "a1").values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    again = claim_due(hub.store, 10, lease, _routes(hub))
    assert [rows[pk].rid for pk in again] == ["a1"]


def test_concurrent_claimers_never_share_a_row_or_a_queue(hub):
    for p in range(12):
        _write(hub, *[_allergy(f"r{p}-{i}", f"p{p}") for i in range(3)])
    claimed: list[list[int]] = []
    lock = threading.Lock()

    def claimer() -> None:
        got = claim_due(hub.store, 5, timedelta(seconds=30), _routes(hub))
        with lock:
            claimed.append(got)

    threads = [threading.Thread(target=claimer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pks = [pk for c in claimed for pk in c]
    assert len(pks) == len(set(pks)) == 12  # every patient's head once, nobody twice
    rows = {r.pk: r for r in _rows(hub)}
    assert len({rows[pk].patient_id for pk in pks}) == 12


def test_rows_without_a_patient_form_one_queue_per_subscriber(hub):
    """A matching resource whose patient cannot be told still keeps its order: one row at a time."""
    _write(hub, {"resourceType": "AllergyIntolerance", "id": "n1", "note": [{"text": "no patient"}]})
    _write(hub, {"resourceType": "AllergyIntolerance", "id": "n2", "note": [{"text": "no patient"}]})
    _write(hub, _allergy("b1", "p2"))
    rows = {r.pk: r for r in _rows(hub)}
    assert {r.rid: r.patient_id for r in rows.values()}["n1"] is None
    first = claim_due(hub.store, 10, timedelta(seconds=30), _routes(hub))
    assert sorted(rows[pk].rid for pk in first) == ["b1", "n1"]  # n2 waits behind n1
    with hub.store.transaction() as s:
        s.execute(update(Delivery).where(Delivery.rid == "n1").values(status="delivered"))
    assert [rows[pk].rid for pk in claim_due(hub.store, 10, timedelta(seconds=30), _routes(hub))] == ["n2"]


def test_claiming_skips_finished_rows_however_many(hub):
    """Finished rows pile up for ever; a claim still finds the open head behind thousands of them."""
    _write(hub, *[_allergy(f"old{i}", f"p{i % 50}") for i in range(300)])
    with hub.store.transaction() as s:
        s.execute(update(Delivery).values(status="delivered"))
    _write(hub, _allergy("new", "p7"))
    claimed = claim_due(hub.store, 10, timedelta(seconds=30), _routes(hub))
    assert [r.rid for r in _rows(hub) if r.pk in claimed] == ["new"]


def test_a_holding_never_goes_back_to_an_older_version(hub):
    from hub.store import SubscriberHolding

    def hold(vid: int) -> None:
        with hub.store.transaction() as s:
            hub.worker._hold(s, [{"subscription_id": "reg", "rtype": "AllergyIntolerance", "rid": "a1", "vid": vid, "patient_id": "p1", "delivered_at": utcnow()}])

    hold(3)
    hold(2)  # a late delivery of version 2 must not make the hub think the receiver holds 2
    with hub.store.transaction() as s:
        assert s.get(SubscriberHolding, ("reg", "AllergyIntolerance", "a1")).vid == 3
    hold(4)
    with hub.store.transaction() as s:
        assert s.get(SubscriberHolding, ("reg", "AllergyIntolerance", "a1")).vid == 4


def test_a_paused_or_held_subscriber_is_not_claimed_for_by_the_worker(hub):
    """The worker reads the pause and Retry-After hold markers of its routes by key (hub_state also holds
    a marker per patient, which it must not scan on every claim)."""
    from hub.routing import hold_key, paused_key
    from hub.store import KeyValue

    _write(hub, _allergy("a1", "p1"))
    with hub.store.transaction() as s:
        s.add(KeyValue(key=paused_key("reg"), value="operator"))
    assert hub.worker.claim_due() == []
    with hub.store.transaction() as s:
        s.delete(s.get(KeyValue, paused_key("reg")))
        s.add(KeyValue(key=hold_key("reg"), value=(utcnow() + timedelta(seconds=60)).isoformat()))
    assert hub.worker.claim_due() == []
    with hub.store.transaction() as s:
        s.get(KeyValue, hold_key("reg")).value = (utcnow() - timedelta(seconds=1)).isoformat()
    assert [r.rid for r in _rows(hub) if r.pk in hub.worker.claim_due()] == ["a1"]
