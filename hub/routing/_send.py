"""One HTTP request to a subscriber's rest-hook endpoint, and how its failure is classified.

FHIR RESTful API (http://hl7.org/fhir/R4/http.html): PUT/DELETE by id are idempotent, so a redelivery
never duplicates. RFC 9110 §10.2.3: `Retry-After` is seconds or an HTTP-date; 408, 409, 425, 429 and
every 5xx or network error are worth retrying; other 4xx are permanent.
"""

from __future__ import annotations

import email.utils
import functools
from datetime import UTC, datetime

import orjson
import urllib3

from hub.routing._subscriptions import Route

RETRYABLE_4XX = frozenset({408, 409, 425, 429})


class DeliveryError(Exception):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.body = body

    @property
    def permanent(self) -> bool:
        """A 4xx other than 408/409/425/429: the receiver refuses this content; retrying cannot help."""
        return self.status is not None and 400 <= self.status < 500 and self.status not in RETRYABLE_4XX

    @property
    def throttled(self) -> bool:
        """The receiver asks the whole subscriber to slow down (429, 503 or any Retry-After)."""
        return self.status in (429, 503) or self.retry_after is not None


def new_pool(timeout_s: float, connections: int) -> urllib3.PoolManager:
    """Keep-alive connections to every subscriber endpoint; no automatic retries or redirects (a failed
    delivery is retried by the outbox with backoff, and a redirect is not followed with patient data).

    urllib3 rather than httpx here: on the delivery hot path it costs about half the CPU per request
    (measured by `knutpunkt bench`: deliver_pg_per_s), and the hub makes thousands of PUTs a second."""
    return urllib3.PoolManager(num_pools=64, maxsize=connections, block=False, retries=False, timeout=urllib3.Timeout(total=timeout_s))


def send(pool: urllib3.PoolManager, route: Route, method: str, path: str, body: dict | None) -> None:
    url = f"{route.endpoint}/{path}"
    # return=minimal: the hub does not need the receiver's copy of what it just sent (FHIR http.html#ops)
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json", "Prefer": "return=minimal", **dict(route.headers)}
    try:
        # the endpoint's connection pool, then urlopen: PoolManager.request would parse and re-encode per call
        conn = pool.connection_from_url(route.endpoint)
        resp = conn.urlopen(method, _base_path(route.endpoint) + "/" + path, body=orjson.dumps(body) if body is not None else None,
                            headers=headers, redirect=False, retries=False)
    except urllib3.exceptions.HTTPError as exc:
        raise DeliveryError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    if resp.status < 300 or (method == "DELETE" and resp.status in (404, 410)):
        return
    raise DeliveryError(
        f"{method} {url}: HTTP {resp.status}",
        status=resp.status,
        retry_after=retry_after_seconds(resp.headers.get("Retry-After")),
        body=resp.data[:8000].decode("utf-8", "replace"),
    )


@functools.lru_cache(maxsize=1024)
def _base_path(endpoint: str) -> str:
    return (urllib3.util.parse_url(endpoint).path or "").rstrip("/")


def retry_after_seconds(value: str | None) -> float | None:
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
