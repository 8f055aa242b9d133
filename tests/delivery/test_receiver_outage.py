"""Receiver down for a while, then back: everything delivered, nothing duplicated beyond idempotent PUTs."""

from __future__ import annotations

import time
from collections import Counter


def test_receiver_down_then_back(env, docs):
    env.start_workers(2)
    env.subscribe()
    env.stop_receiver()
    refs = env.ingest(docs(10, 10))
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



def test_inprocess_worker_without_broker(workdir, redis_client, docs):
    """The embedded default (SQLite, no broker): `serve` delivers in-process with the same machinery."""
    from delivery_env import Env

    env = Env(workdir, f"sqlite:///{workdir / 'hub.db'}", redis_client)
    del env.env["KNUTPUNKT_BROKER_URL"]
    try:
        env.start_receiver()
        env.start_hub()
        env.subscribe()
        env.control(status=503, count=3)
        refs = env.ingest(docs(4, 4))
        env.wait_for("all allergies at the receiver", lambda: set(refs) <= set(env.received()["held"]))
        assert env.wait_idle()["dead_letters"] == 0
        assert [e["status"] for e in env.received()["log"]].count(503) == 3
    finally:
        env.close()
