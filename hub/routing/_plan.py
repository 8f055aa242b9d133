"""Deciding at send time what one outbox row means now: PUT, DELETE or nothing (domain.md §5).

The plan reads the then-current resource and consent state, so a newer change supersedes an older
undelivered one and a consent change can retract what was delivered. Each decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session

from hub.consent import Requester
from hub.enforcement import DecisionBatch, Enforcer
from hub.routing._subscriptions import Route
from hub.store import Delivery, Store, Stored, SubscriberHolding, keys_in


@dataclass
class Plan:
    """What one delivery will send: (method, path, body) in order, and the holdings to record."""

    requests: list[tuple[str, str, dict | None]] = field(default_factory=list)
    holds: list[tuple[str, str, int, str | None]] = field(default_factory=list)  # put: rtype, rid, vid, patient
    releases: list[tuple[str, str]] = field(default_factory=list)  # deleted at receiver
    outcome: str = "delivered"  # delivered | retracted | withheld | noop | cancelled
    decision: str | None = None


@dataclass
class Prefetched:
    """Resources and holdings a batch of rows needs, read in two queries instead of four per row."""

    resources: dict[tuple[str, str], Stored] = field(default_factory=dict)
    holdings: dict[tuple[str, str, str], SubscriberHolding] = field(default_factory=dict)
    complete: bool = False  # True: a key missing from the maps does not exist

    def resource(self, store: Store, s: Session, rtype: str, rid: str) -> Stored | None:
        if self.complete:
            return self.resources.get((rtype, rid))
        return store.read_optional(s, rtype, rid)

    def holding(self, s: Session, key: tuple[str, str, str]) -> SubscriberHolding | None:
        if self.complete:
            return self.holdings.get(key)
        return s.get(SubscriberHolding, key)


def prefetch(store: Store, s: Session, rows: list[Delivery]) -> Prefetched:
    res_keys = [(r.rtype, r.rid) for r in rows] + [("Patient", r.patient_id) for r in rows if r.patient_id]
    hold_keys = [(r.subscription_id, r.rtype, r.rid) for r in rows] + [(r.subscription_id, "Patient", r.patient_id) for r in rows if r.patient_id]
    holdings: dict[tuple[str, str, str], SubscriberHolding] = {}
    if hold_keys:
        cols = (SubscriberHolding.subscription_id, SubscriberHolding.rtype, SubscriberHolding.rid)
        for h in s.execute(select(SubscriberHolding).where(keys_in(cols, hold_keys, store.is_postgres))).scalars():
            holdings[(h.subscription_id, h.rtype, h.rid)] = h
    return Prefetched(store.read_many(s, res_keys), holdings, complete=True)


def plan_delivery(
    store: Store, enforcer: Enforcer | DecisionBatch, s: Session, row: Delivery, route: Route | None, requester: Requester | None,
    pre: Prefetched | None = None,
) -> Plan:
    """The plan for `row`; `requester` is the route's requester (None only when the route is gone).
    `enforcer` decides (and audits): the hub's Enforcer, or a DecisionBatch shared by a batch of rows."""
    plan = Plan()
    if route is None or route.status not in ("active", "error") or requester is None:
        plan.outcome = "cancelled"
        return plan
    pre = pre or Prefetched()
    current = pre.resource(store, s, row.rtype, row.rid)
    held = pre.holding(s, (row.subscription_id, row.rtype, row.rid))
    patient: Stored | None = None
    pid = row.patient_id
    if pid and row.rtype != "Patient":
        patient = pre.resource(store, s, "Patient", pid)
    now = datetime.now(UTC)
    released = None
    if current is not None and (row.rtype == "Patient" or route.matches(current.resource)):
        released = enforcer.decide_one(s, current, requester, action="E", now=now)
        plan.decision = "permit" if released else "deny"
    if released is not None:
        if patient is not None:
            p_rel = enforcer.decide_one(s, patient, requester, action="E", now=now)
            if p_rel is None:  # the patient may not be released: nothing about them goes out
                released = None
                plan.decision = "deny-patient"
            else:
                p_held = pre.holding(s, (row.subscription_id, "Patient", pid))
                if p_held is None or p_held.vid < patient.vid:
                    plan.requests.append(("PUT", f"Patient/{pid}", p_rel.resource))
                    plan.holds.append(("Patient", pid, patient.vid, pid))
    if released is not None:
        plan.requests.append(("PUT", f"{row.rtype}/{row.rid}", released.resource))
        plan.holds.append((row.rtype, row.rid, released.stored.vid, pid))
        return plan
    if held is not None:
        plan.requests.append(("DELETE", f"{row.rtype}/{row.rid}", None))
        plan.releases.append((row.rtype, row.rid))
        plan.outcome = "retracted"
    else:
        plan.outcome = "withheld" if current is not None and plan.decision else "noop"
    if patient is not None and plan.decision in ("deny", "deny-patient"):
        # The last of a patient's resources leaves this subscriber: if the Patient may no longer be
        # released to it either (an opt-out after delivery), the Patient is retracted too.
        p_held = s.get(SubscriberHolding, (row.subscription_id, "Patient", pid))
        if p_held is not None and _only_patient_left(s, row):
            patient_denied = plan.decision == "deny-patient" or enforcer.decide_one(s, patient, requester, action="D", now=now) is None
            if patient_denied:
                plan.requests.append(("DELETE", f"Patient/{pid}", None))
                plan.releases.append(("Patient", pid))
    return plan


def _only_patient_left(s: Session, row: Delivery) -> bool:
    others = s.execute(
        select(SubscriberHolding).where(
            SubscriberHolding.subscription_id == row.subscription_id,
            SubscriberHolding.patient_id == row.patient_id,
            SubscriberHolding.rtype != "Patient",
        )
    ).scalars().all()
    return all((h.rtype, h.rid) == (row.rtype, row.rid) for h in others)
