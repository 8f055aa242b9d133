"""Failure classification and Retry-After parsing (RFC 9110 §10.2.3), without network."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import pytest

from hub.routing._send import DeliveryError, retry_after_seconds


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (401, True), (404, True), (422, True), (408, False),
                                                   (409, False), (425, False), (429, False), (500, False), (503, False), (None, False)])
def test_only_plain_4xx_are_permanent(status, permanent):
    assert DeliveryError("x", status=status).permanent is permanent


def test_throttled_on_429_503_or_retry_after():
    assert DeliveryError("x", status=429).throttled
    assert DeliveryError("x", status=503).throttled
    assert DeliveryError("x", status=500, retry_after=3).throttled
    assert not DeliveryError("x", status=500).throttled


def test_retry_after_seconds_and_http_date():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(when) or 0) <= 30
    past = email.utils.format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(past) == 0.0
