"""``csfkg query``: the named query library, and the user's own queries.

Keep heavy imports (rdflib, pyshacl, owlready2, ...) inside the command functions: every module
here is imported on each start of the console script.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .output import OutputOption, TodayOption, emit


class QueryFormat(str, Enum):
    text = "text"
    csv = "csv"
    json = "json"
    ttl = "ttl"


def query(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME", help="A named query (see --list). With --file, omit it.", show_default=False
        ),
    ] = None,
    patient_files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATIENT_FILES",
            help="Patient files whose records, and what is derived for them, join the knowledge graph.",
            show_default=False,
        ),
    ] = None,
    list_queries: Annotated[
        bool,
        typer.Option(
            "--list",
            help="List the named queries with their one-line summaries (the derive-* and *-violation queries run inside the program and are left out).",
        ),
    ] = False,
    query_file: Annotated[
        Path | None,
        typer.Option(
            "--file", metavar="QUERY.rq", help="Run your own SPARQL 1.1 query file instead of a named query."
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="NAME=VALUE",
            help='Bind a query variable: <iri>, https://..., a prefixed name (csf:, csfg:, csfr:, ex:), "text", "2026-01-29"^^xsd:date, or a plain string or number.',
        ),
    ] = None,
    today: TodayOption = None,
    output_format: Annotated[
        QueryFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format: text (a table), csv, json (the SPARQL 1.1 results format) or ttl; CONSTRUCT and DESCRIBE results are always Turtle. Default: from the --output extension, else text.",
            show_default=False,
        ),
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Let a --file query use SERVICE, LOAD or FROM with a remote IRI (it then reaches the network).",
        ),
    ] = False,
    output: OutputOption = None,
) -> None:
    """Run a named SPARQL query (or your own) over the knowledge graph and the patient files given."""
    from csfkg.io.flags import parse_date_option
    from csfkg.io.formats import output_format as choose_format
    from csfkg.model.errors import UsageError
    from csfkg.sparql.library import get_query
    from csfkg.sparql.named import (
        OUTPUT_FORMATS,
        bind_parameters,
        check_output_format,
        read_query_file,
        user_queries,
    )

    chosen = choose_format(
        output_format.value if output_format else None, output, allowed=OUTPUT_FORMATS, default="text"
    )

    if list_queries:
        if name is not None or query_file is not None or param:
            raise UsageError("--list takes no query name, --file or --param.")
        entries = user_queries()
        width = max(len(q.name) for q in entries)
        emit("".join(f"{q.name.ljust(width)}  {q.summary}\n" for q in entries), output)
        return
    files = list(patient_files or [])
    if query_file is not None:
        if name is not None:
            files.insert(0, Path(name))
        named = read_query_file(query_file, allow_remote=allow_remote)
    elif name is None:
        raise UsageError("Give a query NAME (see `csfkg query --list`) or --file QUERY.rq.")
    else:
        named = get_query(name)
    bindings = bind_parameters(named, param or [])
    check_output_format(named, chosen)
    assessment_date = parse_date_option(today, "--today")

    from csfkg.pipeline.dataset import build_dataset
    from csfkg.sparql.named import format_result, run_query

    dataset = build_dataset(files, today=assessment_date)
    result = run_query(dataset.store, named, bindings, user_query=query_file is not None)
    emit(format_result(result, chosen, name=named.name), output)
    if dataset.non_conforming:
        shown = ", ".join(f"<{p}>" for p in dataset.non_conforming)
        typer.echo(
            f"csfkg: the data of {shown} does not conform to the shapes, so nothing was derived for "
            "it; `csfkg recommend FILE` shows why.",
            err=True,
        )
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.command(name="query")(query)
