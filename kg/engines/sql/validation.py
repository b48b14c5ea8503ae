"""SHACL validation of a cohort in DuckDB (:mod:`csfkg.engines.sql.store`): the compiled checks of
:mod:`csfkg.validation.compiler` translated to SQL (:mod:`csfkg.engines.sql.translate`) and run in the store,
their results kept there: each row what :func:`csfkg.validation.compiled.findings_of` makes of a
solution in Oxigraph (focus node, value, message with its template filled, path), attributed to
the patients whose records hold its focus node by the same record query
(:func:`csfkg.validation.compiler.record_owner_steps`, walked back from the node the check found).

:func:`problems_by_patient` makes, in the store, the CSV's violations column of each patient
(no Python object for a result: a large cohort has about as many results as patients, mostly
warnings). Read back as :class:`~csfkg.validation.report.ValidationResult` values (by
tests/engines/sql_readings.py), the results equal :func:`csfkg.validation.compiled.results_by_patient`'s
for the same data (tests/engines/test_shacl_sql.py), with one known difference: a literal keeps
the lexical form it was written with (Oxigraph reads a valid number or boolean in canonical form:
``-5`` for ``-5.0``), as pySHACL does.

EXPERIMENTAL: validation of ``csfkg cohort FILE --engine sql`` (:mod:`csfkg.cohort.sql_engine`).
"""

from __future__ import annotations

from rdflib import Literal

from csfkg.engines.sql.store import SqlStore, add_constants, algebra_of, prepared, select
from csfkg.engines.sql.translate import (
    Translator,
    col,
    query_constants,
    quote,
    solution_terms,
)
from csfkg.validation.compiled import template_pieces
from csfkg.validation.compiler import CompiledCheck, compiled_validation_queries, record_owner_steps
from csfkg.validation.report import severity_rank

__all__ = [
    "compiled_validation_queries",
    "PROBLEMS",
    "problems_by_patient",
]

CHECKS = "__checks"
RESULTS = "__results"
FOUND = "__found"
OWNERS = "__owners"
PROBLEMS = "__problems"
"""The table :func:`problems_by_patient` makes: ``patient`` (term id), ``problems`` (the
violations column of the CSV), ``blocked`` (one of the results is a violation)."""


_NULL = "CAST(NULL AS VARCHAR)"


def _check_rows(store: SqlStore, number: int, check: CompiledCheck) -> str:
    """SQL inserting into the results table a row per solution of a check's query: what
    :func:`csfkg.validation.compiled.findings_of` makes of it, and the focus node's id."""
    relation, names = prepared(store, check.query, False)
    wanted = list(dict.fromkeys(["this", "value", "path", *check.variables]))
    terms, source = solution_terms(relation, [n for n in wanted if n in names], store.terms)

    def value(name: str) -> str:
        return terms[name][0] if name in terms else _NULL

    focus, found = value("this"), value("value")
    path = _NULL if check.path is None else quote(check.path)
    message = quote(check.message)
    if check.component == "SPARQLConstraintComponent":
        if check.value_is_focus:
            found = f"COALESCE({found}, {focus})"
        bound = {name: value(name) for name in check.variables}
        bound["this"] = focus
        if check.path_variable and "path" in terms:
            bound["path"] = value("path")
            # an IRI bound to ?path is the result's path; a path that is no IRI, none
            path = f"(CASE WHEN {value('path')} IS NULL THEN {path} WHEN {terms['path'][1]} THEN {value('path')} END)"
        bound["value"] = found
        # the template filled in one pass: a variable bound in the row by its value, any other
        # left as written
        pieces = [
            quote(text) if name is None or name not in bound else f"COALESCE({bound[name]}, {quote(text)})"
            for text, name in template_pieces(check.message)
            if text or name
        ]
        message = f"({' || '.join(pieces) or quote('')})"
    return f"INSERT INTO {RESULTS} SELECT {number}, s0.{col('this')}, {focus}, {found}, {message}, {path} FROM {source}"


def _clear(store: SqlStore, gate: str) -> bool:
    """Whether a check's gate shows that the check cannot find anything."""
    _, rows = select(store, gate)
    return bool(rows) and rows[0][0] == Literal(True).n3()


