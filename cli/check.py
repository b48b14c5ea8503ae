"""``csfkg check``: the ontology quality checks (``queries/*-violation.rq``), as ROBOT report runs them."""

from __future__ import annotations

from typing import Annotated

import typer


def check(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Checks to run (default: all), with or without -violation.", show_default=False),
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="SPARQL engine: oxigraph (fast) or rdflib (the reference).")
    ] = "oxigraph",
    list_checks: Annotated[bool, typer.Option("--list", help="List the checks and stop.")] = False,
) -> None:
    """Run the ontology quality checks; exit 1 when any returns a row."""
    from csfkg.curation.quality import check_names, run_checks

    if list_checks:
        for name in check_names():
            typer.echo(name)
        return
    report = run_checks(checks=names or None, engine=engine)  # type: ignore[arg-type]
    for violation in report.violations:
        typer.echo(
            f"{violation.check}\t{violation.entity or ''}\t{violation.property or ''}\t{violation.value or ''}"
        )
    typer.echo(f"{len(report.checks)} checks, {len(report.violations)} violations")
    if not report.passed:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``csfkg check`` to the application."""
    app.command(name="check")(check)
