"""Operator views and actions on the delivery queue: depth, age, per-subscriber state, dead letters,
replay and pause/resume (contract.md: Operator views). Framework-free; `hub.api.admin_routes` serves it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select

from hub.routing._claim import HOLD_PREFIX, OPEN, PAUSED_PREFIX, _aware, hold_key, paused_key
from hub.store import Delivery, KeyValue, parse_query, utcnow


def _age(dt: datetime | None, now: datetime) -> float | None:
    return None if dt is None else round((now - _aware(dt)).total_seconds(), 3)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else _aware(dt).astimezone(UTC).isoformat()


def summary(hub: Any) -> dict[str, Any]:
    now = utcnow()
    with hub.store.transaction() as s:
        by_status = dict(s.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
        oldest = s.execute(select(func.min(Delivery.created_at)).where(Delivery.status.in_(OPEN))).scalar()
        due = s.execute(select(func.count()).select_from(Delivery).where(Delivery.status.in_(OPEN), Delivery.next_attempt_at <= now)).scalar_one()
    return {
        "queue_depth": sum(by_status.get(st, 0) for st in OPEN),
        "due_now": int(due),
        "oldest_pending_age_s": _age(oldest, now),
        "dead_letters": by_status.get("dead", 0),
        "by_status": {k: int(v) for k, v in sorted(by_status.items())},
    }


def subscribers(hub: Any) -> list[dict[str, Any]]:
    now = utcnow()
    out = []
    with hub.store.transaction() as s:
        subs = hub.store.search(s, parse_query("Subscription", [("_count", "1000")]))
        stats: dict[str, dict[str, int]] = {}
        for sub_id, status, n in s.execute(select(Delivery.subscription_id, Delivery.status, func.count()).group_by(Delivery.subscription_id, Delivery.status)):
            stats.setdefault(sub_id, {})[status] = int(n)
        oldest = dict(s.execute(select(Delivery.subscription_id, func.min(Delivery.created_at)).where(Delivery.status.in_(OPEN)).group_by(Delivery.subscription_id)).all())
        last_ok = dict(s.execute(select(Delivery.subscription_id, func.max(Delivery.finished_at)).where(Delivery.status.in_(("delivered", "retracted"))).group_by(Delivery.subscription_id)).all())
        flags = dict(s.execute(select(KeyValue.key, KeyValue.value).where(KeyValue.key.like(f"{PAUSED_PREFIX}%") | KeyValue.key.like(f"{HOLD_PREFIX}%"))).all())
        for st in subs:
            r = st.resource
            sid = st.rid
            counts = stats.get(sid, {})
            hold = flags.get(hold_key(sid))
            try:
                held_until = hold if hold and _aware(datetime.fromisoformat(hold)) > now else None
            except ValueError:
                held_until = None
            out.append({
                "id": sid,
                "endpoint": (r.get("channel") or {}).get("endpoint"),
                "criteria": r.get("criteria"),
                "status": r.get("status"),
                "error": r.get("error"),
                "paused": paused_key(sid) in flags,
                "held_until": held_until,
                "open": sum(counts.get(x, 0) for x in OPEN),
                "dead": counts.get("dead", 0),
                "delivered": counts.get("delivered", 0) + counts.get("retracted", 0),
                "oldest_open_age_s": _age(oldest.get(sid), now),
                "last_delivered_at": _iso(last_ok.get(sid)),
            })
    return out


def _dead_row(row: Delivery) -> dict[str, Any]:
    message, _, body = (row.last_error or "").partition("\n")
    outcome = None
    if body.strip().startswith("{"):
        try:
            import orjson

            outcome = orjson.loads(body)
        except ValueError:
            outcome = None
    return {
        "pk": row.pk,
        "subscription": row.subscription_id,
        "resource": f"{row.rtype}/{row.rid}",
        "patient": row.patient_id,
        "attempts": row.attempts,
        "created_at": _iso(row.created_at),
        "finished_at": _iso(row.finished_at),
        "reason": message,
        "outcome": outcome,
        "response_body": None if outcome is not None else (body or None),
    }


def dead_letters(hub: Any, subscription: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    with hub.store.transaction() as s:
        stmt = select(Delivery).where(Delivery.status == "dead")
        if subscription:
            stmt = stmt.where(Delivery.subscription_id == subscription)
        rows = s.execute(stmt.order_by(Delivery.pk.desc()).limit(limit)).scalars().all()
        return [_dead_row(r) for r in rows]


def dead_letter(hub: Any, pk: int) -> dict[str, Any] | None:
    with hub.store.transaction() as s:
        row = s.get(Delivery, pk)
        return _dead_row(row) if row is not None and row.status == "dead" else None


def replay(hub: Any, *, pk: int | None = None, subscription: str | None = None) -> int:
    """Dead letters back into the queue as new rows (they send the then-current state); returns how many.
    One row by `pk`, all of a subscriber's, or (neither given) all of them."""
    now = utcnow()
    with hub.store.transaction() as s:
        stmt = select(Delivery).where(Delivery.status == "dead")
        if pk is not None:
            stmt = stmt.where(Delivery.pk == pk)
        if subscription is not None:
            stmt = stmt.where(Delivery.subscription_id == subscription)
        rows = s.execute(stmt.order_by(Delivery.pk)).scalars().all()
        for row in rows:
            row.status = "replayed"
            row.finished_at = now
            s.add(row)
        s.flush()
        for row in rows:
            hub.outbox.enqueue(s, row.subscription_id, row.rtype, row.rid, row.vid, row.patient_id, "replay")
        subs = {r.subscription_id for r in rows}
        if subs:
            s.execute(delete(KeyValue).where(KeyValue.key.in_([hold_key(x) for x in subs])))
    if rows:
        _wake(hub)
    return len(rows)


def set_paused(hub: Any, subscription: str, paused: bool) -> None:
    with hub.store.transaction() as s:
        kv = s.get(KeyValue, paused_key(subscription))
        if paused and kv is None:
            s.add(KeyValue(key=paused_key(subscription), value=utcnow().isoformat()))
        elif not paused and kv is not None:
            s.delete(kv)
    if not paused:
        _wake(hub)


def _wake(hub: Any) -> None:
    hub.worker.nudge()  # the in-process worker, when this process runs one
    hub.wake()  # a broker wake-up, when workers run elsewhere
