"""SHACL validation of a whole cohort in Oxigraph, set-at-a-time: the shapes compiled to SPARQL
(:mod:`csfkg.validation.compiler`), run in the store, with each result attributed to the patient whose
record holds its focus node.

:func:`validate_in` returns the same :class:`~csfkg.validation.report.ValidationResult` values as
:func:`csfkg.validation.report.validate` (pySHACL) for the same data, one per constraint, focus node and
value as pySHACL reports them. Known differences, all on values pySHACL itself reads oddly:

- Oxigraph stores valid numeric and boolean literals in canonical form, so a value reads ``-5``
  where pySHACL reads ``-5.0`` (and ``true`` for ``"1"^^xsd:boolean``);
- ``sh:datatype`` checks XSD's lexical space (rdflib also accepts ``1e3`` or ``NaN`` as
  xsd:decimal and ``2026-03-01T10:00:00`` as xsd:date, but the packaged shapes' pySHACL path hands
  it such literals as ill-typed: :func:`csfkg.validation.report.validate_focus`); years outside
  0001-9999 fail as in rdflib;
- message templates are filled in one pass, with a value's text as it is (pySHACL's ``re.sub``
  reads backslashes in it as escapes, and fills a template that a value's text contains).

Attribution: the check queries find the results; one more query per batch of focus nodes
(:func:`csfkg.validation.compiler.record_owner_query`) follows the record path of
``queries/cohort-patient-records.rq`` backwards from each focus node to its patient, in the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rdflib import Graph, URIRef

from csfkg.stores import OxigraphStore, SelectResult, Store, with_values_rows
from csfkg.validation.compiler import (
    CompiledCheck,
    UnsupportedShapeError,
    compile_shapes,
    compiled_validation_queries,
    record_owner_query,
)
from csfkg.validation.report import FocusNode, ValidationReport, ValidationResult, focus_node_of, result_order

__all__ = [
    "CompiledCheck",
    "Finding",
    "focus_node_of",
    "owners_of",
    "UnsupportedShapeError",
    "compile_shapes",
    "canonical_texts",
    "compiled_validation_queries",
    "new_validation_store",
    "owned_query",
    "results_by_patient",
    "results_by_patient_in",
    "run_checks",
    "validate_graph",
    "validate_in",
]

OWNER_BATCH = 5_000


def _focus_node(term: object) -> FocusNode:
    from pyoxigraph import BlankNode, Literal, NamedNode

    if isinstance(term, NamedNode):
        return ("iri", term.value)
    if isinstance(term, BlankNode):
        return ("blank", term.value)
    assert isinstance(term, Literal)
    return ("literal", term.value, term.datatype.value, term.language or "")


def _term(node: FocusNode) -> object:
    from pyoxigraph import BlankNode, Literal, NamedNode

    if node[0] == "iri":
        return NamedNode(node[1])
    if node[0] == "blank":
        return BlankNode(node[1])
    _, value, datatype, language = node
    return Literal(value, language=language) if language else Literal(value, datatype=NamedNode(datatype))


@dataclass(frozen=True)
class Finding:
    """One result of a check of ``constraint`` (:attr:`CompiledCheck.constraint`), with its focus
    node, for the attribution to patients."""

    constraint: str
    result: ValidationResult
    focus: FocusNode


def _text(term: object) -> str | None:
    """The IRI, blank node identifier or lexical form of an Oxigraph term."""
    return None if term is None else term.value  # type: ignore[attr-defined]


_TOKEN = re.compile(r"\{[?$](\w+)\}")


@lru_cache(maxsize=256)
def template_pieces(message: str) -> tuple[tuple[str, str | None], ...]:
    """A message template as (text, variable) pieces: ``{?name}`` or ``{$name}`` is a variable."""
    pieces: list[tuple[str, str | None]] = []
    last = 0
    for match in _TOKEN.finditer(message):
        pieces.append((message[last : match.start()], None))
        pieces.append((match.group(0), match.group(1)))
        last = match.end()
    pieces.append((message[last:], None))
    return tuple(pieces)


def _fill(message: str, bindings: dict[str, str]) -> str:
    """pySHACL's message templates: each ``{?name}`` (or ``{$name}``) of a bound variable replaced
    by the value's IRI or lexical form, in one pass; an unbound one stays as written."""
    return "".join(bindings.get(name, text) if name else text for text, name in template_pieces(message))


