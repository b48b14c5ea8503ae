"""SHACL validation of any data against any shapes, with a standard ``sh:ValidationReport``: what
``csfkg validate`` runs, and what a SHACL test harness drives.

``engine="compiled"``: the shapes the compiler translates (:func:`csfkg.validation.compiler.
compile_what_can_be`) run as set-at-a-time SPARQL over the data in an in-memory Oxigraph store;
every other shape is validated by pySHACL, on a copy of the shapes graph in which the compiled
shapes keep their constraints (a shape left to pySHACL may refer to them) but lose their targets
(so that no result is reported twice). The two sets of results make one report. ``engine=
"pyshacl"``: pySHACL alone. Either way a shapes graph that is not valid SHACL is refused
(:class:`ShapesRefused`), never answered.

The report follows SHACL 1.0 section 3.6: ``sh:conforms`` is false when there is any result,
whatever its severity; each result has its focus node, path, value, source shape, constraint
component, severity and message. The class hierarchy that ``sh:class`` and ``sh:targetClass``
read is the data graph's (SHACL 3.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import Node

from csfkg.io.patient_files import rdflib_reading
from csfkg.model.errors import CsfkgError
from csfkg.validation.compiled import template_pieces
from csfkg.validation.compiler import TARGETS, CompiledCheck, IllFormedShapeError, compile_what_can_be
from csfkg.validation.report import sparql_literal_comparison

__all__ = ["ENGINES", "GeneralReport", "ShapesRefused", "validate_data"]

ENGINES = ("compiled", "pyshacl")


class ShapesRefused(CsfkgError):
    """The shapes graph is not valid SHACL (pySHACL refuses it): no report is made."""


@dataclass
class GeneralReport:
    """A standard report graph, and which validator took which shapes."""

    graph: Graph
    conforms: bool
    results: int
    violations: int
    compiled_shapes: int = 0
    fallback_shapes: dict[str, str] = field(default_factory=dict)
    """Shapes pySHACL validated, each with why the compiler left it."""


def validate_data(data: Graph, shapes: Graph, engine: str = "compiled") -> GeneralReport:
    """Validate ``data`` against ``shapes``; see the module's docstring.

    Raises:
        ShapesRefused: the shapes graph is not valid SHACL.
    """
    report = Graph()
    report.bind("sh", SH)
    node = BNode()
    report.add((node, RDF.type, SH.ValidationReport))
    compiled_shapes = 0
    left: dict[Node, str] = {}
    if engine == "compiled":
        try:
            checks, left = compile_what_can_be(shapes)
        except IllFormedShapeError as error:
            raise ShapesRefused(f"The shapes are not valid SHACL: {error}") from None
        compiled_shapes = len({c.shape_node for c in checks})
        for result in _compiled_results(data, shapes, checks):
            report.add((node, SH.result, result.write(report, shapes)))
    else:
        left = {shape: "--engine pyshacl" for shape in _shapes(shapes)}
    if left:
        _pyshacl_results(data, _without_targets(shapes, set(left)), report, node)
    results = list(report.objects(node, SH.result))
    violations = sum(1 for r in results if (r, SH.resultSeverity, SH.Violation) in report)
    report.add((node, SH.conforms, Literal(not results)))
    return GeneralReport(
        graph=report,
        conforms=not results,
        results=len(results),
        violations=violations,
        compiled_shapes=compiled_shapes,
        fallback_shapes={str(s): reason for s, reason in left.items()},
    )


def _shapes(shapes: Graph) -> set[Node]:
    found: set[Node] = set()
    for kind in (SH.NodeShape, SH.PropertyShape):
        found.update(shapes.subjects(RDF.type, kind))
    for target in TARGETS:
        found.update(shapes.subjects(target, None))
    return found


def _without_targets(shapes: Graph, left: set[Node]) -> Graph:
    """A copy of ``shapes`` in which only the shapes of ``left`` have targets."""
    copy = Graph()
    for prefix, namespace in shapes.namespaces():
        copy.bind(prefix, namespace)
    classes = (RDFS.Class, OWL.Class)
    for s, p, o in shapes:
        if s not in left and s in _targeted(shapes) and (p in TARGETS or (p == RDF.type and o in classes)):
            continue
        copy.add((s, p, o))
    return copy


def _targeted(shapes: Graph) -> set[Node]:
    found = {s for target in TARGETS for s in shapes.subjects(target, None)}
    shape_types = (SH.NodeShape, SH.PropertyShape)
    for cls in (RDFS.Class, OWL.Class):
        found.update(
            s for s in shapes.subjects(RDF.type, cls) if any((s, RDF.type, t) in shapes for t in shape_types)
        )
    return found


@dataclass(frozen=True)
class _Result:
    focus: Node
    value: Node | None
    path: Node | None
    shape: Node
    component: URIRef
    severity: URIRef
    message: str
    constraint: Node | None

    def write(self, report: Graph, shapes: Graph) -> BNode:
        node = BNode()
        report.add((node, RDF.type, SH.ValidationResult))
        report.add((node, SH.focusNode, self.focus))
        if self.value is not None:
            report.add((node, SH.value, self.value))
        if self.path is not None:
            report.add((node, SH.resultPath, self.path))
            _copy_path(self.path, shapes, report)
        report.add((node, SH.sourceShape, self.shape))
        report.add((node, SH.sourceConstraintComponent, self.component))
        report.add((node, SH.resultSeverity, self.severity))
        report.add((node, SH.resultMessage, Literal(self.message)))
        if self.constraint is not None:
            report.add((node, SH.sourceConstraint, self.constraint))
        return node


def _copy_closure(node: Node, source: Graph, target: Graph) -> None:
    """The triples that describe a blank node (a path, a list), followed through blank nodes."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if not isinstance(current, BNode) or current in seen:
            continue
        seen.add(current)
        for s, p, o in source.triples((current, None, None)):
            target.add((s, p, o))
            stack.append(o)


