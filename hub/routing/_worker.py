"""Delivering outbox rows: decide at send time, PUT/DELETE over HTTP, record, retry with backoff.

At-least-once: a row is leased before sending and only finished after the receiver answered 2xx; a crash
or lost wake-up leaves it pending, and the next sweep picks it up. Idempotent at the receiver (PUT/DELETE
by id). Order is kept per (subscriber, patient): a row waits while an earlier one of its pair is pending.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import orjson
from sqlalchemy import select, update
from sqlmodel import Session

from hub.enforcement import Enforcer
from hub.routing._subscriptions import Route, RouteTable, requester_for
from hub.settings import Settings
from hub.store import Delivery, KeyValue, Store, Stored, SubscriberHolding, utcnow

log = logging.getLogger("knutpunkt.delivery")
LEASE = timedelta(seconds=60)
RETRYABLE_4XX = {408, 409, 425, 429}


@dataclass
class Plan:
    """What one delivery will send: (method, path, body) in order, and the holdings to record."""

    requests: list[tuple[str, str, dict | None]] = field(default_factory=list)
    holds: list[tuple[str, str, int, str | None]] = field(default_factory=list)  # put: rtype, rid, vid, patient
    releases: list[tuple[str, str]] = field(default_factory=list)  # deleted at receiver
    outcome: str = "delivered"  # delivered | withheld | noop | cancelled
    decision: str | None = None


class DeliveryError(Exception):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.body = body


def paused_key(sub_id: str) -> str:
    return f"paused:{sub_id}"


class DeliveryWorker:
    def __init__(self, store: Store, routes: RouteTable, enforcer: Enforcer, settings: Settings, client: httpx.Client | None = None) -> None:
        self.store = store
        self.routes = routes
        self.enforcer = enforcer
        self.settings = settings
        self.client = client or httpx.Client(timeout=settings.delivery_timeout_s)

    # -- claiming ------------------------------------------------------------------------------
    def claim_due(self, limit: int = 100) -> list[int]:
        now = utcnow()
        claimed: list[int] = []
        with self.store.transaction() as s:
            rows = s.execute(
                select(Delivery.pk, Delivery.subscription_id, Delivery.patient_id, Delivery.next_attempt_at)
                .where(Delivery.status == "pending")
                .order_by(Delivery.pk)
                .limit(2000)
            ).all()
            paused = {k.key.split(":", 1)[1] for k in s.execute(select(KeyValue).where(KeyValue.key.like("paused:%"))).scalars()}
            blocked: set[tuple[str, str | None]] = set()
            for pk, sub_id, pid, due in rows:
                pair = (sub_id, pid)
                if pair in blocked:
                    continue
                blocked.add(pair)
                if sub_id in paused or _aware(due) > now:
                    continue
                res = s.execute(
                    update(Delivery).where(Delivery.pk == pk, Delivery.status == "pending", Delivery.next_attempt_at == due).values(next_attempt_at=now + LEASE)
                )
                if res.rowcount == 1:
                    claimed.append(pk)
                if len(claimed) >= limit:
                    break
        return claimed

    # -- one delivery --------------------------------------------------------------------------
    def process(self, pk: int) -> str:
        try:
            with self.store.transaction() as s:
                row = s.get(Delivery, pk)
                if row is None or row.status != "pending":
                    return "skipped"
                route = self.routes.get(s, row.subscription_id)
                plan = self._plan(s, row, route)
                sub_id = row.subscription_id
        except Exception as exc:  # cannot decide → deliver nothing now, retry later (fail closed)
            log.exception("planning delivery %s failed", pk)
            self._failed(pk, DeliveryError(f"could not plan delivery: {exc}"))
            return "error"
        if plan.outcome == "cancelled":
            self._finish(pk, plan, sub_id)
            return "cancelled"
        try:
            assert route is not None
            for method, path, body in plan.requests:
                self._send(route, method, path, body)
        except DeliveryError as exc:
            self._failed(pk, exc)
            return "failed"
        self._finish(pk, plan, sub_id)
        return plan.outcome

    def _plan(self, s: Session, row: Delivery, route: Route | None) -> Plan:
        plan = Plan()
        if route is None or route.status not in ("active", "error"):
            plan.outcome = "cancelled"
            return plan
        requester = requester_for(self.store, s, route)
        current = self.store.read_optional(s, row.rtype, row.rid)
        held = s.get(SubscriberHolding, (row.subscription_id, row.rtype, row.rid))
        patient: Stored | None = None
        pid = row.patient_id
        if pid and row.rtype != "Patient":
            patient = self.store.read_optional(s, "Patient", pid)
        now = datetime.now(UTC)
        released = None
        if current is not None and (row.rtype == "Patient" or route.matches(current.resource)):
            released = self.enforcer.decide_one(s, current, requester, action="E", now=now)
            plan.decision = "permit" if released else "deny"
        if released is not None:
            if patient is not None:
                p_rel = self.enforcer.decide_one(s, patient, requester, action="E", now=now)
                if p_rel is None:  # the patient may not be released: nothing about them goes out
                    released = None
                    plan.decision = "deny-patient"
                else:
                    p_held = s.get(SubscriberHolding, (row.subscription_id, "Patient", pid))
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
        if patient is not None and plan.decision == "deny-patient":
            p_held = s.get(SubscriberHolding, (row.subscription_id, "Patient", pid))
            if p_held is not None and self._only_patient_left(s, row):
                plan.requests.append(("DELETE", f"Patient/{pid}", None))
                plan.releases.append(("Patient", pid))
        return plan

    def _only_patient_left(self, s: Session, row: Delivery) -> bool:
        others = s.execute(
            select(SubscriberHolding).where(
                SubscriberHolding.subscription_id == row.subscription_id,
                SubscriberHolding.patient_id == row.patient_id,
                SubscriberHolding.rtype != "Patient",
            )
        ).scalars().all()
        return all((h.rtype, h.rid) == (row.rtype, row.rid) for h in others)

    def _send(self, route: Route, method: str, path: str, body: dict | None) -> None:
        url = f"{route.endpoint}/{path}"
        headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json", **dict(route.headers)}
        try:
            resp = self.client.request(method, url, content=orjson.dumps(body) if body is not None else None, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code < 300 or (method == "DELETE" and resp.status_code in (404, 410)):
            return
        raise DeliveryError(
            f"{method} {url}: HTTP {resp.status_code}",
            status=resp.status_code,
            retry_after=_retry_after(resp.headers.get("Retry-After")),
            body=resp.text[:4000],
        )

    # -- recording -----------------------------------------------------------------------------
    def _finish(self, pk: int, plan: Plan, sub_id: str) -> None:
        now = utcnow()
        with self.store.transaction() as s:
            for rtype, rid, vid, pid in plan.holds:
                h = s.get(SubscriberHolding, (sub_id, rtype, rid))
                if h is None:
                    s.add(SubscriberHolding(subscription_id=sub_id, rtype=rtype, rid=rid, vid=vid, patient_id=pid, delivered_at=now))
                else:
                    h.vid, h.delivered_at = max(h.vid, vid), now
                    s.add(h)
            for rtype, rid in plan.releases:
                h = s.get(SubscriberHolding, (sub_id, rtype, rid))
                if h is not None:
                    s.delete(h)
            row = s.get(Delivery, pk)
            if row is not None:
                if row.status == "pending":
                    row.status = plan.outcome
                row.action = ",".join(m for m, _, _ in plan.requests) or None
                row.decision = plan.decision
                row.finished_at = now
                row.attempts += 1 if plan.requests else 0
                s.add(row)

    def _failed(self, pk: int, exc: DeliveryError) -> None:
        now = utcnow()
        with self.store.transaction() as s:
            row = s.get(Delivery, pk)
            if row is None or row.status != "pending":
                return
            row.attempts += 1
            row.last_error = str(exc) + (f"\n{exc.body}" if exc.body else "")
            permanent = exc.status is not None and 400 <= exc.status < 500 and exc.status not in RETRYABLE_4XX
            age = (now - _aware(row.created_at)).total_seconds()
            if permanent or age >= self.settings.delivery_horizon_s:
                row.status, row.finished_at = "dead", now
            else:
                delay = min(self.settings.delivery_backoff_max_s, self.settings.delivery_backoff_base_s * (2 ** min(row.attempts - 1, 30)))
                delay = random.uniform(delay / 2, delay)
                if exc.retry_after is not None:
                    delay = max(delay, exc.retry_after)
                row.next_attempt_at = now + timedelta(seconds=delay)
            s.add(row)

    # -- loops ---------------------------------------------------------------------------------
    def run_once(self, limit: int = 100) -> int:
        pks = self.claim_due(limit)
        for pk in pks:
            self.process(pk)
        return len(pks)

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                n = self.run_once()
            except Exception:
                log.exception("delivery loop error")
                n = 0
            if n == 0:
                stop.wait(self.settings.delivery_poll_s)

    def drain(self, timeout: float = 30.0) -> bool:
        """Deliver until nothing is pending (True) or the timeout passes (False). For CLI and tests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.run_once() == 0:
                with self.store.transaction() as s:
                    pending = s.execute(select(Delivery.pk).where(Delivery.status == "pending").limit(1)).first()
                if pending is None:
                    return True
                time.sleep(0.05)
        return False


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None
