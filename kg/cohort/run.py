"""Cohorts: load many patients into a store (embedded Oxigraph, persistent or in memory, or any
SPARQL 1.1 endpoint), validate every patient, derive next step and companions for all of them
in the store, and read one row per patient.

Validation runs the shapes compiled to set-at-a-time SPARQL in embedded Oxigraph
(:mod:`csfkg.validation.compiled`) and pySHACL per batch of patient records pulled from an endpoint;
patients that violate a shape are reported with their violations and no next step, never
dropped. Derivation runs the ``derive-*`` queries as
SPARQL Updates (``INSERT`` with the same template) inside the store, so no triple leaves it.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rdflib import URIRef

from csfkg.model.knowledge import knowledge_ntriples
from csfkg.model.ordering import natural_key
from csfkg.pipeline.dates import keep_recorded_dates, restore_recorded_dates, set_assessment_dates
from csfkg.pipeline.derive import RESULT_GRAPH_QUERY, Progress, derive_in
from csfkg.sparql.library import get_query
from csfkg.stores import SelectResult, Store
from csfkg.stores.opening import open_store
from csfkg.validation.in_store import validate_store
from csfkg.validation.report import ValidationResult

__all__ = [
    "CohortRow",
    "CohortRun",
    "PROTOCOL_READING",
    "Reading",
    "add_knowledge",
    "open_store",
    "run_cohort",
    "set_assessment_dates",
    "write_csv",
]


@dataclass
class CohortRow:
    patient: str
    next_step: str
    companions: list[str] = field(default_factory=list)
    missing_data: list[str] = field(default_factory=list)
    violations: list[ValidationResult] = field(default_factory=list)
    reported: tuple[str, bool] | None = None
    """Where the results are not kept one by one (``--engine sql``, :mod:`csfkg.engines.sql.validation`):
    the violations column as :func:`write_csv` writes it, and whether one of them is a
    violation; :attr:`violations` is then empty."""

    @property
    def problems(self) -> str:
        """The violations column: ``severity: name: message`` of each result, joined by ``; ``."""
        if self.reported is not None:
            return self.reported[0]
        return "; ".join(f"{v.severity}: {v.name}: {v.message}" for v in self.violations)

    @property
    def blocked(self) -> bool:
        """Whether a result is a violation (the row then has no next step)."""
        if self.reported is not None:
            return self.reported[1]
        return any(v.is_violation for v in self.violations)


class LineRows(Sequence[CohortRow]):
    """Rows kept as the CSV lines an engine wrote (``--engine sql``:
    :func:`csfkg.cohort.sql_engine.read_rows`), each with whether it has a violation, and made
    :class:`CohortRow` objects only where one is read: a large cohort's CSV is written from its
    lines without an object for every row.

    A row read back from its line (by the csv module) is the row :func:`cohort_row` makes: the
    line holds the next step, the codes sorted and joined by a space (and none for a blocked row)
    and the violations column (tests/engines/test_cohort_sql.py)."""

    def __init__(self, lines: list[str], blocked: list[bool]) -> None:
        self.lines = lines
        self._blocked = blocked

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        patient, step, companions, missing, problems = next(csv.reader([self.lines[index]]))
        return CohortRow(
            patient=patient,
            next_step=step,
            companions=companions.split(),
            missing_data=missing.split(),
            reported=(problems, self._blocked[index]),
        )

    def blocked_count(self) -> int:
        return sum(self._blocked)


@dataclass
class CohortRun:
    rows: Sequence[CohortRow]
    seconds: dict[str, float]
    lines: list[str] | None = None
    """The CSV's lines of :attr:`rows` (each ending in a newline), where the engine wrote them
    (``--engine sql``: :func:`csfkg.cohort.sql_engine.read_rows`), as :func:`write_csv` writes them."""

    @property
    def conforms(self) -> bool:
        return not any(r.problems for r in self.rows)

    @property
    def blocked(self) -> int:
        """How many rows have a violation (and so no next step)."""
        if isinstance(self.rows, LineRows):
            return self.rows.blocked_count()
        return sum(1 for r in self.rows if r.blocked)


def load_files(store: Store, files: list[Path]) -> int:
    """Add patient files to a store, each checked first as :mod:`csfkg.stores.loading` says (no size
    limit for what Oxigraph's bulk loader streams; RDF/XML entities, JSON-LD contexts and IRIs
    as for a patient file). Returns the number of triples added.

    Raises:
        InputError: a file is missing, not a regular file, unsafe or not RDF.
    """
    from csfkg.stores.loading import load_files as load_checked_files

    return load_checked_files(store, files)


def load_input(store: Store, path: Path) -> str:
    """Add one patient input to a store: a FHIR Bundle or NDJSON of Bundles through
    :func:`csfkg.fhir.inputs.read_patient_input` (at most 256 MiB, parsed whole), any RDF file
    as :func:`load_files` (streamed, no size limit). Returns what the FHIR import ignored, as
    ``PATH: ignored ...``, or ``""``.

    Raises:
        InputError: the file is missing, too large, unsafe, not RDF or not valid FHIR R4.
    """
    from csfkg.fhir.inputs import is_fhir_input, read_patient_input
    from csfkg.stores.loading import MAX_WHOLE_FILE_BYTES

    if not is_fhir_input(path):
        load_files(store, [path])
        return ""
    found = read_patient_input(path, limit=MAX_WHOLE_FILE_BYTES)
    store.add_graph(found.graph)
    return found.note


def add_knowledge(store: Store) -> None:
    """Ontology, guideline knowledge and article statements, once per store."""
    result = store.query(get_query("cohort-knowledge-loaded").text)
    if result is not True:
        store.load(knowledge_ntriples(), "nt")


def patients_of(store: Store) -> list[URIRef]:
    result = store.query(get_query("cohort-patients").text)
    assert isinstance(result, SelectResult)
    return [row[0] for row in result.rows]  # type: ignore[misc]


def read_rows(store: Store, violations: dict[str, list[ValidationResult]] | None) -> list[CohortRow]:
    """One row per patient; a patient with a violation has its violations and no next step
    (``violations`` None: not validated)."""
    result = store.query(get_query("cohort-rows").text)
    assert isinstance(result, SelectResult)
    return rows_of(result.dicts(), violations or {})


def rows_of(
    solutions: Iterable[dict[str, object]], violations: dict[str, list[ValidationResult]]
) -> list[CohortRow]:
    """The rows of ``queries/cohort-rows.rq``'s solutions (variable -> value, absent where
    unbound), with each patient's violations; a patient with a violation has no next step."""
    rows: list[CohortRow] = []
    for values in solutions:
        patient = str(values["patient"])
        rows.append(
            cohort_row(
                patient,
                values.get("nextStep"),
                values.get("companions"),
                values.get("missingData"),
                violations=violations.get(patient, []),
            )
        )
    return rows


