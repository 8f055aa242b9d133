"""`knutpunkt convert` (adapter only, nothing stored) and `knutpunkt ingest` (the whole pipeline)."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from hub.cli._app import app
from hub.fhir.errors import FhirError


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        typer.echo(f"knutpunkt: cannot read {path}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc


def _check_adapter(name: str) -> None:
    from adapters import adapter_names

    if name not in adapter_names():
        typer.echo(f"knutpunkt: unknown adapter {name!r} (known: {', '.join(adapter_names())})", err=True)
        raise typer.Exit(2)


@app.command()
def convert(
    file: Path = typer.Argument(..., help="source file"),
    adapter: str = typer.Option(..., "--adapter", help="adapter name, e.g. rivta-alert, hl7v2, fhir"),
) -> None:
    """Translate a source file with an adapter and print the FHIR collection Bundle (nothing is stored)."""
    _check_adapter(adapter)
    from hub.ingest import convert as run

    try:
        bundle = run(adapter, _read(file))
    except FhirError as exc:
        typer.echo(orjson.dumps(exc.outcome(), option=orjson.OPT_INDENT_2).decode())
        raise typer.Exit(1) from exc
    typer.echo(orjson.dumps(bundle, option=orjson.OPT_INDENT_2).decode())


@app.command()
def ingest(
    files: list[Path] = typer.Argument(..., help="source files"),
    adapter: str = typer.Option(..., "--adapter", help="adapter name"),
    jobs: int = typer.Option(0, "--jobs", "-j", help="worker processes that convert and validate (0: one per CPU for 100+ files, else none)"),
    batch: int = typer.Option(200, "--batch", min=1, max=5000, help="documents written per database transaction"),
) -> None:
    """Run the adapter and the whole pipeline (validate, store, route) into the configured store.

    Each document is all-or-nothing on its own; documents are written in order, `--batch` per database
    transaction, so the outcome is that of ingesting them one by one."""
    _check_adapter(adapter)
    import os

    from hub.auth import Claims
    from hub.ingest import Converter, ingest_stream
    from hub.interactions import Caller
    from hub.wiring import build_hub

    for file in files:  # a missing file is found before anything is stored
        if not file.is_file() or not os.access(file, os.R_OK):
            typer.echo(f"knutpunkt: cannot read {file}", err=True)
            raise typer.Exit(2)
    hub = build_hub()
    caller = Caller(Claims(sub="knutpunkt-cli", scopes=("system/*.cruds",), care_giver=None, care_unit=None, purpose_of_use=None))
    workers = jobs if jobs > 0 else ((os.cpu_count() or 1) if len(files) >= 100 else 1)
    failed = 0
    with Converter(adapter, workers) as converter:
        outcomes = ingest_stream(hub, caller, converter, (_read(f) for f in files), batch=batch)
        for i, (file, outcome) in enumerate(zip(files, outcomes, strict=True), 1):
            if isinstance(outcome, FhirError):
                failed += 1
                typer.echo(f"[{i}/{len(files)}] {file}: rejected, nothing stored", err=True)
                typer.echo(orjson.dumps(outcome.outcome(), option=orjson.OPT_INDENT_2).decode())
                continue
            stored = [e["response"].get("location", "") for e in (outcome.body or {}).get("entry", [])]
            typer.echo(f"[{i}/{len(files)}] {file}: stored {len(stored)} resources", err=True)
            for loc in stored:
                if loc:
                    typer.echo(loc)
    if not hub.settings.broker_url:
        hub.worker.drain(timeout=30)
    raise typer.Exit(1 if failed else 0)
