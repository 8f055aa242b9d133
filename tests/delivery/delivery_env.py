"""One hub deployment on loopback for the delivery tests: API, `knutpunkt worker` processes and the demo
receiver as child processes, with helpers to drive and observe them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from hub.cli._procs import free_port, wait_http
from hub.paths import examples_dir

REDIS_URL = os.environ.get("KNUTPUNKT_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
HERE = Path(__file__).parent
FAST = {
    "KNUTPUNKT_DELIVERY_BACKOFF_BASE_S": "0.05",
    "KNUTPUNKT_DELIVERY_BACKOFF_MAX_S": "0.4",
    "KNUTPUNKT_DELIVERY_POLL_S": "0.2",
    "KNUTPUNKT_DELIVERY_TIMEOUT_S": "2",
    "KNUTPUNKT_DELIVERY_LEASE_S": "4",
    "KNUTPUNKT_VALIDATE_ON_WRITE": "false",
}


class Env:
    """One hub deployment on loopback: API, workers and receiver as child processes."""

    def __init__(self, tmp: Path, database_url: str, redis_client: Any) -> None:
        self.tmp = tmp
        self.redis = redis_client
        self.key_file = tmp / "key.pem"
        self.env = {
            **os.environ,
            **FAST,
            "KNUTPUNKT_DATABASE_URL": database_url,
            "KNUTPUNKT_BROKER_URL": REDIS_URL,
            "KNUTPUNKT_KEY_FILE": str(self.key_file),
            "PYTHONUNBUFFERED": "1",
        }
        self.procs: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        self.receiver: subprocess.Popen | None = None
        self.receiver_port = free_port()
        self.receiver_url = f"http://127.0.0.1:{self.receiver_port}"
        self.hub_url = ""
        from hub.auth import TokenService

        self.token = TokenService(str(self.key_file)).issue("delivery-tests", "system/*.cruds system/Subscription.cruds", lifetime_s=3600)
        self.http = httpx.Client(timeout=30, headers={"Authorization": f"Bearer {self.token}"})

    # -- processes -----------------------------------------------------------------------------
    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)
        self.procs.append(proc)
        return proc

    def start_receiver(self) -> None:
        self.receiver = self._spawn(["-m", "hub.tools.receiver", "--port", str(self.receiver_port)], "receiver")
        wait_http(self.receiver_url + "/_health", proc=self.receiver)

    def stop_receiver(self) -> None:
        if self.receiver is not None:
            self.receiver.kill()
            self.receiver.wait(5)
            self.receiver = None

    def start_hub(self) -> None:
        port = free_port()
        proc = self._spawn([str(HERE / "hubproc.py"), "--port", str(port)], "hub")
        self.hub_url = f"http://127.0.0.1:{port}"
        wait_http(self.hub_url + "/readyz", timeout=60, proc=proc)

    def start_worker(self, concurrency: int = 2, wait: bool = True) -> subprocess.Popen:
        name = f"worker{len(self.workers)}"
        proc = self._spawn(["-m", "hub", "worker", "--concurrency", str(concurrency)], name)
        self.workers.append(proc)
        if wait:
            self.wait_worker_ready(proc, name)
        return proc

    def wait_worker_ready(self, proc: subprocess.Popen, name: str, timeout: float = 60.0) -> None:
        """Celery logs "<hostname> ready." once it consumes; the sweeper runs from before that."""
        log = self.tmp / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}: {log.read_text()[-2000:]}")
            if log.exists() and " ready." in log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise AssertionError(f"{name} not ready within {timeout}s")

    def start_workers(self, n: int, concurrency: int = 2) -> list[subprocess.Popen]:
        procs = [self.start_worker(concurrency, wait=False) for _ in range(n)]
        for i, p in enumerate(procs):
            self.wait_worker_ready(p, f"worker{len(self.workers) - n + i}")
        return procs

    def kill_worker(self, proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)

    def close(self) -> None:
        self.http.close()
        for p in self.procs:
            if p.poll() is None:
                p.kill()  # nothing to keep: the scratch database goes away with the test
        for p in self.procs:
            try:
                p.wait(8)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    # -- hub calls -----------------------------------------------------------------------------
    def subscribe(self) -> str:
        text = (examples_dir() / "routes" / "registry-allergy.json").read_text().replace("{{RECEIVER}}", self.receiver_url)
        r = self.http.post(self.hub_url + "/fhir", content=text, headers={"Content-Type": "application/fhir+json"})
        assert r.status_code == 200, r.text
        for e in r.json()["entry"]:
            loc = e["response"]["location"]
            if loc.startswith("Subscription/"):
                return loc.split("/")[1]
        raise AssertionError("no Subscription created")

    def ingest(self, docs: list[bytes]) -> list[str]:
        """Ingest rivta documents; returns the AllergyIntolerance references stored."""
        refs = []
        for doc in docs:
            r = self.http.post(self.hub_url + "/ingest/rivta-alert", content=doc, headers={"Content-Type": "application/xml"})
            assert r.status_code == 201, r.text
            for e in r.json()["entry"]:
                loc = (e.get("response", {}).get("location") or "").split("/_history")[0]
                if loc.startswith("AllergyIntolerance/"):  # an existing Patient comes back without a location
                    refs.append(loc)
        return refs

    def read(self, ref: str) -> dict:
        r = self.http.get(f"{self.hub_url}/fhir/{ref}")
        assert r.status_code == 200, r.text
        return r.json()

    def update(self, resource: dict) -> int:
        """PUT a new version; returns its version id (from the ETag)."""
        r = self.http.put(f"{self.hub_url}/fhir/{resource['resourceType']}/{resource['id']}", content=orjson.dumps(resource),
                          headers={"Content-Type": "application/fhir+json"})
        assert r.status_code in (200, 201), r.text
        return int(r.headers["etag"].split('"')[1])

    def admin(self, path: str, method: str = "GET") -> Any:
        r = self.http.request(method, f"{self.hub_url}/admin/api/{path}")
        assert r.status_code == 200, r.text
        return r.json()

    # -- receiver ------------------------------------------------------------------------------
    def received(self) -> dict:
        return httpx.get(self.receiver_url + "/_state", timeout=10).json()

    def control(self, **cmd: Any) -> None:
        assert httpx.post(self.receiver_url + "/_control", json=cmd, timeout=10).status_code == 200

    # -- waiting -------------------------------------------------------------------------------
    def wait_for(self, what: str, predicate: Callable[[], bool], timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; summary={self.admin('summary')}; logs in {self.tmp}")

    def wait_idle(self, timeout: float = 40.0) -> dict:
        self.wait_for("an empty queue", lambda: self.admin("summary")["queue_depth"] == 0, timeout)
        return self.admin("summary")
