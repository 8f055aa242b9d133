"""`knutpunkt token`: a bearer token signed with the hub's own key."""

from __future__ import annotations

import typer

from hub.cli._app import app


@app.command()
def token(
    sub: str = typer.Option(..., "--sub", help="client id"),
    care_giver: str | None = typer.Option(None, "--care-giver", help="HSA-id of the requesting care giver"),
    care_unit: str | None = typer.Option(None, "--care-unit", help="HSA-id of the requesting care unit"),
    purpose: str | None = typer.Option(None, "--purpose", help="PurposeOfUse: TREAT, ETREAT, HQUALIMP"),
    scope: str = typer.Option("system/*.cruds", "--scope", help="SMART v2 scopes, space separated"),
    lifetime: int = typer.Option(3600, "--lifetime", help="seconds"),
) -> None:
    """Print a bearer token (the embedded default issuer)."""
    from hub.auth import TokenService
    from hub.settings import get_settings

    s = get_settings()
    svc = TokenService(s.key_file, s.token_issuer, s.token_lifetime_s)
    typer.echo(svc.issue(sub, scope, care_giver, care_unit, purpose, lifetime))
