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
    patient_of,
    search_params,
    utcnow,
)

NOT_ROUTED = frozenset({"AuditEvent", "Subscription", "OperationOutcome"})


class Outbox:
    def __init__(self, store: Store, routes: RouteTable) -> None:
        self.store = store
        self.routes = routes

    def on_change(self, s: Session, new: Stored, previous: Stored | None) -> None:
        """Store listener: runs inside the writing transaction."""
        if new.rtype == "Subscription":
            self.routes.bump(s)
            return
        if new.rtype in NOT_ROUTED:
            return
        if new.rtype == "Consent":
            pid = patient_of(new.resource) or (patient_of(previous.resource) if previous else None)
            if pid:
                self.resync_patient(s, pid, reason="consent")
            return
        if new.rtype == "Patient":
            for h in s.execute(select(SubscriberHolding).where(SubscriberHolding.rtype == "Patient", SubscriberHolding.rid == new.rid)).scalars():
                self.enqueue(s, h.subscription_id, "Patient", new.rid, new.vid, new.rid, "change")
            return
        pid = patient_of(new.resource) or (patient_of(previous.resource) if previous else None)
        for route in self.routes.active(s):
            if route.matches(new.resource) or (previous is not None and route.matches(previous.resource)):
                self.enqueue(s, route.id, new.rtype, new.rid, new.vid, pid, "change")

    def resync_patient(self, s: Session, patient_id: str, reason: str) -> int:
        """Enqueue a sync of every resource of a patient that any route holds or would match."""
        n = 0
        held = s.execute(select(SubscriberHolding).where(SubscriberHolding.patient_id == patient_id)).scalars().all()
        seen: set[tuple[str, str, str]] = set()
        for h in held:
            if h.rtype == "Patient":
                continue
            seen.add((h.subscription_id, h.rtype, h.rid))
        for route in self.routes.active(s):
            for st in self._patient_matches(s, route, patient_id):
                seen.add((route.id, st.rtype, st.rid))
        for sub_id, rtype, rid in sorted(seen):
            self.enqueue(s, sub_id, rtype, rid, 0, patient_id, reason)
            n += 1
        return n

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
        """A newer change supersedes an undelivered older row of the same resource (rows being sent stay);
        the new row keeps the older one's backoff, so a failing subscriber is not hammered by every change."""
        now = utcnow()
        older = s.execute(
            select(Delivery.pk, Delivery.attempts, Delivery.next_attempt_at)
            .where(Delivery.subscription_id == sub_id, Delivery.rtype == rtype, Delivery.rid == rid, Delivery.status == "pending")
        ).all()
        attempts, due = 0, now
        if older:
            s.execute(
                update(Delivery)
                .where(Delivery.pk.in_([o.pk for o in older]), Delivery.status == "pending")
                .values(status="superseded", finished_at=now)
                .execution_options(synchronize_session=False)
            )
            attempts = max(o.attempts for o in older)
            due = max([now, *(_aware(o.next_attempt_at) for o in older)])
        s.add(Delivery(subscription_id=sub_id, rtype=rtype, rid=rid, vid=vid, patient_id=patient_id, reason=reason, status="pending",
                       attempts=attempts, next_attempt_at=due, created_at=now))
        s.flush()


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