def cohort_row(
    patient: str,
    next_step: object,
    companions: object,
    missing_data: object,
    *,
    violations: list[ValidationResult] | None = None,
    reported: tuple[str, bool] | None = None,
) -> CohortRow:
    """A patient's row from ``queries/cohort-rows.rq``'s values (None where unbound) and its
    validation results (one by one, or as :attr:`CohortRow.reported`): a patient with a
    violation has no next step, companions or missing data."""
    row = CohortRow(patient=patient, next_step="", violations=violations or [], reported=reported)
    if not row.blocked:
        row.next_step = "" if next_step is None else str(next_step)
        row.companions = sorted(str(companions or "").split())
        row.missing_data = sorted(str(missing_data or "").split())
    return row


@dataclass(frozen=True)
class Reading:
    """How a run validates its patients and reads their rows, the two stages where an engine may
    keep results in its own form: ``validate(store, progress)`` gives what ``rows(store, found)``
    reads with the derived results. ``readers``, where given, name the queries read after
    derivation (:meth:`csfkg.stores.Store.keep_for_readers`: the store may make only what they
    read, and no result graph is written from it). The default is the Store protocol's:
    :func:`validate_patients` and :func:`read_rows`; the SQL engine keeps both in DuckDB
    (:data:`csfkg.cohort.sql_engine.SQL_READING`), from the same shapes and the same query."""

    validate: Callable[[Store, Progress | None], Any]
    rows: Callable[[Store, Any], Sequence[CohortRow]]
    readers: tuple[str, ...] | None = None


