"""`knutpunkt validate`: FHIR JSON/XML/NDJSON files against meta.profile (or --profile) and the base spec.

Output formats and exit codes per docs/contract.md: 0 valid, 1 an error/fatal issue, 2 usage or I/O error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hub.cli._app import app

if TYPE_CHECKING:
    from hub.fhir.errors import Issue
    from hub.validation import Validator

FORMATS = ("json", "text", "ndjson", "summary")


@app.command("validate")
def validate_command(
    files: list[Path] = typer.Argument(..., help="FHIR JSON or XML files, or .ndjson files (one resource a line)"),
    profile: str | None = typer.Option(None, "--profile", help="validate against this profile URL as well"),
    package: list[Path] = typer.Option([], "--package", help="a FHIR NPM package (.tgz) with profiles; repeatable"),
    fmt: str = typer.Option("text", "--format", help="json | text | ndjson | summary"),
) -> None:
    """Validate FHIR resources against their profiles and the base R4 specification."""
    if fmt not in FORMATS:
        _usage(f"--format must be one of {', '.join(FORMATS)}")
    validator = _validator(package, profile)
    code = run(validator, files, profile, fmt, sys.stdout.write)
    raise typer.Exit(code)


def _usage(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def _validator(packages: list[Path], profile: str | None) -> Validator:
    from hub.validation import Validator, default_validator

    validator = default_validator()
    if packages:
        validator = Validator()
        from hub.paths import profiles_dir

        if profiles_dir().is_dir():
            validator.load_directory(profiles_dir())
        for p in packages:
            try:
                validator.load_package(p)
            except (OSError, ValueError) as exc:
                _usage(f"cannot read package {p}: {exc}")
    if profile is not None and validator.compiled(profile) is None:
        _usage(f"unknown profile {profile}")
    return validator


def iter_resources(path: Path) -> Iterator[tuple[str, Any, list[Issue]]]:
    """(source label, resource dict or None, parse issues) for each resource in a file."""
    from hub.validation._syntax import parse, parse_json, sniff_format

    data = path.read_bytes()
    if path.suffix.lower() == ".ndjson":
        for n, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            value, issues = parse_json(line)
            if issues:
                issues = [_at_line(i, n) for i in issues]
            elif not isinstance(value, dict):
                from hub.fhir.errors import Issue

                value, issues = None, [Issue("fatal", "structure", "a line must hold one JSON object", (), n, 1)]
            yield f"{path}:{n}", value, issues
        return
    fmt = "xml" if path.suffix.lower() == ".xml" else ("json" if path.suffix.lower() == ".json" else sniff_format(data))
    value, issues = parse(data, fmt)
    yield str(path), value, issues


def _at_line(issue: Issue, line: int) -> Issue:
    from dataclasses import replace

    return replace(issue, line=line)


def run(validator: Validator, files: list[Path], profile: str | None, fmt: str, write: Any) -> int:
    """Validate every resource in the files and write the report; returns the exit status."""
    import orjson

    from hub.fhir.errors import operation_outcome

    total = invalid = errors = 0
    collected: list[tuple[str, list[Issue]]] = []
    for path in files:
        if not path.is_file():
            typer.echo(f"error: cannot read {path}", err=True)
            return 2
    for path in files:
        try:
            resources = list(iter_resources(path)) if fmt != "summary" else iter_resources(path)
        except OSError as exc:
            typer.echo(f"error: cannot read {path}: {exc}", err=True)
            return 2
        for label, resource, issues in resources:
            if resource is not None:
                issues = issues + validator.validate(resource, profile)
            total += 1
            n_err = sum(1 for i in issues if i.severity in ("error", "fatal"))
            errors += n_err
            invalid += n_err > 0
            if fmt == "ndjson":
                write(orjson.dumps(operation_outcome(issues)).decode() + "\n")
            elif fmt == "text":
                _write_text(write, label, issues)
            elif fmt == "json":
                collected.append((label, issues))
    if fmt == "summary":
        write(f"{total} resources, {invalid} invalid, {errors} errors\n")
    elif fmt == "json":
        write(orjson.dumps(_merged_outcome(collected), option=orjson.OPT_INDENT_2).decode() + "\n")
    return 1 if errors else 0


def _merged_outcome(collected: list[tuple[str, list[Issue]]]) -> dict[str, Any]:
    """One OperationOutcome for everything; with several resources each diagnostics names its source."""
    from dataclasses import replace

    from hub.fhir.errors import operation_outcome

    if len(collected) == 1:
        return operation_outcome(collected[0][1])
    issues = [replace(i, diagnostics=f"{label}: {i.diagnostics}") for label, lst in collected for i in lst]
    return operation_outcome(issues)


def _write_text(write: Any, label: str, issues: list[Issue]) -> None:
    if not issues:
        write(f"{label}: OK\n")
        return
    for i in issues:
        where = ", ".join(i.expression)
        pos = f" (line {i.line}, col {i.column})" if i.line is not None else ""
        write(f"{label}: {i.severity} [{i.code}] {where}{pos}: {i.diagnostics}\n")