PATH_OPERATORS = (SH.inversePath, SH.alternativePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath)


def _copy_path(node: Node, shapes: Graph, report: Graph) -> None:
    """A SHACL path's triples, as the validator read the path: a list as a sequence (its
    members' paths), else its one operator; nothing else the node carries."""
    if not isinstance(node, BNode):
        return
    if (node, RDF.first, None) in shapes:
        current: Node = node
        while current != RDF.nil and isinstance(current, BNode):
            first, rest = shapes.value(current, RDF.first), shapes.value(current, RDF.rest)
            if first is None or rest is None:
                return
            report.add((current, RDF.first, first))
            report.add((current, RDF.rest, rest))
            _copy_path(first, shapes, report)
            current = rest
        return
    for operator in PATH_OPERATORS:
        inner = shapes.value(node, operator)
        if inner is not None:
            report.add((node, operator, inner))
            if operator == SH.alternativePath:
                _copy_path(inner, shapes, report)  # the list of alternatives, each a path
            else:
                _copy_path(inner, shapes, report)
            return


def term_of(n3: str) -> Node:
    """A shape's node from :attr:`CompiledCheck.shape_node` (its N-Triples form)."""
    return BNode(n3[2:]) if n3.startswith("_:") else URIRef(n3[1:-1])


def _compiled_results(data: Graph, shapes: Graph, checks: tuple[CompiledCheck, ...]) -> list[_Result]:
    """Every reported result of the compiled checks over ``data``: a check of a shape that
    ``sh:node`` refers to runs (another check requires it) but is not reported."""
    from csfkg.stores import OxigraphStore

    store = OxigraphStore()
    store.add_graph(data)
    original = _Originals(data)
    parts: dict[str, int] = {}
    for check in checks:
        parts[check.constraint] = parts.get(check.constraint, 0) + 1
    found: set[str] = set()
    seen: set[tuple[Any, ...]] = set()
    results: list[_Result] = []

    def run(selected: list[CompiledCheck]) -> None:
        for check in selected:
            if any(_clear(store, gate) for gate in check.gates):
                continue
            for row in store.store.query(check.query):
                found.add(check.constraint)
                if check.detail:
                    continue
                with rdflib_reading():  # each literal as Oxigraph holds it, not rewritten
                    result = _result(check, row, store, shapes, original)
                key = (check.constraint, result.focus, result.value)
                if parts[check.constraint] > 1:
                    if key in seen:
                        continue
                    seen.add(key)
                results.append(result)

    run([c for c in checks if not c.requires])
    run([c for c in checks if c.requires and c.requires in found])
    return results


