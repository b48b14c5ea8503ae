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
from csfkg.stores import OxigraphStore, SelectResult, Store
from csfkg.stores.oxigraph_store import refuse_merged_values

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
    dangling: list[str] = field(default_factory=list)
    """Nodes a patient of the part reaches that have no triple in it, as N-Triples terms
    (``queries/cohort-part-dangling.rq``)."""


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
        data = part.read()
        _load_keeping_labels(store, data)
        _refuse_merged_values(store, data, part.path)
    except (SyntaxError, ValueError) as error:
        raise InputError(
            f"{part.path} is not valid N-Triples (in bytes {part.start}-{part.end}): {' '.join(str(error).split())[:200]}."
        ) from None
    refuse_unreached_subjects(store, part.path)
    dangling = store.query(get_query("cohort-part-dangling").text)
    assert isinstance(dangling, SelectResult)
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
    return PartResult(
        rows=run.rows,
        seconds=seconds,
        bytes=part.size,
        graph_file=graph_file,
        dangling=[node.n3() for (node,) in dangling.rows],  # type: ignore[union-attr]
    )


def refuse_unreached_subjects(store: Store, path: Path) -> None:
    """Refuse a part (or, in the SQL engine, a whole file) holding a subject that no patient of
    it reaches through the record properties (``queries/cohort-part-closure.rq``): a record split
    between parts, or triples of no patient's record. Both engines refuse such a file with this
    sentence rather than answer in a way that depends on where the file is cut.

    Raises:
        InputError: naming the first such subject.
    """
    split = store.query(get_query("cohort-part-closure").text)
    assert isinstance(split, SelectResult)
    if split.rows:
        raise InputError(
            f"{path} is not grouped by patient: no patient before it reaches {split.rows[0][0]}, whose triples "
            "belong to another patient's record or to none; sort the file by patient and remove triples of no "
            "patient's record, or run `csfkg load` and `csfkg cohort --store`."
        )


def _load_keeping_labels(store: OxigraphStore, data: bytes) -> None:
    """A part's N-Triples in the store, its blank nodes labelled as the file labels them (Oxigraph's
    loader gives each a random label, so a violation message naming one changed from run to run;
    the SQL engine keeps the file's). A part with no blank node label is bulk-loaded."""
    if b"_:" not in data:
        store.load(data, "nt")
        return
    import pyoxigraph

    store.store.extend(
        pyoxigraph.Quad(t.subject, t.predicate, t.object)
        for t in pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
    )


def _refuse_merged_values(store: OxigraphStore, data: bytes, path: Path) -> None:
    """Refuse a part where Oxigraph kept fewer triples than the part has distinct lines and the
    reason is two lexical forms of one value (:func:`csfkg.stores.oxigraph_store.refuse_merged_values`);
    a line written twice, or with other spacing, is not a reason. Counting costs about 2 ms a
    2 MB part; the part is parsed again only when the counts differ.

    Raises:
        InputError: naming the subject, the property and the two forms.
    """
    import pyoxigraph

    lines = {line.rstrip() for line in data.splitlines() if not line.lstrip().startswith(b"#")}
    lines.discard(b"")
    if len(store.store) >= len(lines):
        return
    from csfkg.io.patient_files import rdflib_reading

    with rdflib_reading():  # each literal as written: rdflib would make "0"^^xsd:boolean "false"
        refuse_merged_values(
            (
                (store.from_ox(t.subject), store.from_ox(t.predicate), store.from_ox(t.object))
                for t in pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
            ),
            str(path),
        )


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
        _refuse_nodes_across_parts(path, parts, results)
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


def _refuse_nodes_across_parts(path: Path, parts: list[FilePart], results: list[PartResult]) -> None:
    """Refuse a file in which a patient of one part reaches a node whose triples lie in another
    part: that part was derived without them, and its rows would depend on where the file was
    cut. A node with no triple anywhere in the file is the same in every cut, and passes.

    Raises:
        InputError: naming the node.
    """
    wanted = {node.encode() for result in results for node in result.dangling}
    if len(parts) < 2 or not wanted:
        return
    with open(path, "rb") as stream:
        for line in stream:
            subject = line.split(b" ", 1)[0]
            if subject in wanted:
                node = subject.decode("utf-8", "replace").strip("<>")
                raise InputError(
                    f"{path} cannot be cut into parts: {node} is reached from patients in two parts of the file "
                    "(or from one part, with its triples in another); run it in one part (a larger --part-mb), "
                    "or run `csfkg load` and `csfkg cohort --store`."
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
