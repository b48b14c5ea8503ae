"""``csfkg query``: the named query library, and the user's own queries.

Keep heavy imports (rdflib, pyshacl, owlready2, ...) inside the command functions: every module
here is imported on each start of the console script.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .output import (
    EndpointOption,
    GraphOption,
    OutputOption,
    TimeoutOption,
    TodayOption,
    UserOption,
    emit,
)


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
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            metavar="DIR",
            help="Run the query in a store made by `csfkg load` (and derived by `csfkg cohort --store`) instead of over PATIENT_FILES.",
            show_default=False,
        ),
    ] = None,
    endpoint: EndpointOption = None,
    graph: GraphOption = None,
    timeout: TimeoutOption = None,
    user: UserOption = None,
    output: OutputOption = None,
) -> None:
    """Run a named SPARQL query (or your own) over the knowledge graph and the patient files
    given, or in a store (--store DIR) or on a SPARQL endpoint (--endpoint URL [--graph IRI])."""
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

    from csfkg.sparql.named import format_result, run_query

    if store is not None or endpoint is not None:
        from csfkg.stores.opening import open_store

        if store is not None and endpoint is not None:
            raise UsageError("Give --store DIR or --endpoint URL, not both.")
        if files or today is not None:
            raise UsageError(
                "With --store or --endpoint the query runs on what the store holds: give no PATIENT_FILES or --today."
            )
        with open_store(
            store_dir=store, endpoint=endpoint, graph=graph, timeout=timeout, user=user
        ) as target:
            result = run_query(target, named, bindings, user_query=query_file is not None)
        emit(format_result(result, chosen, name=named.name), output)
        return
    from csfkg.stores.opening import check_endpoint_options

    check_endpoint_options(endpoint, graph=graph, timeout=timeout, user=user)
    assessment_date = parse_date_option(today, "--today")

    from csfkg.pipeline.dataset import build_dataset

    dataset = build_dataset(files, today=assessment_date)
    for note in dataset.notes:
        typer.echo(f"csfkg: {note}", err=True)
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
