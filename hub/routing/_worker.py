"""Delivering outbox rows: claim a batch with a lease → plan at send time → PUT/DELETE → record.

At-least-once: a row is leased before sending and only finished after the receiver answered 2xx; a crash
or lost wake-up leaves it open, and the next sweep picks it up once the lease ran out. Idempotent at the
receiver (PUT/DELETE by id). Order per (subscriber, patient): only a queue's head row is ever claimed.
Failures back off exponentially with jitter up to the horizon, then dead-letter (a permanent 4xx at once).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select, text, update
from sqlmodel import Session

from hub.consent import Requester
from hub.enforcement import DecisionBatch, Enforcer
from hub.routing._claim import OPEN, _aware, claim_due, hold_key, paused_key
from hub.routing._plan import Plan, plan_delivery, prefetch
from hub.routing._send import DeliveryError, new_pool, send
from hub.routing._status import PERSISTENT_ATTEMPTS, set_subscription_status
from hub.routing._subscriptions import Route, RouteTable, requester_for
from hub.settings import Settings
from hub.store import Delivery, KeyValue, Store, SubscriberHolding, keys_in, one_of, utcnow

log = logging.getLogger("knutpunkt.delivery")
_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
_HOLDING = SubscriberHolding.__table__  # type: ignore[attr-defined]
_HOLD_PG = text(
    "INSERT INTO subscriber_holding (subscription_id, rtype, rid, vid, patient_id, delivered_at) "
    "SELECT * FROM unnest(CAST(:subscription_id AS text[]), CAST(:rtype AS text[]), CAST(:rid AS text[]), CAST(:vid AS int[]), "
    "CAST(:patient_id AS text[]), CAST(:delivered_at AS timestamptz[])) "
    "ON CONFLICT (subscription_id, rtype, rid) DO UPDATE SET vid = GREATEST(subscriber_holding.vid, excluded.vid), delivered_at = excluded.delivered_at"
)
_FINISH = (
    update(_DELIVERY)
    .where(_DELIVERY.c.pk == bindparam("b_pk"))
    .values(status=bindparam("b_status"), action=bindparam("b_action"), decision=bindparam("b_decision"),
            finished_at=bindparam("b_finished"), attempts=_DELIVERY.c.attempts + bindparam("b_inc"))
)
SEND_THREADS = 8  # sends are mostly waiting; more threads in one process only fight over the GIL

__all__ = ["DeliveryError", "DeliveryWorker", "Plan", "lease_seconds", "paused_key"]


def lease_seconds(settings: Settings) -> float:
    """How long a claim holds a row: long enough for a batch of slow sends, short enough to recover."""
    explicit = getattr(settings, "delivery_lease_s", None) or os.environ.get("KNUTPUNKT_DELIVERY_LEASE_S")
    return float(explicit) if explicit else max(10.0, 4 * settings.delivery_timeout_s + 2)


class DeliveryWorker:
    def __init__(self, store: Store, routes: RouteTable, enforcer: Enforcer, settings: Settings) -> None:
        self.store = store
        self.routes = routes
        self.enforcer = enforcer
        self.settings = settings
        self.client = new_pool(settings.delivery_timeout_s, SEND_THREADS * 2)
        self.lease = timedelta(seconds=lease_seconds(settings))
        self.batch = int(getattr(settings, "delivery_batch", 0) or 64)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._nudge = threading.Event()

    # -- claiming ------------------------------------------------------------------------------
    def claim_due(self, limit: int | None = None) -> list[int]:
        return claim_due(self.store, limit or self.batch, self.lease, lambda s: [r.id for r in self.routes.active(s)])

    # -- a batch of claimed rows ---------------------------------------------------------------
    def process(self, pk: int) -> str:
        return self.process_batch([pk]).get(pk, "skipped")

    def process_batch(self, pks: list[int]) -> dict[int, str]:
        t_plan = time.perf_counter()
        results: dict[int, str] = {}
        work: list[tuple[int, str, Route | None, Plan | None, DeliveryError | None]] = []
        routes: dict[str, Route] = {}  # filled by the planning transaction (one generation check per batch)
        requesters: dict[str, Requester] = {}
        try:
            work = self._plan_together(sorted(pks), routes, requesters, results)
        except Exception:  # a row that breaks the batch: plan each row on its own (fail closed per row)
            log.exception("batch planning failed; planning rows one by one")
            results.clear()
            work = []
            with self.store.transaction() as s:
                routes = {r.id: r for r in self.routes.active(s)}
        else:
            pks = []
        # One short transaction per row (fallback path).
        for pk in sorted(pks):
            route = None
            try:
                with self.store.transaction() as s:
                    row = s.get(Delivery, pk)
                    if row is None or row.status != "sending":
                        results[pk] = "skipped"
                        continue
                    sub_id = row.subscription_id
                    route = routes.get(sub_id)
                    requester = None
                    if route is not None:
                        if route.id not in requesters:
                            requesters[route.id] = requester_for(self.store, s, route)
                        requester = requesters[route.id]
                    plan = plan_delivery(self.store, self.enforcer, s, row, route, requester)
                work.append((pk, sub_id, route, plan, None))
            except Exception as exc:  # cannot decide → deliver nothing now, retry later (fail closed)
                log.exception("planning delivery %s failed", pk)
                work.append((pk, "", route, None, DeliveryError(f"could not plan delivery: {exc}")))
        sendable = [w for w in work if w[3] is not None and w[3].outcome != "cancelled" and w[3].requests]
        t_sent = time.perf_counter()
        errors = dict(zip([w[0] for w in sendable], self._send_all([(w[2], w[3]) for w in sendable]), strict=True))
        outcomes = [(pk, sub, route, plan, err or errors.get(pk)) for pk, sub, route, plan, err in work]
        t_record = time.perf_counter()
        results.update(self._record(outcomes))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("  plan %.1f ms, send %.1f ms, record %.1f ms", (t_sent - t_plan) * 1000, (t_record - t_sent) * 1000, (time.perf_counter() - t_record) * 1000)
        return results

    def _plan_together(
        self, pks: list[int], routes: dict[str, Route], requesters: dict[str, Requester], results: dict[int, str]
    ) -> list[tuple[int, str, Route | None, Plan | None, DeliveryError | None]]:
        """Plan a batch in one transaction: one compiled policy per patient and one audit append for
        all decisions (the audit chain lock is taken once per batch instead of once per decision)."""
        work: list[tuple[int, str, Route | None, Plan | None, DeliveryError | None]] = []
        with self.store.transaction() as s:
            routes.update((r.id, r) for r in self.routes.active(s))
            batch = DecisionBatch(self.enforcer, s)
            rows = {r.pk: r for r in s.execute(select(Delivery).where(Delivery.pk.in_(pks))).scalars()}
            live = [r for r in rows.values() if r.status == "sending"]
            pre = prefetch(self.store, s, live)
            batch.prime([r.patient_id for r in live if r.patient_id])
            for pk in pks:
                row = rows.get(pk)
                if row is None or row.status != "sending":
                    results[pk] = "skipped"
                    continue
                route = routes.get(row.subscription_id)
                requester = None
                if route is not None:
                    if route.id not in requesters:
                        requesters[route.id] = requester_for(self.store, s, route)
                    requester = requesters[route.id]
                work.append((pk, row.subscription_id, route, plan_delivery(self.store, batch, s, row, route, requester, pre), None))
            batch.flush()
        return work

    def _send_all(self, items: list[tuple[Route | None, Plan | None]]) -> list[DeliveryError | None]:
        if len(items) <= 1:
            return [self._send_plan(r, p) for r, p in items]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="knutpunkt-send")
        return list(self._pool.map(lambda rp: self._send_plan(*rp), items))

    def _send_plan(self, route: Route | None, plan: Plan | None) -> DeliveryError | None:
        assert route is not None and plan is not None
        try:
            for method, path, body in plan.requests:
                send(self.client, route, method, path, body)
        except DeliveryError as exc:
            return exc
        return None

    # -- recording -----------------------------------------------------------------------------
    def _record(self, outcomes: list[tuple[int, str, Route | None, Plan | None, DeliveryError | None]]) -> dict[int, str]:
        """Record a batch's outcomes in one transaction: finished rows and holdings in a few statements;
        failures (rare) row by row with their backoff."""
        results: dict[int, str] = {}
        healthy: dict[str, Route] = {}
        failing: dict[str, tuple[Route, str]] = {}
        now = utcnow()
        with self.store.transaction() as s:
            rows = {r.pk: r for r in s.execute(select(_DELIVERY.c.pk, _DELIVERY.c.status).where(one_of(_DELIVERY.c.pk, [o[0] for o in outcomes], self.store.is_postgres)))}
            finished: list[dict[str, object]] = []
            holds: dict[tuple[str, str, str], tuple[int, str | None]] = {}  # key → (vid, patient), in outcome order
            releases: set[tuple[str, str, str]] = set()
            for pk, sub_id, route, plan, err in outcomes:
                row = rows.get(pk)
                if row is None or row.status not in OPEN:
                    results[pk] = "skipped"
                    continue
                if err is None and plan is not None:
                    for rtype, rid, vid, pid in plan.holds:
                        key = (sub_id, rtype, rid)
                        releases.discard(key)
                        holds[key] = (max(vid, holds[key][0]) if key in holds else vid, pid)
                    for rtype, rid in plan.releases:
                        holds.pop((sub_id, rtype, rid), None)
                        releases.add((sub_id, rtype, rid))
                    finished.append({"b_pk": pk, "b_status": plan.outcome, "b_action": ",".join(m for m, _, _ in plan.requests)[:8] or None,
                                     "b_decision": plan.decision, "b_finished": now, "b_inc": 1 if plan.requests else 0})
                    results[pk] = plan.outcome
                    if route is not None and plan.requests:
                        healthy[sub_id] = route
                    continue
                assert err is not None
                full = s.get(Delivery, pk)
                assert full is not None
                results[pk] = self._failed(s, full, err)
                if route is not None and (full.status == "dead" or full.attempts >= PERSISTENT_ATTEMPTS):
                    failing[sub_id] = (route, str(err))
            if releases:
                cols = (_HOLDING.c.subscription_id, _HOLDING.c.rtype, _HOLDING.c.rid)
                s.execute(delete(_HOLDING).where(keys_in(cols, releases, self.store.is_postgres)))
            if holds:
                self._hold(s, [{"subscription_id": k[0], "rtype": k[1], "rid": k[2], "vid": v, "patient_id": pid, "delivered_at": now}
                               for k, (v, pid) in sorted(holds.items())])
            if finished:
                s.execute(_FINISH, finished)
        for sub_id, (route, message) in failing.items():
            if route.status == "active":
                set_subscription_status(self.store, sub_id, "error", f"deliveries failing: {message}")
        for sub_id, route in healthy.items():
            if sub_id not in failing and route.status == "error":
                set_subscription_status(self.store, sub_id, "active")
        return results

    def _hold(self, s: Session, values: list[dict[str, object]]) -> None:
        """Upsert what subscribers now hold; a holding's version never goes back (an older version that was
        delivered late does not overwrite a newer one)."""
        if self.store.is_postgres:  # arrays: one statement text, whatever the batch size
            s.execute(_HOLD_PG, {c: [v[c] for v in values] for c in ("subscription_id", "rtype", "rid", "vid", "patient_id", "delivered_at")})
            return
        from sqlalchemy.dialects.sqlite import insert as upsert

        stmt = upsert(_HOLDING).values(values)
        s.execute(stmt.on_conflict_do_update(
            index_elements=[_HOLDING.c.subscription_id, _HOLDING.c.rtype, _HOLDING.c.rid],
            set_={"vid": func.max(_HOLDING.c.vid, stmt.excluded.vid), "delivered_at": stmt.excluded.delivered_at},
        ))

    def _failed(self, s: Session, row: Delivery, exc: DeliveryError) -> str:
        now = utcnow()
        row.attempts += 1
        row.last_error = str(exc) + (f"\n{exc.body}" if exc.body else "")
        age = (now - _aware(row.created_at)).total_seconds()
        if exc.permanent or age >= self.settings.delivery_horizon_s:
            row.status, row.finished_at = "dead", now
            s.add(row)
            return "dead"
        delay = min(self.settings.delivery_backoff_max_s, self.settings.delivery_backoff_base_s * (2 ** min(row.attempts - 1, 30)))
        delay = random.uniform(delay / 2, delay)
        if exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        row.status = "pending"
        row.next_attempt_at = now + timedelta(seconds=delay)
        s.add(row)
        if exc.throttled:  # hold the whole subscriber back, not just this row
            until = (now + timedelta(seconds=delay)).isoformat()
            kv = s.get(KeyValue, hold_key(row.subscription_id))
            if kv is None:
                s.add(KeyValue(key=hold_key(row.subscription_id), value=until))
                s.flush()  # a second throttled row of this batch must find it
            elif kv.value < until:
                kv.value = until
                s.add(kv)
        return "retry"

    # -- loops ---------------------------------------------------------------------------------
    def run_once(self, limit: int | None = None) -> int:
        t0 = time.perf_counter()
        pks = self.claim_due(limit)
        if pks:
            t1 = time.perf_counter()
            self.process_batch(pks)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("batch of %d: claim %.1f ms, deliver %.1f ms", len(pks), (t1 - t0) * 1000, (time.perf_counter() - t1) * 1000)
        return len(pks)

    def nudge(self) -> None:
        """Wake `run_forever` now (after a commit in this process)."""
        self._nudge.set()

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                n = self.run_once()
            except Exception:
                log.exception("delivery loop error")
                n = 0
            if n == 0:
                self._nudge.wait(self.settings.delivery_poll_s)
                self._nudge.clear()

    def open_count(self) -> int:
        with self.store.transaction() as s:
            return len(s.execute(select(Delivery.pk).where(Delivery.status.in_(OPEN)).limit(1)).all())

    def drain(self, timeout: float = 30.0) -> bool:
        """Deliver until nothing is open (True) or the timeout passes (False). For CLI and tests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.run_once() == 0:
                if self.open_count() == 0:
                    return True
                time.sleep(0.02)
        return False
