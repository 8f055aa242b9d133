"""`knutpunkt bench`: the benchmark suite. Prints `name: value unit`, with ratios against baselines
measured in the same run (never compared with numbers from another machine or run)."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

import typer

from hub.cli._app import app

Figure = tuple[str, float, str]

# Modules with `run_bench(quick: bool) -> list[Figure]`, each owned by its package.
SUITES = [
    "hub.bench.pipeline",
    "hub.bench.read_filter",
    "hub.bench.delivery",
    "hub.validation._bench",
    "hub.terminology._bench",
    "hub.consent._bench",
]


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}".replace(",", "")
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


@app.command()
def bench(
    quick: bool = typer.Option(False, "--quick", help="smaller workloads (seconds, not minutes)"),
    only: list[str] = typer.Option([], "--only", help="run only suites whose module name contains this"),
) -> None:
    """Run the benchmark suite; one `name: value unit` line per figure."""
    failed = 0
    for name in SUITES:
        if only and not any(o in name for o in only):
            continue
        try:
            mod = importlib.import_module(name)
            run: Callable[[bool], list[Figure]] = mod.run_bench
        except (ImportError, AttributeError) as exc:
            typer.echo(f"# {name}: not available ({exc})", err=True)
            failed += 1
            continue
        t0 = time.monotonic()
        try:
            figures = run(quick)
        except Exception as exc:  # one broken suite must not hide the others
            typer.echo(f"# {name}: failed: {type(exc).__name__}: {exc}", err=True)
            failed += 1
            continue
        for fname, value, unit in figures:
            typer.echo(f"{fname}: {_fmt(value)} {unit}")
        typer.echo(f"# {name}: {time.monotonic() - t0:.1f}s", err=True)
    raise typer.Exit(1 if failed else 0)
