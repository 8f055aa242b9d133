"""The store's two backends as a fixture: SQLite in a private directory, PostgreSQL in a fresh schema
(`KNUTPUNKT_TEST_PG_URL`, default postgres@127.0.0.1:5432/test; skipped only when unreachable)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("KNUTPUNKT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_unreachable() -> str | None:
    from hub.store._scratch import postgres_unreachable

    return postgres_unreachable(PG_URL)


def pg_schema_url() -> Iterator[str]:
    """A URL whose search_path is a new, empty schema; the schema is dropped afterwards."""
    reason = pg_unreachable()
    if reason:
        pytest.skip(reason)
    from hub.store._scratch import scratch_schema

    with scratch_schema(PG_URL, "kp_store") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, hub_dir: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{hub_dir / 'store.db'}"
    else:
        yield from pg_schema_url()
