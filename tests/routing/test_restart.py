"""Deliveries are recorded in the database and survive a restart of `knutpunkt serve` (walking skeleton)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import orjson

from hub.auth import TokenService
from hub.cli._procs import start_hub, start_receiver, stop
from hub.paths import examples_dir

EXAMPLE = examples_dir() / "rivta" / "GetAlertInformation-195009072553-amoxicillin.xml"


def _pending(hub_url: str) -> float:
    """Deliveries not finished yet: waiting (pending) or leased by a worker (sending)."""
    total = 0.0
    for line in httpx.get(hub_url + "/metrics").text.splitlines():
        if line.startswith(('knutpunkt_deliveries{status="pending"}', 'knutpunkt_deliveries{status="sending"}')):
            total += float(line.split()[-1])
    return total


def test_pending_deliveries_survive_restart_and_are_delivered_once(tmp_path: Path) -> None:
    env = {
        "KNUTPUNKT_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "KNUTPUNKT_KEY_FILE": str(tmp_path / "key.pem"),
        "KNUTPUNKT_DELIVERY_POLL_S": "0.05",
        "KNUTPUNKT_DELIVERY_BACKOFF_BASE_S": "0.05",
        "KNUTPUNKT_DELIVERY_BACKOFF_MAX_S": "0.2",
    }
    receiver, recv_url = start_receiver()
    hub = None
    try:
        httpx.post(recv_url + "/_control", json={"status": 503, "count": -1})  # receiver is "down"
        hub, hub_url, _ = start_hub(env, cwd=tmp_path)
        token = TokenService(env["KNUTPUNKT_KEY_FILE"]).issue("t", "system/*.cruds")
        client = httpx.Client(base_url=hub_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        routes = (examples_dir() / "routes" / "registry-allergy.json").read_text().replace("{{RECEIVER}}", recv_url)
        assert client.post("/fhir", content=routes, headers={"Content-Type": "application/fhir+json"}).status_code == 200
        r = client.post("/ingest/rivta-alert", content=EXAMPLE.read_bytes(), headers={"Content-Type": "application/xml"})
        assert r.status_code == 201, r.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(e["status"] == 503 for e in httpx.get(recv_url + "/_state").json()["log"]):
            time.sleep(0.05)
        assert _pending(hub_url) >= 1
        stop(hub)
        hub = None
        httpx.post(recv_url + "/_control", json={"status": None})  # receiver back
        hub, hub_url, _ = start_hub(env, cwd=tmp_path)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _pending(hub_url) > 0:
            time.sleep(0.1)
        state = httpx.get(recv_url + "/_state").json()
        held = state["held"]
        allergies = [k for k in held if k.startswith("AllergyIntolerance/")]
        assert len(allergies) == 1
        assert any(k.startswith("Patient/") for k in held)
        ok_puts = [e for e in state["log"] if e["method"] == "PUT" and e["path"] == allergies[0] and e["status"] in (200, 201)]
        assert len(ok_puts) == 1, state["log"]
        body = held[allergies[0]]
        assert orjson.loads(orjson.dumps(body))["resourceType"] == "AllergyIntolerance"
    finally:
        stop(hub)
        stop(receiver)