def run_checks(store: OxigraphStore, checks: Iterable[CompiledCheck]) -> Iterator[Finding]:
    """Every result of every check, in the store (a check with a clear gate does not run)."""
    for check in checks:
        if any(_text(next(iter(store.store.query(gate)))["clear"]) == "true" for gate in check.gates):
            continue
        yield from findings_of(check, store.store.query(check.query))


def findings_of(check: CompiledCheck, rows: Iterable[Any]) -> Iterator[Finding]:
    """The results of a check from the rows of its query: each row maps the query's variables
    to Oxigraph terms (None where unbound)."""
    from pyoxigraph import NamedNode

    for row in rows:
        result = _result_of(
            check,
            lambda name, row=row: _text(row[name]),
            lambda name, row=row: isinstance(row[name], NamedNode),
        )
        yield Finding(check.constraint, result, _focus_node(row["this"]))


def owners_of(store: OxigraphStore, nodes: Iterable[FocusNode]) -> dict[FocusNode, set[str]]:
    """The patients whose record holds each node; a node in no patient's record has an empty
    set. By the node itself, not its text: two literals with one lexical form can be in the
    records of different patients."""
    from pyoxigraph import Variable

    text = record_owner_query()
    owners: dict[FocusNode, set[str]] = {}

    def read(rows: object, node: FocusNode | None = None) -> None:
        for row in rows:  # type: ignore[attr-defined]
            found = owners.setdefault(node or ("iri", row["this"].value), set())
            if row["patient"] is not None:
                found.add(row["patient"].value)

    nodes = set(nodes)
    named = [URIRef(node[1]) for node in sorted(nodes) if node[0] == "iri"]
    for start in range(0, len(named), OWNER_BATCH):
        read(store.store.query(with_values_rows(text, "this", named[start : start + OWNER_BATCH])))
    for node in nodes:
        if node[0] != "iri":  # a blank node or a literal: bound as a term (SEP-0007 substitution)
            read(store.store.query(text, substitutions={Variable("this"): _term(node)}), node)
    return owners


def _findings(store: OxigraphStore) -> list[Finding]:
    """The results of every compiled check, each once, with its focus node. The checks that
    require another run after the others, and only where that other one found something."""
    checks = compiled_validation_queries()
    # one query reports each of its results once; only the parts of one constraint (sh:node)
    # can report the same result twice; pySHACL reports two constraints of a shape failing on
    # one value as two results
    parts: dict[str, int] = {}
    for check in checks:
        parts[check.constraint] = parts.get(check.constraint, 0) + 1
    seen: set[Finding] = set()
    findings: list[Finding] = []
    found: set[str] = set()  # constraints that reported something

    def run(selected: list[CompiledCheck]) -> None:
        for finding in run_checks(store, selected):
            found.add(finding.constraint)
            if parts[finding.constraint] > 1:
                if finding in seen:
                    continue
                seen.add(finding)
            findings.append(finding)

    run([check for check in checks if not check.requires])
    run([check for check in checks if check.requires and check.requires in found])
    return findings


