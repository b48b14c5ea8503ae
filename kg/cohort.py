"""Cohorts: load many patients into a store (embedded Oxigraph, persistent or in memory, or any
SPARQL 1.1 endpoint), validate every patient, derive next step and companions for all of them
in the store, and read one row per patient.

Validation runs the shapes compiled to set-at-a-time SPARQL in embedded Oxigraph
(:mod:`csfkg.shacl_compiled`) and pySHACL per batch of patient records pulled from an endpoint;
patients that violate a shape are reported with their violations and no next step, never
dropped. Derivation runs the ``derive-*`` queries as
SPARQL Updates (``INSERT`` with the same template) inside the store, so no triple leaves it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from .derive import new_result_graph
from .errors import InputError
from .knowledge import knowledge_graph, knowledge_ntriples
from .query_library import derivation_queries, get_query
from .stores import EndpointStore, OxigraphStore, RdflibStore, SelectResult, Store, _STRIP, with_values, with_values_rows
from .validate import ValidationResult, validate

Progress = Callable[[str, int, int], None]
_CONSTRUCT = re.compile(r"\bCONSTRUCT\b", re.IGNORECASE)


@dataclass
class CohortRow:
    patient: str
    next_step: str
    companions: list[str] = field(default_factory=list)
    missing_data: list[str] = field(default_factory=list)
    violations: list[ValidationResult] = field(default_factory=list)
    reported: tuple[str, bool] | None = None
    """Where the results are not kept one by one (``--engine sql``, :mod:`csfkg.shacl_sql`):
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
    :func:`csfkg.cohort_sql.read_rows`), each with whether it has a violation, and made
    :class:`CohortRow` objects only where one is read: the CSV of a million patients is written
    from its lines without a million objects (4-5 s of the 1M-patient command).

    A row read back from its line is the row :func:`cohort_row` makes: the line holds the next
    step, the codes sorted and joined by a space (and none for a blocked row) and the violations
    column, read back by :func:`_fields` (tests/test_cohort_sql.py)."""

    def __init__(self, lines: list[str], blocked: list[bool]) -> None:
        self.lines = lines
        self._blocked = blocked

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        patient, step, companions, missing, problems = _fields(self.lines[index])
        return CohortRow(patient=patient, next_step=step, companions=companions.split(), missing_data=missing.split(),
                         reported=(problems, self._blocked[index]))

    def blocked_count(self) -> int:
        return sum(self._blocked)


_FIELD = re.compile(r'(?:"((?:[^"]|"")*)"|([^,"\n]*))(,|\n\Z)')


def _fields(line: str) -> list[str]:
    """The fields of a line :func:`csv_writer` wrote (QUOTE_MINIMAL, ending in a line feed).
    Python's own reader refuses a lone carriage return in a field its writer left unquoted
    (3.11), so the line is read here: a field is quoted (quotes doubled) or holds no comma,
    quote or line feed."""
    fields, at = [], 0
    while True:
        match = _FIELD.match(line, at)
        if match is None:
            raise ValueError(f"not a CSV line as csv_writer writes it: {line!r}")
        quoted, plain, end = match.groups()
        fields.append(plain if quoted is None else quoted.replace('""', '"'))
        if end != ",":
            return fields
        at = match.end()


@dataclass
class CohortRun:
    rows: Sequence[CohortRow]
    seconds: dict[str, float]
    lines: list[str] | None = None
    """The CSV's lines of :attr:`rows` (each ending in a newline), where the engine wrote them
    (``--engine sql``: :func:`csfkg.cohort_sql.read_rows`), as :func:`write_csv` writes them."""

    @property
    def conforms(self) -> bool:
        return not any(r.problems for r in self.rows)

    @property
    def blocked(self) -> int:
        """How many rows have a violation (and so no next step)."""
        if isinstance(self.rows, LineRows):
            return self.rows.blocked_count()
        return sum(1 for r in self.rows if r.blocked)


def as_update(text: str) -> str:
    """A ``derive-*`` CONSTRUCT query as the SPARQL Update that inserts the same triples."""
    masked = _STRIP.sub(lambda m: " " * len(m.group(0)), text)
    match = _CONSTRUCT.search(masked)
    if match is None:
        raise ValueError("not a CONSTRUCT query")
    return text[: match.start()] + "INSERT" + text[match.end() :]


def load_files(store: Store, files: list[Path]) -> int:
    """Add patient files to a store, each checked first as :mod:`csfkg.store_load` says (no size
    limit for what Oxigraph's bulk loader streams; RDF/XML entities, JSON-LD contexts and IRIs
    as for a patient file). Returns the number of triples added.

    Raises:
        InputError: a file is missing, not a regular file, unsafe or not RDF.
    """
    from .store_load import load_files as load_checked_files

    return load_checked_files(store, files)


def add_knowledge(store: Store) -> None:
    """Ontology, guideline knowledge and article statements, once per store."""
    result = store.query(get_query("cohort-knowledge-loaded").text)
    if result is not True:
        if isinstance(store, OxigraphStore):
            import pyoxigraph

            store.store.load(knowledge_ntriples(), format=pyoxigraph.RdfFormat.N_TRIPLES)
        else:
            store.add_graph(knowledge_graph())


def set_assessment_dates(store: Store, today: date | None) -> None:
    """``--today`` replaces every patient's assessment date; without it, missing ones get today."""
    update = get_query("update-assessment-date").text
    bindings = {
        "today": Literal(today or date.today(), datatype=XSD.date),
        "replace": Literal(today is not None),
    }
    text = with_values(update, bindings)
    if isinstance(store, OxigraphStore):
        store.store.update(text)
    elif isinstance(store, EndpointStore):
        store.update(text)
    else:
        assert isinstance(store, RdflibStore)
        store.graph.update(text)


