"""``csfkg cohort FILE --engine sql``: a whole N-Triples cohort file in DuckDB
(:mod:`csfkg.engines.sql.store`), validated, derived and read there with the same shapes and queries
as the default engine, translated to SQL (:mod:`csfkg.engines.sql.translate`): the compiled checks
(:mod:`csfkg.engines.sql.validation`), ``update-assessment-date``, the ``derive-*`` queries and
``cohort-rows``. The rows are those :func:`csfkg.cohort.parts.run_cohort_file` gives
(tests/test_cohort_sql.py compares the CSVs).

EXPERIMENTAL (issue 4): the file must be N-Triples a statement a line with single spaces, as
``csfkg synth``, Oxigraph and rdflib write it (another form is refused, naming the line).
"""

from __future__ import annotations

import gc
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from csfkg.cohort.run import CohortRun, LineRows, Progress, Reading, run_cohort
from csfkg.model.errors import CsfkgError, InputError
from csfkg.sparql.library import get_query

if TYPE_CHECKING:
    from csfkg.engines.sql.store import SqlStore

__all__ = ["DEFAULT_MEMORY", "SQL_READING", "run_cohort_sql", "read_rows"]

DEFAULT_MEMORY = "6GB"
"""DuckDB's memory limit for a cohort run: past it, it spills to a temporary folder."""


def run_cohort_sql(
    path: Path,
    *,
    today: date | None = None,
    validate_records: bool = True,
    progress: Progress | None = None,
    threads: int | None = None,
    memory_limit: str = DEFAULT_MEMORY,
    check_first: bool = True,
) -> CohortRun:
    """Validate, derive and read one row per patient of an N-Triples file, in DuckDB: the file
    loaded into a new :class:`~csfkg.engines.sql.store.SqlStore`, then the stages of every run
    (:func:`csfkg.cohort.run.run_cohort`), with validation and rows kept in the store
    (:data:`SQL_READING`).

    With ``check_first`` (the default), the engine first passes the self-check
    (:func:`csfkg.cohort.self_check.self_check`) in a store of its own, while DuckDB loads the
    file.

    Raises:
        InputError: the file is missing or not N-Triples as the loader reads it.
        IdCollision: two terms share an id (nothing is reported from such a store).
        EngineRefused: the engine fails the self-check.
    """
    from importlib.util import find_spec

    if find_spec("duckdb") is None:
        raise CsfkgError("--engine sql needs DuckDB: pip install 'csfkg[sql]' (or duckdb>=1.3).")
    from csfkg.cohort.parts import refuse_unreached_subjects
    from csfkg.engines.sql.loading import load_ntriples
    from csfkg.engines.sql.store import new_connection

    if not path.is_file():
        raise InputError(f"File not found: {path}.")
    with tempfile.TemporaryDirectory(prefix="csfkg-duckdb-") as spill:
        clock = time.perf_counter()
        with new_connection(threads=threads, memory_limit=memory_limit, temp_directory=spill) as store:
            ahead = _Ahead(check_first)
            # the loader's own form only (a statement a line, single spaces): a file in another
            # form is refused naming its line, not parsed again in Python
            try:
                load_ntriples(store, path)
                # the thread parses the queries of the run (one parse at a time: rdflib's
                # parser is not thread-safe), so that they are not parsed twice
                ahead.parsed.wait()
                refuse_unreached_subjects(store, path)  # as the default engine refuses its parts
                loaded = time.perf_counter() - clock
                run = run_cohort(
                    store,
                    today=today,
                    validate_records=validate_records,
                    progress=progress,
                    scratch=True,
                    reading=SQL_READING,
                )
            finally:
                # a DuckDB statement of the thread must not outlive the process's exit; and a
                # run's rows are not returned before the self-check has passed
                ahead.join()
            if ahead.error is not None:
                raise ahead.error
    run.seconds = {"load": loaded, **run.seconds}
    return run


class _Ahead(threading.Thread):
    """Work done beside the run (DuckDB releases Python's lock as it runs a statement): first the
    parse of the queries the run will translate (rdflib's parser is slow, and not thread-safe:
    :attr:`parsed` is set when it is done, and :func:`csfkg.engines.sql.store.algebra_of` keeps what
    is parsed for both threads), then, with ``check_first``, the self-check in a store of its own,
    while DuckDB loads the file and the run validates and derives. An error of the self-check is
    kept for the caller to raise before it returns any row."""

    def __init__(self, check_first: bool) -> None:
        super().__init__(name="csfkg-ahead", daemon=True)
        self.check_first = check_first
        self.parsed = threading.Event()
        self.error: Exception | None = None
        self.start()

    def run(self) -> None:
        try:
            _parse()
        finally:
            self.parsed.set()
        if not self.check_first:
            return
        try:
            _self_check()
        except Exception as error:  # raised by the run, in the main thread
            self.error = error


def _self_check() -> None:
    """The engine's self-check in a small store of its own (one DuckDB thread)."""
    from csfkg.cohort.self_check import self_check
    from csfkg.engines.sql.store import new_connection

    with new_connection(threads=1) as scratch:
        self_check(scratch, "The SQL engine", reading=SQL_READING)


