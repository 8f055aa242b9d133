"""A real hub process (SQLite, in-process delivery worker) and a real receiver, started once per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from consent_e2e_data import HubClient

from hub.auth import TokenService
from hub.cli._procs import start_hub, start_receiver, stop


@dataclass
class RunningHub(HubClient):
    db: Path = Path()
    env: dict[str, str] | None = None
    log: Path = Path()

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:]) if self.log.exists() else ""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    tmp = tmp_path_factory.mktemp("hub")
    env = {
        "KNUTPUNKT_DATABASE_URL": f"sqlite:///{tmp / 'hub.db'}",
        "KNUTPUNKT_KEY_FILE": str(tmp / "key.pem"),
        "KNUTPUNKT_DELIVERY_POLL_S": "0.1",
        "KNUTPUNKT_DELIVERY_BACKOFF_BASE_S": "0.2",
    }
    proc, url, _ = start_hub(env, log=tmp / "hub.log", cwd=tmp)
    try:
        yield RunningHub(url, TokenService(env["KNUTPUNKT_KEY_FILE"]), db=tmp / "hub.db", env=env, log=tmp / "hub.log")
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("receiver")
    proc, url = start_receiver(log=tmp / "receiver.log")
    try:
        yield url
    finally:
        stop(proc)
