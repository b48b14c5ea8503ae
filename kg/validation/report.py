"""SHACL validation of patient data with pySHACL: the shapes of ``ontology/shapes/``, with
the ontology and guideline graphs as the ontology graph (class hierarchy, protocols)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH

from csfkg.model.knowledge import rules_graph, shapes_graph


@dataclass(frozen=True)
class ValidationResult:
    """One result of a SHACL validation report."""

    shape: str
    name: str
    severity: str
    focus: str
    message: str
    path: str | None = None
    value: str | None = None

    @property
    def is_violation(self) -> bool:
        return self.severity == "Violation"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "shape": self.shape,
            "name": self.name,
            "severity": self.severity,
            "focus": self.focus,
            "path": self.path,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ValidationReport:
    """``conforms`` is true when no result is a violation (warnings do not block derivation)."""

    results: list[ValidationResult] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(r.is_violation for r in self.results)

    def as_dict(self) -> dict[str, object]:
        return {"conforms": self.conforms, "results": [r.as_dict() for r in self.results]}


FocusNode = tuple[str, ...]
"""A focus node as plain data, hashable and sortable: ``("iri", iri)``,
``("blank", identifier)`` or ``("literal", lexical form, datatype IRI, language)`` (a literal
can be a focus node: the object of ``csf:hasFinding``, for one). A result names its focus node
by text only, and two literals can share a text: whose record holds a result is decided on this."""


def focus_node_of(term: object) -> FocusNode:
    """The :data:`FocusNode` of an rdflib term."""
    from rdflib import BNode
    from rdflib.namespace import RDF, XSD

    if isinstance(term, BNode):
        return ("blank", str(term))
    if isinstance(term, Literal):
        return (
            "literal",
            str(term),
            str(term.datatype or (RDF.langString if term.language else XSD.string)),
            term.language or "",
        )
    return ("iri", str(term))


def validate(data: Graph) -> ValidationReport:
    """Validate patient data against every shape; never raises on non-conforming data."""
    return ValidationReport(results=sorted((r for r, _ in validate_focus(data)), key=result_order))


def validate_focus(data: Graph) -> list[tuple[ValidationResult, FocusNode]]:
    """:func:`validate`'s results, unordered, each with its focus node."""
    from pyshacl import validate as shacl_validate  # heavy import, deferred until needed

    # The rules graph (class hierarchy, protocols) is merged here rather than passed as
    # pySHACL's ont_graph: its "inoculation" clones node by node and costs more than the validation.
    merged = Graph()
    merged += rules_graph()
    merged += data
    _ill_typed(data, merged)
    _one_string_term(data, merged)
    with sparql_literal_comparison():
        _, report_graph, _ = shacl_validate(
            merged,
            shacl_graph=shapes_graph(),
            inference="none",
            advanced=True,
            allow_warnings=True,
            abort_on_first=False,
            inplace=True,
        )
    return _results(report_graph)


@contextmanager
def sparql_literal_comparison() -> Iterator[None]:
    """rdflib's literals compared as SPARQL 1.1 compares them, for a pySHACL run: ``<``, ``<=``,
    ``>``, ``>=`` on literals of incompatible datatypes (an xsd:date and a decimal) are a type error
    (17.3, no operator mapping), so a FILTER over them is not true and a range constraint's
    comparison fails (SHACL 4.4). By default rdflib orders such literals by their datatype IRIs
    (``"2026-03-01"^^xsd:date <= 4.0`` is true because "...#date" sorts before "...#decimal"), so
    pySHACL passed a date as a slice thickness of at most 4 mm; rdflib's own switch,
    ``rdflib.DAWG_LITERAL_COLLATION``, gives the spec's error. Set for the run, restored after."""
    import rdflib

    before = rdflib.DAWG_LITERAL_COLLATION
    rdflib.DAWG_LITERAL_COLLATION = True
    try:
        yield
    finally:
        rdflib.DAWG_LITERAL_COLLATION = before


ILL_TYPED = "urn:csfkg:ill-typed:"
"""The prefix of the datatype under which an ill-typed literal is handed to pySHACL (see
:func:`_ill_typed`): its own datatype IRI follows."""


