"""Subscription.status follows delivery health (FHIR R4 Subscription: `error` with `error` text, back to
`active` when deliveries succeed again). Writing the Subscription only bumps the route generation; the
outbox never routes Subscriptions, so this cannot start a delivery loop.
"""

from __future__ import annotations

import logging

from hub.store import Store

log = logging.getLogger("knutpunkt.delivery")
PERSISTENT_ATTEMPTS = 3  # a row failing this often marks its subscriber `error` before it dead-letters


def set_subscription_status(store: Store, sub_id: str, status: str, error: str | None = None) -> bool:
    """Move an `active`/`error` Subscription to `status`; True when it was written. Never raises."""
    try:
        with store.transaction() as s:
            cur = store.read_optional(s, "Subscription", sub_id)
            if cur is None:
                return False
            have = cur.resource.get("status")
            if have not in ("active", "error") or (have == status and cur.resource.get("error") == error):
                return False
            if have == status == "error":  # already error: keep the first reason, avoid churn
                return False
            body = dict(cur.resource)
            body["status"] = status
            if error:
                body["error"] = error[:500]
            else:
                body.pop("error", None)
            store.update(s, body, if_match=cur.vid)
        log.info("Subscription/%s status %s -> %s", sub_id, have, status)
        return True
    except Exception:  # a concurrent writer won, or the database is busy: the next outcome retries
        log.debug("could not set Subscription/%s status", sub_id, exc_info=True)
        return False
