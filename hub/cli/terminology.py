"""`knutpunkt terminology …`: terminology maintenance commands.

`import-rf2 DIR [--target OUT] [--fragment]` turns a SNOMED CT RF2 snapshot into
`OUT/CodeSystem-snomed-rf2.json` (OUT defaults to `./snomed-rf2`). The terminology service loads
`./snomed-rf2` automatically when it exists; elsewhere, name the folder in `KNUTPUNKT_TERMINOLOGY_EXTRA`
(several paths joined by `os.pathsep`; folders, `.tgz` packages or JSON files).
"""

from __future__ import annotations

from pathlib import Path

import typer

from hub.cli._app import app
from hub.terminology._local import DEFAULT_RF2_DIR
from hub.terminology._rf2 import import_rf2

terminology_app = typer.Typer(help="Terminology data: SNOMED CT RF2 import.", no_args_is_help=True)
app.add_typer(terminology_app, name="terminology")


@terminology_app.command("import-rf2")
def import_rf2_command(
    directory: Path = typer.Argument(..., help="Folder holding the RF2 snapshot (searched recursively)."),
    target: Path = typer.Option(Path(DEFAULT_RF2_DIR), "--target", "-o", help="Output folder."),
    fragment: bool = typer.Option(False, "--fragment", help="Mark the result as a fragment, not the complete edition."),
) -> None:
    """Import a SNOMED CT RF2 snapshot (concepts, sv/en descriptions, is-a) as a FHIR CodeSystem."""
    if not directory.is_dir():
        typer.echo(f"error: {directory} is not a folder", err=True)
        raise typer.Exit(2)
    try:
        summary = import_rf2(directory, target, fragment=fragment)
    except KeyError as e:  # a file without the RF2 columns: the input is invalid
        typer.echo(f"error: RF2 file lacks column {e}", err=True)
        raise typer.Exit(1) from e
    except OSError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    typer.echo(
        f"{summary.concepts} concepts, {summary.descriptions} descriptions "
        f"({', '.join(sorted(summary.languages))}), {summary.relationships} is-a relationships -> {summary.path}"
    )
