"""`knutpunkt audit verify`: check the AuditEvent hash chain in the configured database.

Exit 0 when every link holds, 1 when any is broken (each listed), 2 when the database cannot be read
(contract.md: Command line). Chain rules: `hub.audit.verify_chain`; the first link starts at the genesis hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import typer
from sqlalchemy import select
from sqlalchemy.engine import Engine

from hub.audit import GENESIS_HASH, verify_chain
from hub.cli._app import app
from hub.store import AuditLink, ResourceVersion, make_engine

audit_app = typer.Typer(help="Audit trail tools (AuditEvent hash chain).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@dataclass(frozen=True)
class Broken:
    """One broken link: its chain position, the AuditEvent it covers and why it fails."""

    seq: int | None
    event_id: str
    reason: str


def check_chain(engine: Engine) -> tuple[int, list[Broken]]:
    """(number of links, broken links) for the chain stored in `engine`'s database.

    A link breaks when its event is missing, deleted or changed, when its prev_hash is not the previous
    link's hash (the first must be the genesis hash), and an AuditEvent without any link is reported too.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one snapshot for links and events while the hub appends
            conn.execution_options(isolation_level="REPEATABLE READ")
        links = conn.execute(select(AuditLink.seq, AuditLink.event_id, AuditLink.prev_hash, AuditLink.hash).order_by(AuditLink.seq)).all()
        rows = conn.execute(
            select(ResourceVersion.rid, ResourceVersion.content, ResourceVersion.deleted)
            .where(ResourceVersion.rtype == "AuditEvent", ResourceVersion.current.is_(True))
        ).all()
    events: dict[str, dict[str, Any] | None] = {}
    for rid, content, deleted in rows:
        events[rid] = None if deleted else _load(content)
    broken: list[Broken] = []
    triples: list[tuple[dict[str, Any], str, str]] = []
    for _seq, event_id, prev_hash, hash_ in links:
        event = events.get(event_id)
        triples.append((event if event is not None else {"missing": event_id}, prev_hash, hash_))
    bad = set(verify_chain(triples))
    if links and links[0][2] != GENESIS_HASH:
        bad.add(0)
    for index, (seq, event_id, prev_hash, _) in enumerate(links):
        if index not in bad:
            continue
        if events.get(event_id) is None:
            reason = "event missing or deleted"
        elif index > 0 and prev_hash != links[index - 1][3]:
            reason = "prev_hash does not match the previous link"
        elif index == 0 and prev_hash != GENESIS_HASH:
            reason = "first link does not start at the genesis hash"
        else:
            reason = "hash does not match the event"
        broken.append(Broken(seq, event_id, reason))
    chained = {event_id for _, event_id, _, _ in links}
    broken += [Broken(None, rid, "event has no chain link") for rid in sorted(set(events) - chained)]
    return len(links), broken


def _load(content: str) -> dict[str, Any] | None:
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return {"unreadable": content}
    return value if isinstance(value, dict) else {"unreadable": content}


@audit_app.command("verify")
def verify(
    database_url: str = typer.Option(None, "--database-url", help="database to check (default: KNUTPUNKT_DATABASE_URL)"),
) -> None:
    """Check the AuditEvent hash chain; exit 1 and list the broken links when it does not hold."""
    from hub.settings import Settings

    url = database_url or Settings().database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        typer.echo(f"knutpunkt audit verify: no database at {url}", err=True)
        raise typer.Exit(2)
    try:
        engine = make_engine(url)
        total, broken = check_chain(engine)
    except Exception as exc:  # the database cannot be read: usage / I-O error
        typer.echo(f"knutpunkt audit verify: cannot read {url}: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not broken:
        typer.echo(f"audit chain OK: {total} links")
        raise typer.Exit(0)
    typer.echo(f"audit chain BROKEN: {len(broken)} problem(s) in {total} links")
    for b in broken:
        where = f"seq {b.seq}" if b.seq is not None else "unchained"
        typer.echo(f"  {where}: AuditEvent/{b.event_id}: {b.reason}")
    raise typer.Exit(1)
