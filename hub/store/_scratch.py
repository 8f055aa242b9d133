"""A throw-away PostgreSQL schema (tests and benchmarks of the production path share one recipe)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


def postgres_unreachable(url: str) -> str | None:
    """None when PostgreSQL at `url` answers; otherwise the reason, for a clear skip message."""
    try:
        import psycopg

        with psycopg.connect(_plain(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure to connect is a reason
        return f"PostgreSQL at {url} is unreachable: {type(exc).__name__}: {exc}"


@contextmanager
def scratch_schema(url: str, prefix: str = "kp") -> Iterator[str]:
    """A URL whose search_path is a new, empty schema; the schema is dropped afterwards."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_plain(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(_plain(url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
