"""The delivery benchmark's same-run baseline really sends every PUT to a real receiver process."""

from __future__ import annotations

import httpx

from hub.bench._bare_put import bare_put_rate
from hub.cli._procs import start_receiver, stop


def test_bare_put_baseline_delivers_every_resource_once() -> None:
    recv, url = start_receiver()
    try:
        resources = {f"Patient/p{i}": {"resourceType": "Patient", "id": f"p{i}", "active": True} for i in range(30)}
        rate = bare_put_rate(url, resources, processes=2, threads=3)
        state = httpx.get(url + "/_state", timeout=10).json()
    finally:
        stop(recv)
    assert rate > 0
    assert state["held"] == resources
    puts = sorted(e["path"].strip("/") for e in state["log"] if e["method"] == "PUT")
    assert puts == sorted(resources)
