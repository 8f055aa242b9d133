"""Failing receivers: 5xx until the horizon → dead letters and Subscription `error`, replay after recovery;
a 4xx → dead letter at once with the receiver's OperationOutcome; Retry-After holds the subscriber back."""

from __future__ import annotations


def _subscription(env, sub_id: str) -> dict:
    return env.read(f"Subscription/{sub_id}")


def test_500_forever_dead_letters_then_replay_delivers(env, docs):
    env.env["KNUTPUNKT_DELIVERY_HORIZON_S"] = "1.5"
    env.control(status=500, count=-1)
    env.start_worker()
    sub_id = env.subscribe()
    refs = env.ingest(docs(4, 4))
    env.wait_for("every delivery dead-lettered", lambda: env.admin("summary")["dead_letters"] == len(refs) and env.admin("summary")["queue_depth"] == 0)
    assert env.received()["held"] == {}
    attempts = [e for e in env.received()["log"] if e["status"] == 500]
    assert len(attempts) >= 2 * len(refs)  # retried with backoff before giving up
    dead = env.admin(f"dead-letters?subscription={sub_id}")
    assert sorted(d["resource"] for d in dead) == sorted(refs)
    assert all("HTTP 500" in d["reason"] and d["attempts"] >= 2 for d in dead)
    sub = _subscription(env, sub_id)
    assert sub["status"] == "error" and "HTTP 500" in sub["error"]
    subscribers = {s["id"]: s for s in env.admin("subscribers")}
    assert subscribers[sub_id]["dead"] == len(refs) and subscribers[sub_id]["status"] == "error"

    env.control(status=None)  # the receiver recovers
    one = dead[0]
    assert env.admin(f"dead-letters/{one['pk']}/replay", "POST") == {"replayed": 1}
    env.wait_for("the replayed one delivered", lambda: one["resource"] in env.received()["held"])
    assert env.admin(f"subscribers/{sub_id}/replay", "POST") == {"replayed": len(refs) - 1}
    env.wait_for("all replayed", lambda: set(refs) <= set(env.received()["held"]))
    summary = env.wait_idle()
    assert summary["dead_letters"] == 0
    env.wait_for("Subscription back to active", lambda: _subscription(env, sub_id)["status"] == "active")
    assert "error" not in _subscription(env, sub_id)


def test_4xx_dead_letter_then_retry_after_hold(env, docs):
    """A 4xx dead-letters at once with the receiver's OperationOutcome; then a 429 with Retry-After holds
    the whole subscriber back (new changes included) for that long."""
    env.control(status=422, count=1)
    env.start_worker()
    sub_id = env.subscribe()
    batch = docs(6, 6)
    refs = env.ingest(batch[:3])
    env.wait_for("the rest delivered", lambda: len(set(refs) & set(env.received()["held"])) == len(refs) - 1)
    summary = env.wait_idle()
    assert summary["dead_letters"] == 1
    (dead,) = env.admin("dead-letters")
    assert dead["subscription"] == sub_id and dead["attempts"] == 1  # never retried
    assert "HTTP 422" in dead["reason"]
    assert dead["outcome"]["resourceType"] == "OperationOutcome"
    assert dead["outcome"]["issue"][0]["diagnostics"] == "injected 422"
    assert [e["status"] for e in env.received()["log"]].count(422) == 1
    page = env.http.get(env.hub_url + "/admin")
    assert page.status_code == 200 and "injected 422" in page.text and "Dead letters" in page.text

    env.control(status=429, count=1, retry_after=2, reset=True)
    refs = env.ingest(batch[3:4])
    env.wait_for("the refusal", lambda: any(e["status"] == 429 for e in env.received()["log"]))
    refs += env.ingest(batch[4:])  # new changes during the hold must wait too
    env.wait_for("all delivered", lambda: set(refs) <= set(env.received()["held"]), timeout=30)
    log = env.received()["log"]
    refused = next(e for e in log if e["status"] == 429)
    after = [e["t"] - refused["t"] for e in log if e["t"] > refused["t"]]
    assert after and all(dt >= 1.9 for dt in after)  # base backoff is 0.05 s: only Retry-After explains it
    assert any(e["path"].strip("/") == refused["path"].strip("/") and e["status"] in (200, 201) for e in log)
    assert env.wait_idle()["dead_letters"] == 1
