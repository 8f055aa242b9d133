"""Baseline for `deliver_pg_per_s`: the same PUTs to the same receiver, sent by the hub's own HTTP code
(`hub.routing._send.send`) from the same number of processes and threads, with no database, outbox,
consent or audit. The ratio says how much of what the receiver and HTTP stack allow delivery reaches."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from hub.routing._send import new_pool, send
from hub.routing._subscriptions import Route


def _route(endpoint: str) -> Route:
    return Route(id="bench", endpoint=endpoint, query=None, purpose=None, recipient_ref=None, headers=(), status="active")  # type: ignore[arg-type]


def _ready() -> None:
    """Run once in each child first, so process start-up is not timed."""


def _put_share(endpoint: str, items: list[tuple[str, dict[str, Any]]], threads: int, start_at: float) -> tuple[float, float]:
    route, pool = _route(endpoint), new_pool(30.0, threads * 2)
    time.sleep(max(0.0, start_at - time.time()))
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=threads) as ex:
        list(ex.map(lambda it: send(pool, route, "PUT", it[0], it[1]), items))
    return t0, time.time()


def bare_put_rate(endpoint: str, resources: dict[str, dict[str, Any]], processes: int, threads: int) -> float:
    """PUTs per second of `resources` ({"Type/id": resource}) spread over `processes` × `threads`."""
    items = sorted(resources.items())
    shares = [items[i::processes] for i in range(processes)]
    with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as ex:
        for f in [ex.submit(_ready) for _ in range(processes)]:
            f.result()
        start_at = time.time() + 0.3
        spans = [f.result() for f in [ex.submit(_put_share, endpoint, share, threads, start_at) for share in shares]]
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    return len(items) / elapsed if elapsed > 0 else 0.0
