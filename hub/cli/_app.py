"""The Typer application every `knutpunkt` sub-command module registers on."""

import typer

app = typer.Typer(
    name="knutpunkt",
    help="Knutpunkt: FHIR R4 hub for Swedish healthcare (adapters, validation, consent-filtered routing).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