def _ill_typed(data: Graph, merged: Graph) -> None:
    """RDF 1.1 (3.3): a literal whose lexical form is not in its datatype's lexical space is
    ill-typed and has no value, so SPARQL's comparisons of it are type errors (17.3) and a FILTER
    over them is not true. rdflib orders such a literal by its lexical form instead
    (``"infinity"^^xsd:date > "2026-04-10"^^xsd:date`` is true, so pySHACL found a study dated
    "infinity" in the future), reads "NaN" and "1e3" as xsd:decimal values, which that datatype
    has not, and raised comparing a NaN (sh:minExclusive). Each such literal of ``data`` is handed
    to pySHACL with the same text under a datatype of no standard (:data:`ILL_TYPED` and its
    own): it fails sh:datatype and every comparison as the spec says. Which forms are in the
    lexical space is what the compiled checks' sh:datatype test asks: Oxigraph's cast of the
    text to the datatype. Looked for in ``data``, replaced in ``merged`` (the packaged rules
    hold no such value)."""
    import pyoxigraph

    from csfkg.validation.compiler.checks import CASTABLE

    typed: dict[URIRef, list[Literal]] = {}
    for o in set(data.objects()):
        if isinstance(o, Literal) and o.datatype in CASTABLE:
            typed.setdefault(o.datatype, []).append(o)
    store = pyoxigraph.Store()
    ill: set[Literal] = set()
    for datatype, literals in typed.items():
        rows = " ".join(f"({i} {literal.n3()})" for i, literal in enumerate(literals))
        cast = datatype.n3()
        query = (
            f"SELECT ?i WHERE {{ VALUES (?i ?x) {{ {rows} }} "
            f"FILTER (!COALESCE(datatype({cast}(STR(?x))) = {cast}, false)) }}"
        )
        ill.update(literals[int(row["i"].value)] for row in store.query(query))
    for s, p, o in [(s, p, o) for s, p, o in data if o in ill]:
        merged.remove((s, p, o))
        merged.add((s, p, Literal(str(o), datatype=URIRef(ILL_TYPED + str(o.datatype)))))


def _one_string_term(data: Graph, merged: Graph) -> None:
    """RDF 1.1 (3.3): a simple literal is its xsd:string literal ("daily" is
    "daily"^^xsd:string, one term), but rdflib keeps the two apart and pySHACL then counts two
    values (sh:maxCount 1 fails). Each xsd:string literal of ``data`` is handed to it as the
    simple literal it is. Looked for in ``data``, replaced in ``merged``."""
    from rdflib.namespace import XSD

    typed = [(s, p, o) for s, p, o in data if isinstance(o, Literal) and o.datatype == XSD.string]
    for s, p, o in typed:
        merged.remove((s, p, o))
        merged.add((s, p, Literal(str(o))))


def _results(report: Graph) -> list[tuple[ValidationResult, FocusNode]]:
    results: list[tuple[ValidationResult, FocusNode]] = []
    for node in report.subjects(SH.resultSeverity, None):
        source = report.value(node, SH.sourceConstraint) or report.value(node, SH.sourceShape)
        name = _name(source)
        if name is None:
            name = _name(report.value(node, SH.sourceShape)) or str(source)
        severity = str(report.value(node, SH.resultSeverity)).rsplit("#", 1)[-1]
        messages = [str(m) for m in report.objects(node, SH.resultMessage)]
        # pySHACL adds the node shape's own sh:message to the message of a SPARQL constraint
        # of that shape: keep the constraint's, which is the specific one.
        shape_message = shapes_graph().value(report.value(node, SH.sourceShape), SH.message)
        if report.value(node, SH.sourceConstraint) is not None and len(messages) > 1:
            messages = [m for m in messages if m != str(shape_message)] or messages
        path = report.value(node, SH.resultPath)
        value = report.value(node, SH.value)
        focus = report.value(node, SH.focusNode)
        result = ValidationResult(
            shape=str(source),
            name=name,
            severity=severity,
            focus=str(focus),
            message=messages[0] if messages else name,
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if value is not None else None,
        )
        if isinstance(focus, Literal) and str(focus.datatype).startswith(ILL_TYPED):  # see _ill_typed
            focus = Literal(str(focus), datatype=URIRef(str(focus.datatype).removeprefix(ILL_TYPED)))
        results.append((result, focus_node_of(focus)))
    return results


def _name(shape: object) -> str | None:
    if shape is None:
        return None
    for graph in (shapes_graph(),):
        name = graph.value(shape, SH.name)  # type: ignore[arg-type]
        if isinstance(name, Literal):
            return str(name)
    return None


SEVERITY_RANK = {"Violation": 0, "Warning": 1, "Info": 2}
"""The order of severities in a report (any other severity after them, rank 3)."""


def severity_rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, 3)


def result_order(result: ValidationResult) -> tuple[object, ...]:
    """The one order of validation results, whichever engine found them: violations first, then
    by focus node, shape name and value, then by what is left (a total order)."""
    return (
        severity_rank(result.severity),
        result.focus,
        result.name,
        result.value or "",
        result.shape,
        result.message,
        result.path or "",
    )
