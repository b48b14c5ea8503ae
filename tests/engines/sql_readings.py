"""Readings of the SQL engine's tables that only the tests make: the triples a derivation
added, each SELECT solution as plain values, and every validation result with the patients
that own it. The engine itself writes its CSV from lines made in the store
(:func:`csfkg.cohort.sql_engine.read_rows`, :func:`csfkg.engines.sql.validation.problems_by_patient`);
these turn the same tables into Python values, to compare them with Oxigraph's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rdflib import URIRef

from csfkg.engines.sql.store import TERMS, SqlStore, prepared
from csfkg.engines.sql.translate import BLANK_KIND, is_kind, solution_values, term_str
from csfkg.engines.sql.validation import FOUND, OWNERS, _drop, _find
from csfkg.validation.compiled import group_by_patient
from csfkg.validation.report import ValidationResult


def row_counts(store: SqlStore) -> dict[str, int]:
    """The rows of each predicate table (to give :func:`derived_ntriples` as ``before``)."""
    return {
        table: store.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in store.tables.values()
    }


def derived_ntriples(store: SqlStore, before: dict[str, int]) -> str:
    """The triples added after ``before`` (rows by table, as :func:`row_counts` gave them), as
    N-Triples."""
    lines: list[str] = []
    for text, table in store.tables.items():
        rows = store.connection.execute(
            f"SELECT a.text, b.text FROM (SELECT s, o FROM {table} WHERE rowid >= ?) x JOIN {TERMS} a ON a.id = x.s JOIN {TERMS} b ON b.id = x.o",
            [before.get(table, 0)],
        ).fetchall()
        lines.extend(f"{s} {text} {o} .\n" for s, o in rows)
    return "".join(lines)


def _parse_terms(texts: Iterable[str]) -> dict[str, Any]:
    """N-Triples texts of terms as Oxigraph terms (one parse for all of them)."""
    import pyoxigraph

    texts = sorted(set(texts))
    if not texts:
        return {}
    document = "".join(f"<urn:csfkg:s> <urn:csfkg:p{i}> {text} .\n" for i, text in enumerate(texts)).encode()
    terms: dict[str, Any] = {}
    for triple in pyoxigraph.parse(document, format=pyoxigraph.RdfFormat.N_TRIPLES):
        terms[texts[int(triple.predicate.value[len("urn:csfkg:p") :])]] = triple.object
    return terms


def select_values(store: SqlStore, text: str, unordered: bool = False) -> list[dict[str, str]]:
    """A SELECT query's rows as dicts of each bound variable's IRI, blank node label or lexical
    form (as Oxigraph's ``term.value`` reads them)."""
    relation, names = prepared(store, text, unordered)
    rows = store.execute(solution_values(relation, names, store.terms)).fetchall()
    # the texts that need unescaping (and blank nodes) through Oxigraph's parser
    terms = _parse_terms(
        row[2 * i + 1]
        for row in rows
        for i in range(len(names))
        if row[2 * i] is None and row[2 * i + 1] is not None
    )
    solutions = []
    for row in rows:
        solution = {}
        for i, name in enumerate(names):
            value, term = row[2 * i], row[2 * i + 1]
            if term is not None:
                solution[name] = value if value is not None else terms[term].value
        solutions.append(solution)
    return solutions


def validation_results(store: SqlStore) -> list[tuple[ValidationResult, set[str]]]:
    """Every compiled check run in the store: each result, with the IRIs (or blank node labels)
    of the patients whose records hold its focus node (none for a node in no record)."""
    try:
        _find(store)
        patient = f"(CASE WHEN {is_kind('t.id', BLANK_KIND)} THEN substr(t.text, 3) ELSE {term_str('t')} END)"
        rows = store.connection.execute(
            f"SELECT f.shape, f.name, f.severity, f.focus, f.message, f.path, f.value, list({patient}) FILTER (WHERE t.id IS NOT NULL) "
            f"FROM {FOUND} f LEFT JOIN {OWNERS} o ON o.node = f.focus_id LEFT JOIN {store.terms} t ON t.id = o.patient "
            f"GROUP BY f.rowid, f.shape, f.name, f.severity, f.focus, f.message, f.path, f.value"
        ).fetchall()
    finally:
        _drop(store)
    return [(ValidationResult(*row[:7]), set(row[7] or ())) for row in rows]


def results_by_patient(
    store: SqlStore, patients: Iterable[URIRef] | None = None
) -> dict[str, list[ValidationResult]]:
    """Every compiled check in the store; the results by the IRI of each patient whose record
    holds the focus node (a result in no patient's record is left out), as
    :func:`csfkg.validation.compiled.group_by_patient` orders them; with ``patients``, theirs only."""
    return group_by_patient(validation_results(store), patients)