def validate_in(store: OxigraphStore, patients: Iterable[URIRef] | None = None) -> ValidationReport:
    """Validate the data of an Oxigraph store against every packaged shape, set-at-a-time.

    The store must hold the rules graph (:func:`csfkg.model.knowledge.rules_graph`, or the whole
    knowledge graph) besides the patients. With ``patients``, only the results whose focus node
    is in the record of one of them are reported (the checks still run over the whole store).

    Raises:
        UnsupportedShapeError: a packaged shape uses a feature the compiler does not translate.
    """
    findings = _findings(store)
    results = [f.result for f in findings]
    if patients is not None:
        wanted = {str(p) for p in patients}
        owners = owners_of(store, {f.focus for f in findings})
        results = [f.result for f in findings if owners.get(f.focus, set()) & wanted]
    return ValidationReport(results=sorted(results, key=result_order))


def results_by_patient(
    store: OxigraphStore, patients: Iterable[URIRef] | None = None
) -> dict[str, list[ValidationResult]]:
    """The results of :func:`validate_in` by patient IRI. A result whose focus node is in no
    patient's record is left out; one in the records of several patients is listed for each.

    Raises:
        UnsupportedShapeError: a packaged shape uses a feature the compiler does not translate.
    """
    findings = _findings(store)
    owners = owners_of(store, {f.focus for f in findings})
    return group_by_patient([(f.result, owners.get(f.focus, set())) for f in findings], patients)


def group_by_patient(
    owned: Iterable[tuple[ValidationResult, Iterable[str]]], patients: Iterable[URIRef] | None
) -> dict[str, list[ValidationResult]]:
    """Results by the patients whose records hold their focus nodes (each result with those
    patients' IRIs), in :func:`csfkg.validation.report.validate`'s order; with ``patients``,
    theirs only."""
    wanted = None if patients is None else {str(p) for p in patients}
    grouped: dict[str, list[ValidationResult]] = {}
    for result, owners in sorted(owned, key=lambda pair: result_order(pair[0])):
        for patient in sorted(owners):
            if wanted is None or patient in wanted:
                grouped.setdefault(patient, []).append(result)
    return grouped


def validate_graph(data: Graph) -> ValidationReport:
    """:func:`csfkg.validation.report.validate` (pySHACL) on the compiled checks: ``data`` and the rules
    graph in a new in-memory Oxigraph store, every check run there. The same results as pySHACL
    on every fixture and sample of tests/test_compiled_validation.py, but for the known
    differences above (a valid number's text in canonical form: ``-5`` for ``-5.0``); in about
    a tenth of the time of a process's first pySHACL run, which parses the SPARQL constraints.

    Raises:
        UnsupportedShapeError: a packaged shape uses a feature the compiler does not translate.
    """
    store = new_validation_store()
    store.add_graph(data)
    return validate_in(store)


def canonical_texts(literals: Iterable[object]) -> dict[object, str]:
    """Each rdflib literal with its text as Oxigraph holds it, and so as the compiled checks
    report it (a valid number or boolean in canonical form: "1.0"^^xsd:decimal reads 1)."""
    import pyoxigraph

    store = OxigraphStore()
    subject, predicate = pyoxigraph.NamedNode("urn:csfkg:s"), pyoxigraph.NamedNode("urn:csfkg:p")
    texts: dict[object, str] = {}
    for literal in set(literals):
        store.store.add(pyoxigraph.Quad(subject, predicate, store.to_ox(literal)))  # type: ignore[arg-type]
        (quad,) = list(store.store)
        texts[literal] = quad.object.value
        store.store.clear()
    return texts


def new_validation_store() -> OxigraphStore:
    """An in-memory Oxigraph store that holds the rules graph, ready for patients."""
    from csfkg.model.knowledge import add_rules

    store = OxigraphStore()
    add_rules(store)
    return store


