"""A cohort file processed part by part, on every core: each part of an N-Triples file
(:mod:`csfkg.cohort.file_parts`) is loaded into its own in-memory Oxigraph store with the knowledge
graph, checked to hold whole records, then validated and derived exactly as a single store is
(:func:`csfkg.cohort.run.run_cohort`: the same shapes and the same queries). Cost grows linearly with
the cohort and memory is bounded by the part size, whatever the cohort size.

Rows come back in IRI order, as the single-store run gives them, so the CSV does not depend on
the number of parts or workers.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from csfkg.cohort.file_parts import FilePart, split_file
from csfkg.cohort.run import CohortRow, CohortRun, Progress, run_cohort
from csfkg.model.errors import InputError
from csfkg.model.knowledge import knowledge_ntriples, rules_graph, shapes_graph
from csfkg.sparql.library import derivation_queries, get_query
from csfkg.stores import OxigraphStore, SelectResult

DEFAULT_PART_BYTES = 2 * 1024 * 1024
"""About 425 synthetic patients (some 14,000 triples before derivation) per part. Small parts are
faster per patient: a small store stays in the processor's caches; much below 1 MB the knowledge
graph each part loads and the queries each part parses start to count (the measurements by part
size are in bench/README.md)."""


@dataclass
class PartResult:
    rows: list[CohortRow]
    seconds: dict[str, float]
    bytes: int
    graph_file: str | None = None


@dataclass
class _Job:
    part: FilePart
    index: int
    today: date | None
    validate: bool
    graph_dir: str | None


def run_part(job: _Job) -> PartResult:
    """Load, check, validate and derive one part in a new in-memory store.

    Raises:
        InputError: the part is not valid N-Triples, or a record is split across parts.
    """
    clock = time.perf_counter()
    store = OxigraphStore()
    part = job.part
    try:
        store.load(part.read(), "nt")
    except (SyntaxError, ValueError) as error:
        raise InputError(
            f"{part.path} is not valid N-Triples (in bytes {part.start}-{part.end}): {' '.join(str(error).split())[:200]}."
        ) from None
    split = store.query(get_query("cohort-part-closure").text)
    assert isinstance(split, SelectResult)
    if split.rows:
        raise InputError(
            f"{part.path} is not grouped by patient: the triples of {split.rows[0][0]} come after another patient's record, "
            "so the file cannot be cut into parts; sort it by patient, or run `csfkg load` and `csfkg cohort --store`."
        )
    load_seconds = time.perf_counter() - clock
    run = run_cohort(store, today=job.today, validate_records=job.validate, scratch=True)
    seconds = {"load": load_seconds, **run.seconds}
    graph_file = None
    if job.graph_dir is not None:
        from csfkg.cohort.run import write_result_graph

        clock = time.perf_counter()
        graph_file = os.path.join(job.graph_dir, f"part-{job.index:06d}.nt")
        write_result_graph(store, Path(graph_file))
        seconds["graph"] = time.perf_counter() - clock
    return PartResult(rows=run.rows, seconds=seconds, bytes=part.size, graph_file=graph_file)


def warm() -> None:
    """Parse and compile what every part needs (knowledge, shapes, compiled checks, queries) once
    in this process: before workers fork, so that they share it."""
    from csfkg.validation.compiler import compiled_validation_queries, record_owner_query

    knowledge_ntriples()
    rules_graph()
    shapes_graph()
    derivation_queries()
    compiled_validation_queries()
    record_owner_query()


@dataclass
class PartsRun(CohortRun):
    parts: int = 0
    workers: int = 1
    core_seconds: dict[str, float] = field(default_factory=dict)


def run_cohort_file(
    path: Path,
    *,
    today: date | None = None,
    validate_records: bool = True,
    workers: int | None = None,
    part_bytes: int = DEFAULT_PART_BYTES,
    graph_out: Path | None = None,
    progress: Progress | None = None,
) -> PartsRun:
    """Validate and derive every patient of an N-Triples file, part by part on ``workers``
    processes (default: one per core). With ``graph_out``, the derived result graph of every part
    is written there (N-Triples, atomically).

    Raises:
        InputError: the file is missing, not N-Triples, not grouped by patient, or names a
            patient in two parts.
    """
    if not path.is_file():
        raise InputError(f"File not found: {path}.")
    clock = time.perf_counter()
    parts = split_file(path, part_bytes)
    workers = max(1, min(workers or os.cpu_count() or 1, len(parts)))
    warm()
    graph_dir = (
        tempfile.mkdtemp(prefix=".csfkg-graph-", dir=graph_out.resolve().parent) if graph_out else None
    )
    jobs = [_Job(part, i, today, validate_records, graph_dir) for i, part in enumerate(parts)]
    results: list[PartResult] = []
    total = sum(p.size for p in parts)
    done = 0
    try:
        if workers == 1:
            for job in jobs:
                results.append(run_part(job))
                done += job.part.size
                if progress:
                    progress("cohort", done, total)
        else:
            context = multiprocessing.get_context(
                "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            )
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures: list[Future[PartResult]] = [pool.submit(run_part, job) for job in jobs]
                try:
                    for future in futures:
                        results.append(future.result())
                        done += results[-1].bytes
                        if progress:
                            progress("cohort", done, total)
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
        rows = _merge(path, results)
        if graph_out is not None and graph_dir is not None:
            _concatenate([r.graph_file for r in results if r.graph_file], graph_out)
    finally:
        if graph_dir is not None:
            shutil.rmtree(graph_dir, ignore_errors=True)
    core: dict[str, float] = {}
    for result in results:
        for stage, value in result.seconds.items():
            core[stage] = core.get(stage, 0.0) + value
    return PartsRun(
        rows=rows,
        seconds={"total": time.perf_counter() - clock},
        parts=len(parts),
        workers=workers,
        core_seconds=core,
    )


def _merge(path: Path, results: list[PartResult]) -> list[CohortRow]:
    rows = [row for result in results for row in result.rows]
    rows.sort(key=lambda row: row.patient)
    for before, after in zip(rows, rows[1:], strict=False):
        if before.patient == after.patient:
            raise InputError(
                f"{path} is not grouped by patient: {before.patient} is typed csf:Patient in two places; sort it by patient, or run `csfkg load` and `csfkg cohort --store`."
            )
    return rows


def _concatenate(files: list[str], target: Path) -> None:
    from csfkg.io.output import atomic_stream

    with atomic_stream(target) as stream:
        for name in files:
            with open(name, encoding="utf-8") as part:
                shutil.copyfileobj(part, stream, 1 << 20)