def validate_patients(store: Store, progress: Progress | None = None) -> dict[str, list[ValidationResult]]:
    """Every patient of the store validated (:func:`csfkg.validation.in_store.validate_store`)."""
    return validate_store(store, patients_of(store), progress=progress)


PROTOCOL_READING = Reading(validate=validate_patients, rows=read_rows)
"""Validation and rows through the Store protocol, on any store."""


def run_cohort(
    store: Store,
    *,
    today: date | None = None,
    validate_records: bool = True,
    progress: Progress | None = None,
    scratch: bool = False,
    reading: Reading = PROTOCOL_READING,
) -> CohortRun:
    """Validate, derive and read one row per patient of a store that holds the patients: the
    stages of every run (knowledge -> assessment date -> validate -> derive -> read), through the
    Store protocol, on every engine. What an earlier run derived is cleared first, so the rows
    are those of a fresh run.

    The store's assessment dates are put back as they were after the run (``--today`` does not
    overwrite stored data), unless ``scratch`` says the store ends with the run (a part of a
    file in memory, the SQL engine's file)."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    add_knowledge(store)
    if not scratch:
        keep_recorded_dates(store, today)
    try:
        set_assessment_dates(store, today)
        seconds["prepare"] = time.perf_counter() - clock
        clock = time.perf_counter()
        found = reading.validate(store, progress) if validate_records else None
        seconds["validate"] = time.perf_counter() - clock
        clock = time.perf_counter()
        if reading.readers is not None:
            store.keep_for_readers([get_query(name).text for name in reading.readers])
        derive_in(store, progress=progress)
        seconds["derive"] = time.perf_counter() - clock
        clock = time.perf_counter()
        rows = reading.rows(store, found)
        seconds["report"] = time.perf_counter() - clock
    finally:
        if not scratch:
            restore_recorded_dates(store)
    return CohortRun(rows=rows, seconds=seconds, lines=getattr(rows, "lines", None))


CSV_HEADER = ("patient", "next_step", "companions", "missing_data", "violations")


def write_csv(run: CohortRun, path: Path) -> None:
    """One row per patient: IRI, next step, companions, missing data, violations (atomically),
    in the natural order of the patients' IRIs (``p2`` before ``p10``)."""

    from csfkg.io.output import atomic_stream

    with atomic_stream(path) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        # Python 3.11's writer leaves a lone carriage return unquoted where the line ends in a
        # line feed, and a reader then cuts the row there: such a row is written quoted whole
        quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(CSV_HEADER)
        if run.lines is not None:
            stream.writelines(sorted(run.lines, key=lambda line: natural_key(next(csv.reader([line]))[0])))
            return
        for row in sorted(run.rows, key=lambda row: natural_key(row.patient)):
            fields = [
                row.patient,
                row.next_step,
                " ".join(row.companions),
                " ".join(row.missing_data),
                row.problems,
            ]
            (quoted if any("\r" in field for field in fields) else writer).writerow(fields)


def write_result_graph(store: Store, path: Path) -> None:
    """The derived result graph (recommendations, criterion assessments, missing data, with
    provenance) as N-Triples, written atomically."""
    from csfkg.io.output import atomic_stream

    with atomic_stream(path) as stream:
        stream.flush()
        store.dump(stream.buffer, get_query(RESULT_GRAPH_QUERY).text)
