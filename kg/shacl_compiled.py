"""SHACL validation of a whole cohort in Oxigraph, set-at-a-time: the shapes compiled to SPARQL
(:mod:`csfkg.shacl_compiler`), run in the store, with each result attributed to the patient whose
record holds its focus node.

:func:`validate_in` returns the same :class:`~csfkg.validate.ValidationResult` values as
:func:`csfkg.validate.validate` (pySHACL) for the same data, one per constraint, focus node and
value as pySHACL reports them. Known differences, all on values pySHACL itself reads oddly:

- Oxigraph stores valid numeric and boolean literals in canonical form, so a value reads ``-5``
  where pySHACL reads ``-5.0`` (and ``true`` for ``"1"^^xsd:boolean``);
- ``sh:datatype`` checks XSD's lexical space (rdflib also accepts ``1e3`` or ``NaN`` as
  xsd:decimal and ``2026-03-01T10:00:00`` as xsd:date); years outside 0001-9999 fail as in rdflib;
- message templates take a value's text as it is (pySHACL's ``re.sub`` reads backslashes in it
  as escapes).

Attribution: the check queries find the results; one more query per batch of focus nodes
(:func:`csfkg.shacl_compiler.record_owner_query`) follows the record path of
``queries/cohort-patient-records.rq`` backwards from each focus node to its patient, in the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rdflib import URIRef

from .shacl_compiler import CompiledCheck, UnsupportedShapeError, compile_shapes, compiled_validation_queries, record_owner_query
from .stores import OxigraphStore
from .validate import ValidationReport, ValidationResult

__all__ = [
    "CompiledCheck",
    "UnsupportedShapeError",
    "compile_shapes",
    "compiled_validation_queries",
    "new_validation_store",
    "results_by_patient",
    "run_checks",
    "validate_in",
]

OWNER_BATCH = 5_000


@dataclass(frozen=True)
class Finding:
    """One result of a check of ``constraint`` (:attr:`CompiledCheck.constraint`), with the focus
    node as an Oxigraph term, for the attribution to patients."""

    constraint: str
    result: ValidationResult
    focus: object


def _text(term: object) -> str | None:
    """The IRI, blank node identifier or lexical form of an Oxigraph term."""
    return None if term is None else term.value  # type: ignore[attr-defined]


def _fill(message: str, bindings: dict[str, str]) -> str:
    """A pySHACL message template: ``{?name}`` or ``{$name}`` replaced by the text of the value,
    variable by variable (the query's own variables in projection order, then this, path, value)."""
    for name, text in bindings.items():
        message = re.sub(r"\{[?$]" + re.escape(name) + r"\}", lambda _match, t=text: t, message)
    return message


def run_checks(store: OxigraphStore, checks: Iterable[CompiledCheck]) -> Iterator[Finding]:
    """Every result of every check, in the store (a check whose gate is clear does not run)."""
    from pyoxigraph import NamedNode

    for check in checks:
        if check.gate is not None:
            (row,) = list(store.store.query(check.gate))
            if _text(row["clear"]) == "true":
                continue
        sparql = check.component == "SPARQLConstraintComponent"
        for row in store.store.query(check.query):
            focus = _text(row["this"])
            value = _text(row["value"])
            path, message = check.path, check.message
            if sparql:
                if value is None and check.value_is_focus:
                    value = focus
                bindings = {v: _text(row[v]) for v in check.variables if row[v] is not None}
                bindings["this"] = focus  # type: ignore[assignment]
                if check.path_variable and row["path"] is not None:
                    bindings["path"] = _text(row["path"])  # type: ignore[assignment]
                    path = bindings["path"] if isinstance(row["path"], NamedNode) else None
                if value is not None:
                    bindings["value"] = value
                message = _fill(message, bindings)  # type: ignore[arg-type]
            result = ValidationResult(
                shape=check.shape,
                name=check.name,
                severity=check.severity,
                focus=focus,  # type: ignore[arg-type]
                message=message,
                path=path,
                value=value,
            )
            yield Finding(check.constraint, result, row["this"])


def owners_of(store: OxigraphStore, nodes: Iterable[object]) -> dict[str, set[str]]:
    """The patients whose record holds each node (Oxigraph terms), by the node's text; a node in
    no patient's record has an empty set."""
    from pyoxigraph import BlankNode, Variable

    text = record_owner_query()
    owners: dict[str, set[str]] = {}

    def read(rows: object) -> None:
        for row in rows:  # type: ignore[attr-defined]
            found = owners.setdefault(row["this"].value, set())
            if row["patient"] is not None:
                found.add(row["patient"].value)

    named = sorted({n for n in nodes if not isinstance(n, BlankNode)}, key=str)
    for start in range(0, len(named), OWNER_BATCH):
        block = " ".join(str(n) for n in named[start : start + OWNER_BATCH])  # IRIs as <...>, valid in the store
        read(store.store.query(text.replace("WHERE {", "WHERE {\n  VALUES ?this { " + block + " }", 1)))
    for node in {n for n in nodes if isinstance(n, BlankNode)}:
        # a blank node cannot be written into a query: bind it (SEP-0007 substitution)
        read(store.store.query(text, substitutions={Variable("this"): node}))
    return owners


def _collect(store: OxigraphStore, patients: Iterable[URIRef] | None) -> tuple[list[ValidationResult], dict[str, set[str]]]:
    """One result per constraint and result (pySHACL reports two constraints of a shape failing on
    one value as two results), and the owners of every focus node."""
    seen: set[tuple[str, ValidationResult]] = set()
    results: list[ValidationResult] = []
    nodes: dict[str, object] = {}
    for finding in run_checks(store, compiled_validation_queries()):
        key = (finding.constraint, finding.result)
        if key not in seen:
            seen.add(key)
            results.append(finding.result)
            nodes.setdefault(finding.result.focus, finding.focus)
    owners = owners_of(store, nodes.values())
    if patients is not None:
        wanted = {str(p) for p in patients}
        owners = {node: found & wanted for node, found in owners.items()}
        results = [r for r in results if owners.get(r.focus)]
    return results, owners


def validate_in(store: OxigraphStore, patients: Iterable[URIRef] | None = None) -> ValidationReport:
    """Validate the data of an Oxigraph store against every packaged shape, set-at-a-time.

    The store must hold the rules graph (:func:`csfkg.knowledge.rules_graph`, or the whole
    knowledge graph) besides the patients. With ``patients``, only the results whose focus node
    is in the record of one of them are reported (the checks still run over the whole store).

    Raises:
        UnsupportedShapeError: a packaged shape uses a feature the compiler does not translate.
    """
    results, _ = _collect(store, patients)
    return ValidationReport(results=sorted(results, key=_full_order))


def results_by_patient(store: OxigraphStore, patients: Iterable[URIRef] | None = None) -> dict[str, list[ValidationResult]]:
    """The results of :func:`validate_in` by patient IRI. A result whose focus node is in no
    patient's record is left out; one in the records of several patients is listed for each.

    Raises:
        UnsupportedShapeError: a packaged shape uses a feature the compiler does not translate.
    """
    results, owners = _collect(store, patients)
    grouped: dict[str, list[ValidationResult]] = {}
    for result in sorted(results, key=_full_order):
        for patient in sorted(owners.get(result.focus, ())):
            grouped.setdefault(patient, []).append(result)
    return grouped


def _full_order(result: ValidationResult) -> tuple[object, ...]:
    """The order of :func:`csfkg.validate.validate` (violations first, then by focus, name and
    value), made total."""
    rank = {"Violation": 0, "Warning": 1, "Info": 2}.get(result.severity, 3)
    return (rank, result.focus, result.name, result.value or "", result.shape, result.message, result.path or "")


def new_validation_store() -> OxigraphStore:
    """An in-memory Oxigraph store that holds the rules graph, ready for patients."""
    from .knowledge import rules_graph

    store = OxigraphStore()
    store.add_graph(rules_graph())
    return store