def patients_of(store: Store) -> list[URIRef]:
    result = store.query(get_query("cohort-patients").text)
    assert isinstance(result, SelectResult)
    return [row[0] for row in result.rows]  # type: ignore[misc]


RECORD_QUERY = "cohort-patient-records"


def validate_store(store: Store, patients: list[URIRef], *, batch: int = 25, progress: Progress | None = None) -> dict[str, list[ValidationResult]]:
    """SHACL-validate every patient record; returns the violations and warnings by patient IRI.

    In embedded Oxigraph the shapes run compiled to set-at-a-time SPARQL over the whole store
    (:mod:`csfkg.shacl_compiled`, checked against pySHACL by tests/test_compiled_validation.py);
    elsewhere pySHACL validates the records in batches pulled from the store."""
    if isinstance(store, OxigraphStore):
        from .shacl_compiled import results_by_patient

        found = results_by_patient(store, patients)
        if progress:
            progress("validate", len(patients), len(patients))
        return found
    return validate_store_pyshacl(store, patients, batch=batch, progress=progress)


def validate_store_pyshacl(store: Store, patients: list[URIRef], *, batch: int = 25, progress: Progress | None = None) -> dict[str, list[ValidationResult]]:
    """SHACL-validate every patient record with pySHACL, in batches pulled from the store."""
    found: dict[str, list[ValidationResult]] = {}
    text = get_query(RECORD_QUERY).text
    for start in range(0, len(patients), batch):
        chunk = patients[start : start + batch]
        records = store.query(with_values_rows(text, "patient", chunk))
        assert isinstance(records, Graph)
        report = validate(records)
        owner = _owners(records, chunk)
        for result in report.results:
            patient = owner.get(result.focus)
            if patient is not None:
                found.setdefault(patient, []).append(result)
        if progress:
            progress("validate", min(start + batch, len(patients)), len(patients))
    return found


def _owners(records: Graph, patients: list[URIRef]) -> dict[str, str]:
    """Each node of the records, with the patient whose record it belongs to."""
    owner: dict[str, str] = {}
    for patient in patients:
        stack = [patient]
        while stack:
            node = stack.pop()
            if str(node) in owner:
                continue
            owner[str(node)] = str(patient)
            for obj in records.objects(node, None):
                if (obj, None, None) in records and str(obj) not in owner:
                    stack.append(obj)  # type: ignore[arg-type]
    return owner


def derive_store(store: Store, *, progress: Progress | None = None) -> Graph | None:
    """Run the derivation inside the store. Returns the derived triples for an rdflib store
    (None for Oxigraph and endpoints, where they stay in the store)."""
    queries = derivation_queries()
    derived = new_result_graph() if isinstance(store, RdflibStore) else None
    for index, query in enumerate(queries, start=1):
        if isinstance(store, OxigraphStore):
            store.store.update(as_update(query.text))
        elif isinstance(store, EndpointStore):
            store.update(as_update(query.text))
        else:
            result = store.query(query.text)
            assert isinstance(result, Graph) and derived is not None
            store.add_graph(result)
            derived += result
        if progress:
            progress("derive", index, len(queries))
    return derived


def read_rows(store: Store, violations: dict[str, list[ValidationResult]]) -> list[CohortRow]:
    """One row per patient; a patient with a violation has its violations and no next step."""
    result = store.query(get_query("cohort-rows").text)
    assert isinstance(result, SelectResult)
    return rows_of(result.dicts(), violations)


