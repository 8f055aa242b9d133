"""Routing: Subscriptions as routes, the transactional outbox and the delivery worker."""

from hub.routing._admin import dead_letter, dead_letters, replay, set_paused, subscribers, summary
from hub.routing._claim import hold_key, paused_key
from hub.routing._outbox import Outbox
from hub.routing._subscriptions import (
    PURPOSE_URL,
    RECIPIENT_URL,
    Route,
    RouteTable,
    check_subscription,
    requester_for,
)
from hub.routing._worker import DeliveryError, DeliveryWorker, lease_seconds

__all__ = [
    "PURPOSE_URL",
    "RECIPIENT_URL",
    "DeliveryError",
    "DeliveryWorker",
    "Outbox",
    "Route",
    "RouteTable",
    "check_subscription",
    "dead_letter",
    "dead_letters",
    "hold_key",
    "lease_seconds",
    "paused_key",
    "replay",
    "requester_for",
    "set_paused",
    "subscribers",
    "summary",
]