def owned_query(check: CompiledCheck) -> str:
    """A check's query with each result's patients joined in: the record query walked back from
    the focus node (:func:`csfkg.validation.compiler.record_owner_query`), in the same query, so
    that no focus node has to be bound again (a server's blank nodes cannot be named in a second
    request). A result in no patient's record has ``?patient`` unbound; one in two records comes
    twice."""
    import re

    owner = record_owner_query()
    link = re.search(r"OPTIONAL \{ (.*?) \}\n", owner)
    test = re.search(r"EXISTS \{ (.*?) \}", owner)
    assert link is not None and test is not None, "the record owner query's form"
    # a plain join, no OPTIONAL or BIND over EXISTS: Virtuoso 7.2 fails on those (a missing
    # column, or a path that never matches inside OPTIONAL); a result in no record drops out
    pattern = f"{link.group(1)} {test.group(1)}".replace("?candidate", "?patient")
    select = check.query.index("SELECT")
    prefixes, body = check.query[:select], check.query[select:]
    return f"{prefixes}SELECT * WHERE {{\n  {{ {body} }}\n  {pattern}\n}}"


def results_by_patient_in(
    store: Store, patients: Iterable[URIRef] | None = None
) -> dict[str, list[ValidationResult]]:
    """:func:`results_by_patient` through the Store protocol alone, for a store that runs SPARQL
    1.1 but holds no Oxigraph terms (a SPARQL server): every check runs there, its results
    attributed in the same query (:func:`owned_query`); no data leaves the server but the
    results."""
    from rdflib import Literal

    checks = compiled_validation_queries()
    parts: dict[str, int] = {}
    for check in checks:
        parts[check.constraint] = parts.get(check.constraint, 0) + 1
    found: set[str] = set()
    seen: set[tuple[str, str, ValidationResult, FocusNode]] = set()
    owned: list[tuple[ValidationResult, list[str]]] = []

    def clear(gate: str) -> bool:
        result = store.query(gate)
        assert isinstance(result, SelectResult)
        return bool(result.rows) and result.rows[0][0] == Literal(True)

    def run(selected: list[CompiledCheck]) -> None:
        for check in selected:
            if any(clear(gate) for gate in check.gates):
                continue
            result = store.query(owned_query(check))
            assert isinstance(result, SelectResult)
            for row in result.dicts():
                found.add(check.constraint)
                patient = row.get("patient")
                if patient is None:
                    continue
                finding = _finding_of_terms(check, row)
                key = (check.constraint, str(patient), finding, focus_node_of(row["this"]))
                if key in seen:  # one query reports each result once a patient; sh:node parts may twice
                    continue
                seen.add(key)
                owned.append((finding, [str(patient)]))

    run([check for check in checks if not check.requires])
    run([check for check in checks if check.requires and check.requires in found])
    return group_by_patient(owned, patients)


def _finding_of_terms(check: CompiledCheck, row: dict[str, Any]) -> ValidationResult:
    """What :func:`findings_of` makes of a row, from rdflib terms."""
    from rdflib import URIRef

    return _result_of(
        check,
        lambda name: None if row.get(name) is None else str(row[name]),
        lambda name: isinstance(row.get(name), URIRef),
    )


def _result_of(check: CompiledCheck, text: Any, is_iri: Any) -> ValidationResult:
    """A check's result from one row: ``text(name)`` a variable's IRI, label or lexical form (None
    where unbound), ``is_iri(name)`` whether it is an IRI; a SPARQL constraint's message filled."""
    focus, value = text("this"), text("value")
    path, message = check.path, check.message
    if check.component == "SPARQLConstraintComponent":
        if value is None and check.value_is_focus:
            value = focus
        bindings = {v: text(v) for v in check.variables if text(v) is not None}
        bindings["this"] = focus
        if check.path_variable and text("path") is not None:
            bindings["path"] = text("path")
            path = bindings["path"] if is_iri("path") else None
        if value is not None:
            bindings["value"] = value
        message = _fill(message, bindings)  # type: ignore[arg-type]
    elif check.path_variable and text("path") is not None:  # sh:closed: the property found
        path = text("path") if is_iri("path") else None
    return ValidationResult(
        shape=check.shape,
        name=check.name,
        severity=check.severity,
        focus=focus,  # type: ignore[arg-type]
        message=message,
        path=path,
        value=value,
    )
