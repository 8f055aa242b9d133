"""Routing: Subscriptions as routes, the transactional outbox and the delivery worker."""

from hub.routing._outbox import Outbox
from hub.routing._subscriptions import (
    PURPOSE_URL,
    RECIPIENT_URL,
    Route,
    RouteTable,
    check_subscription,
    requester_for,
)
from hub.routing._worker import DeliveryWorker, paused_key

__all__ = [
    "PURPOSE_URL",
    "RECIPIENT_URL",
    "DeliveryWorker",
    "Outbox",
    "Route",
    "RouteTable",
    "check_subscription",
    "paused_key",
    "requester_for",
]
