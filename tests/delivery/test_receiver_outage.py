"""Receiver down for a while, then back: everything delivered, nothing duplicated beyond idempotent PUTs."""

from __future__ import annotations

import time
from collections import Counter


def test_delivers_with_two_workers(env, docs):
    env.start_worker()
    env.start_worker()
    env.subscribe()
    refs = env.ingest(docs(12, 4))
    env.wait_for("all allergies at the receiver", lambda: set(refs) <= set(env.received()["held"]))
    summary = env.wait_idle()
    assert summary["dead_letters"] == 0
    puts = Counter(e["path"] for e in env.received()["log"] if e["method"] == "PUT")
    assert all(puts[r] == 1 for r in refs)


def test_receiver_down_then_back(env, docs):
    env.start_worker()
    env.start_worker()
    env.subscribe()
    env.stop_receiver()
    refs = env.ingest(docs(10, 5))
    time.sleep(1.5)  # several failed attempts (connection refused) with backoff
    assert env.admin("summary")["queue_depth"] > 0
    env.start_receiver()  # same port, empty state
    env.wait_for("all allergies at the receiver", lambda: set(refs) <= set(env.received()["held"]))
    summary = env.wait_idle()
    assert summary["dead_letters"] == 0
    state = env.received()
    puts = Counter(e["path"] for e in state["log"] if e["method"] == "PUT")
    assert {r: puts[r] for r in refs} == {r: 1 for r in refs}
    assert all(e["status"] in (200, 201) for e in state["log"])


def test_timing_probe(env, docs):
    t = time.monotonic()
    env.start_worker()
    env.subscribe()
    print("subscribe", time.monotonic() - t)
    t = time.monotonic()
    refs = env.ingest(docs(12, 4))
    print("ingest", time.monotonic() - t)
    t = time.monotonic()
    env.wait_for("all allergies at the receiver", lambda: set(refs) <= set(env.received()["held"]))
    print("deliver", time.monotonic() - t)
    assert 0
