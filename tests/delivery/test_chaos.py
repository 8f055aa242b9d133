"""Losing the broker's messages or a worker mid-batch delays but never loses a delivery; order per
(subscriber, patient) holds with four workers competing."""

from __future__ import annotations

import threading
from collections import defaultdict


def test_flushed_redis_and_killed_worker_lose_nothing(env, docs):
    """FLUSHDB of the broker's DB while changes stream in, then SIGKILL of a worker holding leased rows."""
    victim, survivor = env.start_workers(2)
    env.subscribe()
    env.control(delay=0.02)
    batch = docs(12, 12)
    refs: list[str] = []
    for doc in batch:  # each change's wake-up may be lost: flush right after every commit
        refs += env.ingest([doc])
        env.redis.flushdb()  # wake-ups, queue and kombu bindings gone
    assert len(refs) == len(batch)
    env.wait_for("all delivered after the flushes", lambda: set(refs) <= set(env.received()["held"]))

    env.control(delay=0.3)  # slow receiver: batches stay in flight
    more = env.ingest(docs(24, 24)[12:])
    env.wait_for("deliveries in flight", lambda: env.admin("summary")["by_status"].get("sending", 0) >= 2)
    env.kill_worker(victim)  # its leased rows stay "sending" until the lease runs out
    env.control(delay=0.0)
    env.wait_for("all delivered after the kill", lambda: set(more) <= set(env.received()["held"]), timeout=60)
    assert env.wait_idle()["dead_letters"] == 0
    assert survivor.poll() is None


def test_order_per_patient_under_four_workers(env, docs):
    env.start_workers(4, concurrency=1)
    env.subscribe()
    refs = sorted(set(env.ingest(docs(6, 6))))
    env.wait_for("first versions delivered", lambda: set(refs) <= set(env.received()["held"]))
    resources = [env.received()["held"][r] for r in refs]
    rounds = 4
    final: dict[str, int] = {}

    def bump(res: dict) -> None:
        for i in range(rounds):
            final[f"AllergyIntolerance/{res['id']}"] = env.update({**res, "note": [{"text": f"revision {i}"}]})

    threads = [threading.Thread(target=bump, args=(r,)) for r in resources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    env.wait_for("latest versions delivered", lambda: all(
        env.received()["held"].get(r, {}).get("meta", {}).get("versionId") == str(v) for r, v in final.items()))
    assert env.wait_idle()["dead_letters"] == 0
    log = sorted((e for e in env.received()["log"] if e["method"] == "PUT"), key=lambda e: e["t"])
    seen: dict[str, list[int]] = defaultdict(list)
    patient_first: dict[str, float] = {}
    for e in log:
        seen[e["path"]].append(int(e["version"]))
        if e["path"].startswith("Patient/"):
            patient_first.setdefault(e["path"], e["t"])
    for ref in refs:
        versions = seen[ref]
        assert versions == sorted(versions), f"{ref} delivered out of order: {versions}"
        assert versions[-1] == final[ref] and len(versions) >= 2
    # a patient's allergies follow the Patient resource at the receiver
    by_ref = {r["resourceType"] + "/" + r["id"]: r for r in resources}
    for ref in refs:
        pref = by_ref[ref]["patient"]["reference"]
        first_put = next(e["t"] for e in log if e["path"] == ref)
        assert patient_first[pref] <= first_put