def rows_of(solutions: Iterable[dict[str, object]], violations: dict[str, list[ValidationResult]]) -> list[CohortRow]:
    """The rows of ``queries/cohort-rows.rq``'s solutions (variable -> value, absent where
    unbound), with each patient's violations; a patient with a violation has no next step."""
    rows: list[CohortRow] = []
    for values in solutions:
        patient = str(values["patient"])
        rows.append(cohort_row(patient, values.get("nextStep"), values.get("companions"), values.get("missingData"), violations=violations.get(patient, [])))
    return rows


def cohort_row(patient: str, next_step: object, companions: object, missing_data: object, *, violations: list[ValidationResult] | None = None,
               reported: tuple[str, bool] | None = None) -> CohortRow:
    """A patient's row from ``queries/cohort-rows.rq``'s values (None where unbound) and its
    validation results (one by one, or as :attr:`CohortRow.reported`): a patient with a
    violation has no next step, companions or missing data."""
    row = CohortRow(patient=patient, next_step="", violations=violations or [], reported=reported)
    if not row.blocked:
        row.next_step = "" if next_step is None else str(next_step)
        row.companions = sorted(str(companions or "").split())
        row.missing_data = sorted(str(missing_data or "").split())
    return row


def run_cohort(store: Store, *, today: date | None = None, validate_records: bool = True, progress: Progress | None = None) -> CohortRun:
    """Validate, derive and read one row per patient of a store that holds the patients."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    add_knowledge(store)
    set_assessment_dates(store, today)
    patients = patients_of(store)
    seconds["prepare"] = time.perf_counter() - clock
    clock = time.perf_counter()
    violations = validate_store(store, patients, progress=progress) if validate_records else {}
    seconds["validate"] = time.perf_counter() - clock
    clock = time.perf_counter()
    derive_store(store, progress=progress)
    seconds["derive"] = time.perf_counter() - clock
    clock = time.perf_counter()
    rows = read_rows(store, violations)
    seconds["report"] = time.perf_counter() - clock
    return CohortRun(rows=rows, seconds=seconds)


CSV_HEADER = ("patient", "next_step", "companions", "missing_data", "violations")


def csv_writer(stream: object) -> object:
    """The csv writer of :func:`write_csv` (its dialect, in one place: the SQL engine asks it
    which characters it quotes)."""
    import csv

    return csv.writer(stream, lineterminator="\n")  # type: ignore[arg-type]


def write_csv(run: CohortRun, path: Path) -> None:
    """One row per patient: IRI, next step, companions, missing data, violations (atomically)."""

    from .output import atomic_stream

    with atomic_stream(path) as stream:
        writer = csv_writer(stream)
        writer.writerow(CSV_HEADER)  # type: ignore[attr-defined]
        if run.lines is not None:
            stream.writelines(run.lines)
            return
        for row in run.rows:
            writer.writerow([row.patient, row.next_step, " ".join(row.companions), " ".join(row.missing_data), row.problems])


def open_store(*, store_dir: Path | None = None, endpoint: str | None = None, update_url: str | None = None, graph_store_url: str | None = None) -> Store:
    """The store a cohort command works on: a persistent Oxigraph folder, an endpoint, or a new
    in-memory Oxigraph store."""
    if endpoint:
        return EndpointStore(endpoint, update_url=update_url, store_url=graph_store_url)
    if store_dir is not None:
        # opening a folder that is not a store would create one there: an empty store (every
        # cohort "done", no row) from a mistyped path
        if not store_dir.is_dir():
            raise InputError(f"No store at {store_dir}: make one with `csfkg load FILE --store {store_dir}`.")
        if not (store_dir / "CURRENT").is_file():
            raise InputError(f"{store_dir} is not a store made by `csfkg load` (no RocksDB CURRENT file in it).")
        try:
            return OxigraphStore(str(store_dir))
        except OSError as error:
            raise InputError(f"Cannot open the store {store_dir}: {error}.") from None
    return OxigraphStore()


def write_result_graph(store: Store, path: Path) -> None:
    """The derived result graph (recommendations, criterion assessments, missing data, with
    provenance) as N-Triples, written atomically."""
    from .output import atomic_stream

    text = get_query("cohort-result-graph").text
    if isinstance(store, OxigraphStore):
        # serialized by Oxigraph itself: no triple becomes a Python object (rdflib's path costs
        # about 30 us a triple, and a cohort derives some 76 triples a patient)
        import pyoxigraph

        with atomic_stream(path) as stream:
            stream.flush()
            store.store.query(text).serialize(stream.buffer, format=pyoxigraph.RdfFormat.N_TRIPLES)
        return
    result = store.query(text)
    assert isinstance(result, Graph)
    with atomic_stream(path) as stream:
        stream.write(result.serialize(format="nt"))
