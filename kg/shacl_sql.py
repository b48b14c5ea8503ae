"""SHACL validation of a cohort in DuckDB (:mod:`csfkg.duckdb_store`): the compiled checks of
:mod:`csfkg.shacl_compiler` translated to SQL (:mod:`csfkg.sparql_sql`), their rows read into the
results :mod:`csfkg.shacl_compiled` makes of Oxigraph's, and each result attributed to the
patients whose records hold its focus node by the same record query.

:func:`results_by_patient` gives what :func:`csfkg.shacl_compiled.results_by_patient` gives for
the same data (tests/test_shacl_sql.py), with one known difference: a literal keeps the lexical
form it was written with (Oxigraph reads a valid number or boolean in canonical form: ``-5``
for ``-5.0``), as pySHACL does. A focus node's owner is found by the id of the term the check
found, never by its text read back.

EXPERIMENTAL: validation of ``csfkg cohort FILE --engine sql`` (:mod:`csfkg.cohort_sql`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from rdflib import Literal, URIRef

from .duckdb_store import Store, algebra_of, add_constants, parse_terms, select
from .shacl_compiled import Finding, collect_findings, findings_of, group_by_patient
from .shacl_compiler import CompiledCheck, compiled_validation_queries, record_owner_query
from .sparql_sql import Relation, Translator, col, query_constants, solution_texts
from .validate import ValidationResult

__all__ = ["compiled_validation_queries", "run_check", "owners_of", "results_by_patient"]

FOCUS = "__focus"


class _Row(dict):
    """A solution: variable name -> Oxigraph term, None where unbound."""

    def __missing__(self, key: str) -> None:
        return None


def run_check(store: Store, check: CompiledCheck, focus_ids: dict[str, int]) -> list[Finding]:
    """The findings of one check (none when one of its gates is clear); the id of each focus
    node found goes into ``focus_ids``, by the text a result names it with."""
    for gate in check.gates:
        _, rows = select(store, gate)
        if rows and rows[0][0] == Literal(True).n3():  # "true"^^xsd:boolean
            return []
    names, rows = select(store, check.query, ("this",))
    terms = parse_terms(text for row in rows for text in row[: len(names)] if text is not None)
    solutions = [_Row({n: terms[text] for n, text in zip(names, row) if text is not None}) for row in rows]
    findings = list(findings_of(check, solutions))
    for finding, row in zip(findings, rows):
        focus_ids[finding.result.focus] = row[len(names)]
    return findings


def owners_of(store: Store, focus_ids: dict[str, int]) -> dict[str, set[str]]:
    """The patients whose record holds each focus node (by its text in the results; the node is
    found by its id): the record query's pairs of patient and node
    (:func:`csfkg.shacl_compiler.record_owner_query`), joined with the nodes."""
    if not focus_ids:
        return {}
    connection = store.connection
    connection.execute(f"CREATE OR REPLACE TEMPORARY TABLE {FOCUS} AS SELECT unnest(?::UBIGINT[]) AS id", [sorted(set(focus_ids.values()))])
    try:
        algebra = algebra_of(record_owner_query(pairs=True))
        add_constants(store, query_constants(algebra))
        translator = Translator(store)
        nodes = Relation(f"SELECT id AS {col('this')} FROM {FOCUS}", ["this"])
        relation = translator.join(nodes, translator.pattern(algebra.p))  # type: ignore[attr-defined]
        rows = connection.execute(solution_texts(relation, ["patient"], store.terms, ("this",))).fetchall()
    finally:
        connection.execute(f"DROP TABLE {FOCUS}")
    patients = parse_terms(text for text, _ in rows)
    by_id: dict[int, set[str]] = {}
    for text, node in rows:
        by_id.setdefault(node, set()).add(patients[text].value)  # type: ignore[attr-defined]
    return {focus: by_id.get(node, set()) for focus, node in focus_ids.items()}


def results_by_patient(store: Store, patients: Iterable[URIRef] | None = None) -> dict[str, list[ValidationResult]]:
    """Every compiled check in the store; the results by the IRI of each patient whose record
    holds the focus node (a result in no patient's record is left out)."""
    checks = compiled_validation_queries()
    focus_ids: dict[str, int] = {}

    def execute(numbers: list[int]) -> Iterator[list[Finding]]:
        for number in numbers:
            yield run_check(store, checks[number], focus_ids)

    results, _ = collect_findings(execute)
    return group_by_patient(results, owners_of(store, focus_ids), patients)