def _find(store: SqlStore) -> None:
    """Every compiled check run in the store: the table :data:`FOUND` of their results (one per
    constraint, focus node and value; a check with a clear gate does not run, one that requires
    another runs only where that one found something), and :data:`OWNERS`, the patients whose
    records hold each focus node."""
    connection = store.connection
    checks = compiled_validation_queries()
    parts: dict[str, int] = {}
    for check in checks:
        parts[check.constraint] = parts.get(check.constraint, 0) + 1
    connection.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE {CHECKS} (number INTEGER, constraint_ VARCHAR, parts INTEGER, shape VARCHAR, "
        f"name VARCHAR, severity VARCHAR, rank INTEGER)"
    )
    connection.executemany(
        f"INSERT INTO {CHECKS} VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            [i, c.constraint, parts[c.constraint], c.shape, c.name, c.severity, severity_rank(c.severity)]
            for i, c in enumerate(checks)
        ],
    )
    connection.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE {RESULTS} (number INTEGER, focus_id UBIGINT, focus VARCHAR, value VARCHAR, message VARCHAR, path VARCHAR)"
    )

    def run(numbers: list[int]) -> None:
        for number in numbers:
            if not any(_clear(store, gate) for gate in checks[number].gates):
                connection.execute(_check_rows(store, number, checks[number]))

    run([i for i, check in enumerate(checks) if not check.requires])
    found = {
        c
        for (c,) in connection.execute(
            f"SELECT DISTINCT c.constraint_ FROM {RESULTS} JOIN {CHECKS} c USING (number)"
        ).fetchall()
    }
    run([i for i, check in enumerate(checks) if check.requires and check.requires in found])
    # one query reports each of its results once; the parts of one constraint (sh:node) can
    # report the same result twice, kept once
    fields = (
        "c.constraint_, c.shape, c.name, c.severity, c.rank, r.focus_id, r.focus, r.value, r.message, r.path"
    )
    connection.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE {FOUND} AS "
        f"SELECT DISTINCT {fields} FROM {RESULTS} r JOIN {CHECKS} c USING (number) WHERE c.parts > 1 "
        f"UNION ALL SELECT {fields} FROM {RESULTS} r JOIN {CHECKS} c USING (number) WHERE c.parts = 1"
    )
    connection.execute(f"DROP TABLE {RESULTS}")
    connection.execute(f"DROP TABLE {CHECKS}")
    # the record query walked back from the focus nodes: each node, every node that holds it
    # in zero or more steps, those that are patients (forwards from every patient, the records
    # are many times more pairs than there are focus nodes)
    step_query, patients_query = (algebra_of(text) for text in record_owner_steps())
    add_constants(store, query_constants(step_query) | query_constants(patients_query))
    translator = Translator(store)
    step, patients = translator.pattern(step_query.p), translator.pattern(patients_query.p)  # type: ignore[attr-defined]
    this, candidate = col("this"), col("candidate")
    connection.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE {OWNERS} AS "
        f"WITH RECURSIVE __back(node, holder) AS (SELECT DISTINCT focus_id, focus_id FROM {FOUND} "
        f"UNION SELECT b.node, st.{candidate} FROM __back b JOIN ({step.sql}) st ON st.{this} = b.holder) "
        f"SELECT DISTINCT b.node, b.holder AS patient FROM __back b WHERE b.holder IN (SELECT {candidate} FROM ({patients.sql}))"
    )


def _drop(store: SqlStore) -> None:
    for table in (FOUND, OWNERS):
        store.connection.execute(f"DROP TABLE IF EXISTS {table}")


def problems_by_patient(store: SqlStore) -> str:
    """Every compiled check run in the store, and one row per patient whose record holds the
    focus node of a result, in the table :data:`PROBLEMS`: the violations column of the CSV
    (each result's ``severity: name: message``, in :func:`csfkg.validation.report.validate`'s order,
    joined by ``; ``) and whether one is a violation. Returns the table's name."""
    try:
        _find(store)
        # each patient's results as a list of structs sorted by their fields, in this order
        # (DuckDB orders structs field by field): string_agg(... ORDER BY ...) sorted each group
        # on its own, which costs far more CPU
        # (the severity with its colon last: after the name and the message, it orders as the
        # text "severity: name: message" did, a severity that begins another included; the text
        # made after the sort, not for each result before it)
        order = ", ".join(
            f"'{key}': {value}"
            for key, value in (
                ("rank", "f.rank"),
                ("focus", "f.focus"),
                ("name", "f.name"),
                ("value", "COALESCE(f.value, '')"),
                ("shape", "f.shape"),
                ("message", "f.message"),
                ("path", "COALESCE(f.path, '')"),
                ("severity", "f.severity || ':'"),
            )
        )
        store.connection.execute(
            f"CREATE OR REPLACE TEMPORARY TABLE {PROBLEMS} AS SELECT o.patient, "
            f"array_to_string(list_transform(list_sort(list({{{order}}})), lambda r: r.severity || ' ' || r.name || ': ' || r.message), '; ') AS problems, "
            f"bool_or(f.severity = 'Violation') AS blocked FROM {FOUND} f JOIN {OWNERS} o ON o.node = f.focus_id GROUP BY o.patient"
        )
    finally:
        _drop(store)
    return PROBLEMS
