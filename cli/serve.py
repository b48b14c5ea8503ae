"""``csfkg serve``: the CDS Hooks service (``csfkg.service``), served by uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from .output import TodayOption


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8080,
    today: TodayOption = None,
) -> None:
    """Serve the CDS Hooks service (order-select, order-sign) until interrupted; discovery at /cds-services."""
    import socket

    import uvicorn

    from csfkg.io.flags import parse_date_option
    from csfkg.model.errors import UsageError
    from csfkg.service.app import create_app

    assessment_date = parse_date_option(today, "--today")
    try:  # one clear sentence for an address in use, before uvicorn would exit on it
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        raise UsageError(f"Cannot listen on {host}:{port} ({error.strerror or error}).") from None
    typer.echo(f"csfkg: CDS Hooks discovery at http://{host}:{port}/cds-services (Ctrl+C stops).", err=True)
    uvicorn.run(create_app(today=assessment_date), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add ``csfkg serve`` to the application."""
    app.command(name="serve")(serve)
