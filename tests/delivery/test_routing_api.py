"""The routing package's public names (style.md: the `__init__` names the public API; internals stay private)."""

import hub.routing


def test_public_api_is_pinned():
    assert hub.routing.__all__ == [
        "PURPOSE_URL", "RECIPIENT_URL", "DeliveryError", "DeliveryWorker", "Outbox", "Route", "RouteTable",
        "check_subscription", "dead_letter", "dead_letters", "hold_key", "lease_seconds", "paused_key", "replay",
        "requester_for", "set_paused", "subscribers", "summary",
    ]
    assert all(hasattr(hub.routing, name) for name in hub.routing.__all__)
