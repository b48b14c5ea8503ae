"""Cohort commands: ``csfkg synth`` (synthetic cohorts), ``csfkg load`` (into a persistent
store) and ``csfkg cohort`` (validate + derive every patient, one CSV row each)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .output import (
    EndpointOption,
    GraphOption,
    GraphStoreUrlOption,
    OldOutOption,
    TimeoutOption,
    TodayOption,
    UpdateUrlOption,
    UserOption,
    chosen_output,
)


def synth(
    patients: Annotated[int, typer.Option("--patients", min=1, help="Number of patients.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Output file, written atomically: .nt (N-Triples, fast) or .ttl (Turtle, small cohorts).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same file.")] = 1,
    old_out: OldOutOption = None,
) -> None:
    """Write a deterministic synthetic cohort that reaches every branch of the algorithm."""
    from csfkg.cohort.synth import write_cohort_file
    from csfkg.io.formats import output_format as choose_format
    from csfkg.model.errors import UsageError

    out = chosen_output(output, old_out)
    if out is None:
        raise UsageError("Give the cohort file to write with -o/--output FILE (.nt or .ttl).")
    choose_format(None, out, allowed=("nt", "ttl"), default="ttl")
    triples = write_cohort_file(out, patients=patients, seed=seed)
    typer.echo(f"{patients} patients, {triples} triples -> {out}", err=True)


def load(
    files: Annotated[list[Path], typer.Argument(help="Patient files (N-Triples, Turtle, RDF/XML, JSON-LD).")],
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Folder of the persistent store (created if missing)."),
    ] = None,
    endpoint: EndpointOption = None,
    update_url: UpdateUrlOption = None,
    graph_store_url: GraphStoreUrlOption = None,
    graph: GraphOption = None,
    timeout: TimeoutOption = None,
    user: UserOption = None,
) -> None:
    """Load ontology, guideline knowledge and patients into a persistent embedded store (--store),
    all or nothing: killed or failing half-way, the store keeps its previous content. Or upload
    them to a SPARQL endpoint (--endpoint, into --graph), each file all or nothing."""
    from csfkg.cohort.run import add_knowledge
    from csfkg.model.errors import UsageError
    from csfkg.stores.loading import load_files, load_store_folder
    from csfkg.stores.opening import open_store

    if (store is None) == (endpoint is None):
        raise UsageError("Give where to load: --store DIR or --endpoint URL.")
    if store is not None:
        from csfkg.stores.opening import check_endpoint_options

        check_endpoint_options(
            endpoint,
            update_url=update_url,
            graph_store_url=graph_store_url,
            graph=graph,
            timeout=timeout,
            user=user,
        )
        loaded = load_store_folder(store, files, prepare=add_knowledge)
        typer.echo(f"{loaded.added} triples loaded into {store} ({loaded.total} in all)", err=True)
        return
    with open_store(
        endpoint=endpoint,
        update_url=update_url,
        graph_store_url=graph_store_url,
        graph=graph,
        timeout=timeout,
        user=user,
    ) as target:
        add_knowledge(target)
        added = load_files(target, files)
        total = len(target)
    typer.echo(
        f"{added} triples loaded into {graph or 'the default graph'} of {endpoint} ({total} in all)", err=True
    )


def cohort(
    patient_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FILE]",
            help="Patient file (RDF, a FHIR R4 Bundle .json or NDJSON of Bundles .ndjson); or use --store or --endpoint.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="CSV output, one row per patient (written atomically); default: results.csv.",
            show_default=False,
        ),
    ] = None,
    old_out: OldOutOption = None,
    store: Annotated[Path | None, typer.Option("--store", help="A store made by `csfkg load`.")] = None,
    endpoint: EndpointOption = None,
    update_url: UpdateUrlOption = None,
    graph_store_url: GraphStoreUrlOption = None,
    graph: GraphOption = None,
    timeout: TimeoutOption = None,
    user: UserOption = None,
    today: TodayOption = None,
    graph_out: Annotated[
        Path | None, typer.Option("--graph-out", help="Also write the derived result graph (N-Triples).")
    ] = None,
    no_validate: Annotated[
        bool, typer.Option("--no-validate", help="Skip SHACL validation (faster; patients are not checked).")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Processes for an N-Triples FILE (default: one per core)."),
    ] = None,
    part_mb: Annotated[
        float | None,
        typer.Option(
            "--part-mb",
            min=0.001,
            help="Size of the parts an N-Triples FILE is cut into, in MB (default 2).",
            show_default=False,
        ),
    ] = None,
    skip_self_check: Annotated[
        bool,
        typer.Option(
            "--skip-self-check",
            help="With --engine sql or --endpoint: run without the self-check (the vignettes through that engine first, in a store or graph of their own; a wrong next step stops the run). Unsafe.",
        ),
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="For an N-Triples FILE: oxigraph (parts on every core) or sql (experimental: the whole file in DuckDB, the same shapes and queries translated to SQL).",
        ),
    ] = "oxigraph",
) -> None:
    """Validate and derive the next step of every patient; one CSV row each (IRI, next step,
    companions, missing data, violations). Exit 1 when a patient's record violates a shape."""
    from csfkg.cohort.run import load_input, open_store, run_cohort, write_csv
    from csfkg.io.flags import parse_date_option
    from csfkg.io.formats import check_output_extension
    from csfkg.model.errors import UsageError
    from csfkg.stores.opening import check_endpoint_options

    out = chosen_output(output, old_out) or Path("results.csv")
    check_output_extension(out, "csv")

    sources = [s for s in (patient_file, store, endpoint) if s is not None]
    if len(sources) != 1 and not (endpoint and patient_file):
        raise UsageError(
            "Give one source: a patient FILE, --store DIR or --endpoint URL (FILE with --endpoint uploads it first)."
        )
    check_endpoint_options(
        endpoint,
        update_url=update_url,
        graph_store_url=graph_store_url,
        graph=graph,
        timeout=timeout,
        user=user,
    )
    if engine not in ("oxigraph", "sql"):
        raise UsageError(f"--engine is oxigraph or sql, not {engine!r}.")
    if engine == "sql" and (
        patient_file is None
        or endpoint is not None
        or graph_out is not None
        or workers is not None
        or part_mb is not None
    ):
        raise UsageError(
            "--engine sql takes a patient FILE (N-Triples) and none of --endpoint, --graph-out, --workers, --part-mb."
        )
    assessment = parse_date_option(today, "--today")
    show = sys.stderr.isatty()

    def progress(stage: str, done: int, total: int) -> None:
        if show:
            width = 30
            filled = int(width * done / max(total, 1))
            sys.stderr.write(f"\r{stage:9s} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    from csfkg.cohort.file_parts import can_split

    if skip_self_check and (engine == "sql" or endpoint is not None):
        typer.echo(
            "WARNING: --skip-self-check: this engine's answers are not checked against the vignettes first.",
            err=True,
        )

    if engine == "sql":
        from csfkg.cohort.sql_engine import run_cohort_sql

        assert patient_file is not None
        run = run_cohort_sql(
            patient_file,
            today=assessment,
            validate_records=not no_validate,
            progress=progress,
            check_first=not skip_self_check,
        )
        write_csv(run, out)
    elif patient_file is not None and endpoint is None and can_split(patient_file):
        # N-Triples: cut into parts of whole records, each validated and derived in its own
        # in-memory store, on every core (linear in the cohort, memory bounded by the part size)
        from csfkg.cohort.parts import DEFAULT_PART_BYTES, run_cohort_file

        run = run_cohort_file(
            patient_file,
            today=assessment,
            validate_records=not no_validate,
            workers=workers,
            part_bytes=DEFAULT_PART_BYTES if part_mb is None else max(1, int(part_mb * 1024 * 1024)),
            graph_out=graph_out,
            progress=progress,
        )
        write_csv(run, out)
    else:
        with open_store(
            store_dir=store,
            endpoint=endpoint,
            update_url=update_url,
            graph_store_url=graph_store_url,
            graph=graph,
            timeout=timeout,
            user=user,
        ) as target:
            if endpoint is not None and not skip_self_check:
                from csfkg.cohort.self_check import self_check_in_scratch_graph

                self_check_in_scratch_graph(
                    lambda scratch: open_store(
                        endpoint=endpoint,
                        update_url=update_url,
                        graph_store_url=graph_store_url,
                        graph=scratch,
                        timeout=timeout,
                        user=user,
                    ),
                    f"The SPARQL endpoint {endpoint}",
                )
            if patient_file is not None:
                note = load_input(target, patient_file)
                if note:
                    typer.echo(f"csfkg: {note}", err=True)
            run = run_cohort(target, today=assessment, validate_records=not no_validate, progress=progress)
            write_csv(run, out)
            if graph_out is not None:
                from csfkg.cohort.run import write_result_graph

                write_result_graph(target, graph_out)
    blocked = run.blocked
    typer.echo(f"{len(run.rows)} patients -> {out}; {blocked} with violations", err=True)
    if blocked:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add the cohort commands to the application."""
    app.command(name="synth")(synth)
    app.command(name="load")(load)
    app.command(name="cohort")(cohort)
