"""`knutpunkt audit verify` on SQLite databases written by the hub's own enforcement point."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hub.cli.audit  # noqa: F401  (registers `audit` on the app)
from hub.cli._app import app
from hub.consent import Decision, Requester
from hub.enforcement import Enforcer
from hub.store import Store, make_engine, migrate

REQUESTER = Requester(care_giver="SE2321000016-1000", care_unit="SE2321000016-1001", practitioner="dr-x", purpose="TREAT")
DECISIONS = [
    Decision(True, "same-unit"),
    Decision(False, "blocked", ("block-1",)),
    Decision(True, "emergency", (), True),
    Decision(False, "no-consent"),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A migrated database holding four chained AuditEvents; returns (file, event ids in chain order)."""
    path = tmp_path_factory.mktemp("audit") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    store = Store(engine)
    enforcer = Enforcer(store)
    with store.transaction() as s:
        for i, d in enumerate(DECISIONS):
            enforcer.audit(s, d, REQUESTER, "pat-1", f"AllergyIntolerance/a{i}", "R", datetime(2026, 1, 1, 12, i, tzinfo=UTC))
    engine.dispose()
    with sqlite3.connect(path) as db:
        ids = [r[0] for r in db.execute("SELECT event_id FROM audit_chain ORDER BY seq")]
    assert len(ids) == len(DECISIONS)
    return path, ids


@pytest.fixture
def db(template: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "hub.db"
    shutil.copy(template[0], path)
    return path, template[1]


def run(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", "--database-url", f"sqlite:///{path}"])
    return result.exit_code, result.output


def sql(path: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(statement, args)


def test_intact_chain_verifies(db: tuple[Path, list[str]]) -> None:
    code, out = run(db[0])
    assert code == 0, out
    assert "OK" in out and "4 links" in out


def test_empty_chain_verifies(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    migrate(make_engine(f"sqlite:///{path}"))
    code, out = run(path)
    assert code == 0 and "0 links" in out


def test_edited_event_is_reported(db: tuple[Path, list[str]]) -> None:
    path, ids = db
    sql(path, "UPDATE resource_version SET content = replace(content, '\"outcome\":\"4\"', '\"outcome\":\"0\"') "
              "WHERE rtype = 'AuditEvent' AND rid = ?", ids[1])
    code, out = run(path)
    assert code == 1
    assert f"AuditEvent/{ids[1]}: hash does not match" in out
    assert ids[0] not in out and ids[2] not in out  # only the edited link is broken


def test_removed_link_breaks_the_next_one(db: tuple[Path, list[str]]) -> None:
    path, ids = db
    sql(path, "DELETE FROM audit_chain WHERE event_id = ?", ids[1])
    code, out = run(path)
    assert code == 1
    assert f"AuditEvent/{ids[2]}: prev_hash does not match" in out
    assert f"AuditEvent/{ids[1]}: event has no chain link" in out


def test_removed_event_is_reported(db: tuple[Path, list[str]]) -> None:
    path, ids = db
    sql(path, "DELETE FROM resource_version WHERE rtype = 'AuditEvent' AND rid = ?", ids[3])
    code, out = run(path)
    assert code == 1 and f"AuditEvent/{ids[3]}: event missing or deleted" in out


def test_truncated_chain_leaves_unchained_events(db: tuple[Path, list[str]]) -> None:
    path, ids = db
    sql(path, "DELETE FROM audit_chain WHERE event_id = ?", ids[3])
    code, out = run(path)
    assert code == 1 and f"unchained: AuditEvent/{ids[3]}" in out


def test_rewritten_first_link_is_reported(db: tuple[Path, list[str]]) -> None:
    path, ids = db
    sql(path, "UPDATE audit_chain SET prev_hash = ? WHERE event_id = ?", "f" * 64, ids[0])
    code, out = run(path)
    assert code == 1 and f"AuditEvent/{ids[0]}" in out


def test_new_version_of_an_event_is_reported(db: tuple[Path, list[str]]) -> None:
    path, ids = db
    store = Store(make_engine(f"sqlite:///{path}"))
    with store.transaction() as s:
        event = store.read(s, "AuditEvent", ids[2]).resource
        store.update(s, {**event, "outcomeDesc": "nothing to see"})
    code, out = run(path)
    assert code == 1 and f"AuditEvent/{ids[2]}: hash does not match" in out


def test_missing_database_is_an_io_error(tmp_path: Path) -> None:
    code, _ = run(tmp_path / "nowhere.db")
    assert code == 2
    assert not (tmp_path / "nowhere.db").exists()
