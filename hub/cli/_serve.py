"""`knutpunkt serve` and `knutpunkt worker`."""

from __future__ import annotations

import typer

from hub.cli._app import app


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8080, help="TCP port"),
    log_level: str = typer.Option("info", help="uvicorn log level"),
) -> None:
    """Run the hub's HTTP API (with the in-process delivery worker when no broker is set)."""
    import uvicorn

    from hub.api import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level=log_level)


@app.command()
def worker(
    concurrency: int = typer.Option(1, help="delivery threads in this process (scale out with more processes: threads of one process share one core)"),
    beat: bool = typer.Option(True, help="also run the sweeper that re-enqueues due deliveries"),
) -> None:
    """Run a Celery delivery worker (needs KNUTPUNKT_BROKER_URL)."""
    from hub.settings import get_settings

    settings = get_settings()
    if not settings.broker_url:
        typer.echo("knutpunkt worker: KNUTPUNKT_BROKER_URL is not set (without a broker, 'serve' delivers in-process)", err=True)
        raise typer.Exit(2)
    from hub.routing.celery_app import run_worker

    run_worker(settings, concurrency=concurrency, beat=beat)
