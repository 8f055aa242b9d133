"""The transactional outbox: a committed change becomes delivery rows in the same transaction.

A row means "bring subscriber S in sync with resource R"; the action (PUT, DELETE or nothing) is decided
at send time from the then-current resource and consent state, so a newer change supersedes an older
undelivered one and a consent change can retract what was delivered.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlmodel import Session

from hub.routing._subscriptions import Route, RouteTable
from hub.store import (
    Criterion,
    Delivery,
    SearchQuery,
    Store,
    Stored,
    SubscriberHolding,
    keys_in,
    one_of,
    patient_of,
    search_params,
    utcnow,
)

NOT_ROUTED = frozenset({"AuditEvent", "Subscription", "OperationOutcome"})
_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]

# (subscription id, rtype, rid, vid, patient id, reason)
Row = tuple[str, str, str, int, "str | None", str]


class Outbox:
    def __init__(self, store: Store, routes: RouteTable) -> None:
        self.store = store
        self.routes = routes

    def on_change(self, s: Session, changes: list[tuple[Stored, Stored | None]]) -> None:
        """Store listener: runs inside the writing transaction, once per write or batch of writes."""
        patient_ids = sorted({new.rid for new, _ in changes if new.rtype == "Patient"})
        holders: dict[str, list[str]] = {}
        if patient_ids:  # a changed Patient goes to the subscribers that hold it
            for h in s.execute(select(SubscriberHolding.subscription_id, SubscriberHolding.rid)
                               .where(SubscriberHolding.rtype == "Patient", one_of(SubscriberHolding.rid, patient_ids, self.store.is_postgres))):
                holders.setdefault(h.rid, []).append(h.subscription_id)
        rows: list[Row] = []
        for new, previous in changes:
            if new.rtype == "Subscription":
                self.routes.bump(s)
            elif new.rtype in NOT_ROUTED:
                continue
            elif new.rtype == "Consent":
                pid = patient_of(new.resource) or (patient_of(previous.resource) if previous else None)
                if pid:
                    self.enqueue_many(s, rows)  # what came before keeps its place in the order
                    rows = []
                    self.resync_patient(s, pid, reason="consent")
            elif new.rtype == "Patient":
                rows.extend((sub_id, "Patient", new.rid, new.vid, new.rid, "change") for sub_id in sorted(holders.get(new.rid, ())))
            else:
                pid = patient_of(new.resource) or (patient_of(previous.resource) if previous else None)
                for route in self.routes.active(s):
                    if route.matches(new.resource) or (previous is not None and route.matches(previous.resource)):
                        rows.append((route.id, new.rtype, new.rid, new.vid, pid, "change"))
        self.enqueue_many(s, rows)

    def resync_patient(self, s: Session, patient_id: str, reason: str) -> int:
        """Enqueue a sync of every resource of a patient that any route holds or would match."""
        held = s.execute(select(SubscriberHolding).where(SubscriberHolding.patient_id == patient_id)).scalars().all()
        seen: set[tuple[str, str, str]] = set()
        for h in held:
            if h.rtype == "Patient":
                continue
            seen.add((h.subscription_id, h.rtype, h.rid))
        for route in self.routes.active(s):
            for st in self._patient_matches(s, route, patient_id):
                seen.add((route.id, st.rtype, st.rid))
        self.enqueue_many(s, [(sub_id, rtype, rid, 0, patient_id, reason) for sub_id, rtype, rid in sorted(seen)])
        return len(seen)

    def _patient_matches(self, s: Session, route: Route, patient_id: str) -> list[Stored]:
        if "patient" not in search_params().get(route.query.rtype, {}):
            return []
        q = SearchQuery(
            rtype=route.query.rtype,
            criteria=[*route.query.criteria, Criterion("patient", "reference", None, (f"Patient/{patient_id}",))],
            count=10_000,
        )
        return self.store.search(s, q)

    def enqueue(self, s: Session, sub_id: str, rtype: str, rid: str, vid: int, patient_id: str | None, reason: str) -> None:
        self.enqueue_many(s, [(sub_id, rtype, rid, vid, patient_id, reason)])

    def enqueue_many(self, s: Session, rows: list[Row]) -> None:
        """Insert outbox rows in order, in a fixed number of statements. A newer change supersedes an
        undelivered older row of the same resource (rows being sent stay); the new row keeps the older
        one's backoff, so a failing subscriber is not hammered by every change."""
        if not rows:
            return
        latest: dict[tuple[str, str, str], Row] = {}
        for row in rows:  # within one batch, the last row of a resource supersedes the earlier ones
            latest.pop(row[:3], None)
            latest[row[:3]] = row
        now = utcnow()
        keys = sorted(latest)
        older = s.execute(
            select(_DELIVERY.c.pk, _DELIVERY.c.subscription_id, _DELIVERY.c.rtype, _DELIVERY.c.rid, _DELIVERY.c.attempts, _DELIVERY.c.next_attempt_at)
            .where(keys_in((_DELIVERY.c.subscription_id, _DELIVERY.c.rtype, _DELIVERY.c.rid), keys, self.store.is_postgres), _DELIVERY.c.status == "pending")
        ).all()
        backoff: dict[tuple[str, str, str], tuple[int, datetime]] = {}
        for o in older:
            key = (o.subscription_id, o.rtype, o.rid)
            attempts, due = backoff.get(key, (0, now))
            backoff[key] = (max(attempts, o.attempts), max(due, _aware(o.next_attempt_at)))
        if older:
            s.execute(
                update(_DELIVERY)
                .where(one_of(_DELIVERY.c.pk, [o.pk for o in older], self.store.is_postgres), _DELIVERY.c.status == "pending")
                .values(status="superseded", finished_at=now)
            )
        values = []
        for sub_id, rtype, rid, vid, patient_id, reason in latest.values():
            attempts, due = backoff.get((sub_id, rtype, rid), (0, now))
            values.append({"subscription_id": sub_id, "rtype": rtype, "rid": rid, "vid": vid, "patient_id": patient_id, "reason": reason,
                           "status": "pending", "action": None, "attempts": attempts, "next_attempt_at": due, "created_at": now,
                           "finished_at": None, "last_error": None, "decision": None})
        self.store.insert_rows(s, _DELIVERY, values)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