def _parse() -> None:
    """The queries the run will translate, parsed (a query that fails to parse here fails
    again, with its error, where it is used)."""
    from csfkg.engines.sql.store import algebra_of
    from csfkg.sparql.library import derivation_queries
    from csfkg.validation.compiler import compiled_validation_queries, record_owner_steps

    try:
        texts = [c.query for c in compiled_validation_queries()] + [
            *record_owner_steps(),
            *(
                get_query(name).text
                for name in (
                    "cohort-part-closure",
                    "cohort-knowledge-loaded",
                    "cohort-patients",
                    "cohort-rows",
                )
            ),
        ]
        texts += [q.text for q in derivation_queries()]
    except Exception:
        return
    for text in texts:
        try:
            algebra_of(text)
        except Exception:
            pass
    updates = (
        "update-assessment-date",
        "update-keep-recorded-assessment-date",
        "update-restore-assessment-date",
    )
    for text in (*(get_query(name).text for name in updates), get_query("update-clear-derived").text):
        try:
            algebra_of(text, update=True)
        except Exception:
            pass


def _validate(store: SqlStore, progress: Progress | None) -> str:
    """The compiled checks, translated, run in the store: the table of each patient's problems
    (:func:`csfkg.engines.sql.validation.problems_by_patient`)."""
    from csfkg.engines.sql.validation import problems_by_patient

    table = problems_by_patient(store)
    if progress:
        progress("validate", 1, 1)
    return table


def read_rows(store: SqlStore, problems: str | None) -> LineRows:
    """One row per patient, by IRI, kept as its line of the CSV: ``queries/cohort-rows.rq`` in the
    store, each patient with its row of the validation table ``problems``
    (:func:`csfkg.engines.sql.validation.problems_by_patient`; None: not validated). Read with the csv
    module, the lines are the rows :func:`csfkg.cohort.run.write_csv` writes for the default engine
    (tests/engines/test_cohort_sql.py compares the parsed CSVs of both engines)."""
    from csfkg.engines.sql.store import prepared
    from csfkg.engines.sql.translate import col, solution_terms

    relation, names = prepared(store, get_query("cohort-rows").text, True)
    terms, source = solution_terms(relation, names, store.terms)
    values = ", ".join(
        f"{terms[name][0]} AS {col(name)}" for name in ("patient", "nextStep", "companions", "missingData")
    )
    join, reported = "", "CAST(NULL AS VARCHAR) AS problems, FALSE AS blocked"
    if problems is not None:
        join, reported = (
            f"LEFT JOIN {problems} p ON p.patient = s0.{col('patient')}",
            "p.problems, COALESCE(p.blocked, FALSE) AS blocked",
        )
    # a row as cohort_row makes it: a patient with a violation has no next step, companions or
    # missing data; codes in Python's order (DuckDB compares text by its UTF-8 bytes: the order
    # of code points), as are the rows. The codes are split and sorted once for each distinct
    # list of them (a cohort has a few hundred such lists, against one a patient)
    companions, missing = col("companions"), col("missingData")
    step = f"(CASE WHEN blocked THEN '' ELSE COALESCE({col('nextStep')}, '') END)"
    fields = [
        col("patient"),
        step,
        "(CASE WHEN blocked THEN '' ELSE c.words END)",
        "(CASE WHEN blocked THEN '' ELSE m.words END)",
        "COALESCE(problems, '')",
    ]
    line = " || ',' || ".join(_csv_field(field) for field in fields) + " || chr(10)"
    rows = store.execute(
        f"WITH base AS MATERIALIZED (SELECT {values}, {reported} FROM {source} {join}), "
        f"c AS (SELECT codes, {_words('codes')} AS words FROM (SELECT DISTINCT {companions} AS codes FROM base)), "
        f"m AS (SELECT codes, {_words('codes')} AS words FROM (SELECT DISTINCT {missing} AS codes FROM base)) "
        f"SELECT {line}, blocked FROM base LEFT JOIN c ON c.codes IS NOT DISTINCT FROM base.{companions} "
        f"LEFT JOIN m ON m.codes IS NOT DISTINCT FROM base.{missing} ORDER BY {col('patient')}"
    ).fetchall()
    # the rows become two lists with the cyclic garbage collector paused (it would walk
    # the strings again and again, for no cycle)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return LineRows([line for line, _ in rows], [blocked for _, blocked in rows])
    finally:
        if collecting:
            gc.enable()


_SPACE = r"[\s\x0b\x1c-\x1f\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+"
"""What Python's ``str.split()`` splits at."""


def _words(sql: str) -> str:
    """SQL of ``" ".join(sorted(str(value or "").split()))``."""
    return f"array_to_string(list_sort(list_filter(regexp_split_to_array(COALESCE({sql}, ''), '{_SPACE}'), lambda w: w <> '')), ' ')"


def _csv_field(sql: str) -> str:
    """SQL of a CSV field (RFC 4180): quoted, its quotes doubled, when it holds a comma, a quote,
    a line feed or a carriage return. The lines are made in SQL rather than by the csv module
    so that each row reaches Python as one string."""
    test = " OR ".join(f"strpos({sql}, chr({ord(c)})) > 0" for c in ',"\n\r')
    return f"(CASE WHEN {test} THEN '\"' || replace({sql}, '\"', '\"\"') || '\"' ELSE {sql} END)"


SQL_READING = Reading(
    validate=_validate,  # type: ignore[arg-type] - a SqlStore's stages
    rows=read_rows,  # type: ignore[arg-type]
    readers=("cohort-rows",),
)
"""The SQL engine's validation and rows: the compiled checks and ``cohort-rows`` translated, the
results kept in DuckDB and each row made there as its CSV line (an object for each of a million
results and rows costs more than the run's derivation). Only what ``cohort-rows`` and the
derivation read is derived (:meth:`~csfkg.engines.sql.store.SqlStore.keep_for_readers`)."""
