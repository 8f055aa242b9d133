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
) -> None:
    """Run the adapter and the whole pipeline (validate, store, route) into the configured store."""
    _check_adapter(adapter)
    from hub.auth import Claims
    from hub.ingest import ingest as run
    from hub.interactions import Caller
    from hub.wiring import build_hub

    hub = build_hub()
    caller = Caller(Claims(sub="knutpunkt-cli", scopes=("system/*.cruds",), care_giver=None, care_unit=None, purpose_of_use=None))
    failed = 0
    for i, file in enumerate(files, 1):
        try:
            result = run(hub, caller, adapter, _read(file))
        except FhirError as exc:
            failed += 1
            typer.echo(f"[{i}/{len(files)}] {file}: rejected, nothing stored", err=True)
            typer.echo(orjson.dumps(exc.outcome(), option=orjson.OPT_INDENT_2).decode())
            continue
        stored = [e["response"].get("location", "") for e in (result.body or {}).get("entry", [])]
        typer.echo(f"[{i}/{len(files)}] {file}: stored {len(stored)} resources", err=True)
        for loc in stored:
            typer.echo(loc)
    if not hub.settings.broker_url:
        hub.worker.drain(timeout=30)
    raise typer.Exit(1 if failed else 0)
