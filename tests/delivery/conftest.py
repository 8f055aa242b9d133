"""Real processes, real services: the hub API, `knutpunkt worker` processes, the demo receiver, Redis and
SQLite or PostgreSQL (a fresh schema per test). PostgreSQL tests skip only when the server is unreachable."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from delivery_env import REDIS_URL, Env

PG_URL = os.environ.get("KNUTPUNKT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> str | None:
    from hub.store._scratch import postgres_unreachable

    return postgres_unreachable(PG_URL)


def _redis() -> Any:
    import redis

    return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)


@pytest.fixture(scope="session")
def redis_client() -> Any:
    r = _redis()
    try:
        r.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return r


@pytest.fixture
def workdir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A private scratch directory (pytest's shared tmp root is pruned by other runs on this machine)."""
    root = Path(tempfile.gettempdir()) / "knutpunkt-delivery-tests"
    root.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=request.node.name[:40].replace("[", "-").replace("]", "") + "-", dir=root))
    yield path
    if not getattr(request.node, "failed", False) and not os.environ.get("KNUTPUNKT_KEEP_TEST_DIRS"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.failed:
        item.failed = True  # type: ignore[attr-defined]
    return report


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, workdir: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{workdir / 'hub.db'}"
        return
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    from hub.store._scratch import scratch_schema

    with scratch_schema(PG_URL, "kp_delivery") as url:
        yield url


@pytest.fixture
def env(workdir: Path, database_url: str, redis_client: Any) -> Iterator[Env]:
    redis_client.flushdb()
    e = Env(workdir, database_url, redis_client)
    try:
        e.start_receiver()
        e.start_hub()
        yield e
    finally:
        e.close()


@pytest.fixture(scope="session")
def docs() -> Callable[[int, int], list[bytes]]:
    from hub.bench.pipeline import documents

    return lambda n, patients: documents(n, patients)