def _clear(store: Any, gate: str) -> bool:
    row = next(iter(store.store.query(gate)))
    return row["clear"] is not None and row["clear"].value == "true"


class _Originals:
    """Each literal as the data wrote it: Oxigraph holds a valid number or boolean in canonical
    form ("4.0"^^xsd:decimal as "4"), and a report names the data's own term."""

    def __init__(self, data: Graph) -> None:
        self.by_type: dict[tuple[str, str], list[Literal]] = {}
        for literal in set(data.objects()) | set(data.subjects()):
            if isinstance(literal, Literal):
                key = (str(literal.datatype or ""), literal.language or "")
                self.by_type.setdefault(key, []).append(literal)

    def __call__(self, term: Node | None) -> Node | None:
        if not isinstance(term, Literal):
            return term
        candidates = self.by_type.get((str(term.datatype or ""), term.language or ""), [])
        if term in candidates:
            return term
        for literal in candidates:
            if literal.value is not None and term.value is not None and literal.eq(term):
                return literal
        return term


def _result(check: CompiledCheck, row: Any, store: Any, shapes: Graph, original: _Originals) -> _Result:
    focus = original(store.from_ox(row["this"]))
    value = original(store.from_ox(row["value"]))
    shape = term_of(check.shape_node)
    path = shapes.value(shape, SH.path)
    message = check.message
    if check.component == "SPARQLConstraintComponent":
        if value is None and check.value_is_focus:
            value = focus
        bindings = {v: row[v].value for v in check.variables if row[v] is not None}
        bindings["this"] = row["this"].value
        if check.path_variable and row["path"] is not None:
            bindings["path"] = row["path"].value
        if value is not None:
            bindings["value"] = str(value)
        message = "".join(bindings.get(n, t) if n else t for t, n in template_pieces(message))
    if check.path_variable and row["path"] is not None:  # a SPARQL constraint's ?path, sh:closed's
        path = store.from_ox(row["path"])
    constraint = None if not check.constraint_node else term_of(check.constraint_node)
    return _Result(
        focus=focus,
        value=value,
        path=path,
        shape=shape,
        component=SH[check.component],
        severity=SH[check.severity],
        message=message,
        constraint=constraint,
    )


def _pyshacl_results(data: Graph, shapes: Graph, report: Graph, node: BNode) -> None:
    """pySHACL's results for ``shapes``, copied into ``report`` under ``node``.

    Raises:
        ShapesRefused: pySHACL finds the shapes graph not valid SHACL.
    """
    from pyshacl import validate
    from pyshacl.errors import ReportableRuntimeError

    try:
        with sparql_literal_comparison():
            conforms, graph, text = validate(
                data,
                shacl_graph=shapes,
                inference="none",
                advanced=True,
                allow_warnings=True,
                abort_on_first=False,
            )
    except ReportableRuntimeError as error:
        raise ShapesRefused(f"The shapes are not valid SHACL: {' '.join(str(error).split())[:300]}") from None
    except NotImplementedError as error:
        raise ShapesRefused(f"The shapes use what no validator here supports: {error}") from None
    if not isinstance(graph, Graph):
        # pySHACL returns a failure in place of the report (a shapes graph it refuses)
        raise ShapesRefused(f"The shapes are not valid SHACL: {' '.join(str(text).split())[:300]}")
    for pyshacl_report in graph.subjects(RDF.type, SH.ValidationReport):
        for result in graph.objects(pyshacl_report, SH.result):
            report.add((node, SH.result, result))
            _copy_closure(result, graph, report)
