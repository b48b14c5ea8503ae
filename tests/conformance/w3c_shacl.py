"""A harness for the W3C SHACL test suite (vendored in ``w3c-shacl/``, see its SOURCE.md).

It is a plain module: load the cases, run any engine over them, compare the reports, summarise.

* :func:`load_cases` reads ``manifest.ttl``, follows ``mf:include`` and returns one :class:`Case` per
  ``sht:Validate`` entry (``mf:entries``). Every file is parsed as Turtle with ``publicID`` = the file's
  ``file:`` URI, so ``<>`` and the relative IRIs resolve as the manifests expect. When the data graph
  (or shapes graph) is the test file itself, the case's graph *is* the parse the expected report was
  taken from, so a blank node named in the expected report (``sh:focusNode _:b30507``) is the very
  node of the data graph; when data and shapes are the same file they are the same :class:`Graph`.
* :func:`run_case` gives an engine ``(data, shapes) -> report graph`` copies of the case's graphs
  (blank node ids kept, so the case can be run again with another engine) and judges the outcome.
* :func:`compare` is the comparison of the suite's "full compliance" (SHACL 1.0 section 3.6 report
  vocabulary), described in its docstring.
* :func:`pyshacl_engine` is pySHACL behind that interface; :func:`summary` counts outcomes.

What the harness does not do: it follows no ``owl:imports`` (no network; the two tests that have one,
``sparql/node/prefixes-001`` and ``sparql/component/validator-001``, import a node of their own
file and the DASH vocabulary, which no expected result depends on), and it performs no entailment:
each engine gets the graphs as written.
"""

from __future__ import annotations

import enum
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal as Sentinel
from urllib.parse import unquote, urlparse

import pyshacl
from pyshacl.errors import ReportableRuntimeError, ValidationFailure
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic, to_canonical_graph
from rdflib.term import Node

SH = Namespace("http://www.w3.org/ns/shacl#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")

FAILURE = "failure"
"""The expected outcome of a test whose ``mf:result`` is ``sht:Failure``: the engine must refuse."""

Expected = Graph | Sentinel["failure"]
Engine = Callable[[Graph, Graph], Graph]

#: The properties of a validation result that are compared (each as a set of values). Left out:
#: sh:resultMessage, sh:detail, sh:sourceConstraint (the suite's page lists sh:sourceConstraint among
#: the compared predicates; this harness, like SHACL 1.0 section 3.6's definition of a result's
#: identity used by the project, ignores it), and any other triple.
RESULT_PROPERTIES = (
    SH.focusNode,
    SH.resultPath,
    SH.value,
    SH.sourceShape,
    SH.sourceConstraintComponent,
    SH.resultSeverity,
)
# Properties whose blank-node values are nodes of the data or shapes graph (identity matters), as
# opposed to sh:resultPath, whose blank-node value is a path expression (only its structure matters).
_NODE_ROLES = (SH.focusNode, SH.value, SH.sourceShape)
_SHORT = {
    SH.focusNode: "focus",
    SH.resultPath: "path",
    SH.value: "value",
    SH.sourceShape: "shape",
    SH.sourceConstraintComponent: "component",
    SH.resultSeverity: "severity",
}


class Refused(Exception):
    """Raised by an engine that refuses to validate (an ill-formed or unsupported shapes graph)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Case:
    """One ``sht:Validate`` entry of the suite."""

    name: str  # the entry's IRI relative to the suite's root folder, e.g. ``core/node/class-001``
    manifest: Path  # the file holding the entry (in this suite, the test file itself)
    data_graph: Graph
    shapes_graph: Graph  # the same object as data_graph when both name the same file
    expected: Expected  # the expected sh:ValidationReport's triples, or FAILURE
    status: str  # local name of mf:status: "approved", "proposed" or "rejected"
    label: str | None = None
    data_file: Path | None = None
    shapes_file: Path | None = None

    @property
    def suite(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def expects_failure(self) -> bool:
        return isinstance(self.expected, str)


class Verdict(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    REFUSED = "REFUSED"
    ERROR = "ERROR"


@dataclass(frozen=True)
class Outcome:
    name: str
    verdict: Verdict
    detail: str | None = None  # the difference (FAIL), the reason (REFUSED, or PASS by refusal), the error
    status: str = "approved"

    @property
    def suite(self) -> str:
        return self.name.split("/", 1)[0]


# --------------------------------------------------------------------------------------------- loading


def _parse(path: Path) -> Graph:
    """A file as written: each literal keeps its lexical form (rdflib would rewrite
    ``"1"^^xsd:boolean`` into ``"true"``, and core/property/uniqueLang-002 tests exactly that),
    as ``csfkg validate`` reads a file."""
    import logging

    import rdflib

    graph = Graph()
    normalize = rdflib.NORMALIZE_LITERALS
    logger = logging.getLogger("rdflib")
    level = logger.level
    rdflib.NORMALIZE_LITERALS = False
    logger.setLevel(logging.ERROR)  # ill-typed literals on purpose ("aldi"^^xsd:integer)
    try:
        with warnings.catch_warnings():
            # core/property/or-datatypes-001 holds "none"^^xsd:boolean on purpose (an ill-typed literal).
            warnings.filterwarnings("ignore", message="Parsing weird boolean", category=UserWarning)
            graph.parse(path, format="turtle", publicID=path.as_uri())
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
        logger.setLevel(level)
    return graph


def _file_of(iri: Node) -> Path:
    parsed = urlparse(str(iri))
    if not isinstance(iri, URIRef) or parsed.scheme != "file":
        raise ValueError(f"the suite names {iri!r}, which is not a file: IRI")
    return Path(unquote(parsed.path))


def _closure(graph: Graph, start: Node) -> Graph:
    """The triples reachable from ``start``: its own, and recursively those of every blank node object."""
    out = Graph()
    for prefix, namespace in graph.namespaces():
        out.bind(prefix, namespace, override=True, replace=True)
    seen: set[Node] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in graph.triples((node, None, None)):
            out.add(triple)
            if isinstance(triple[2], BNode):
                stack.append(triple[2])
    return out


def load_cases(root: Path) -> list[Case]:
    """Every ``sht:Validate`` entry reachable from ``root/manifest.ttl`` (or from ``root``, a manifest file).

    Manifests are visited depth first, ``mf:include`` in IRI order, entries in ``mf:entries`` order.
    A test type other than ``sht:Validate`` raises ``ValueError`` (the suite has none)."""
    root = Path(root).resolve()
    top = root / "manifest.ttl" if root.is_dir() else root
    cases: list[Case] = []
    _walk(top, top.parent, cases, set())
    return cases


def _walk(manifest: Path, base: Path, cases: list[Case], seen: set[Path]) -> None:
    if manifest in seen:
        return
    seen.add(manifest)
    graph = _parse(manifest)
    here = URIRef(manifest.as_uri())
    if (here, RDF.type, MF.Manifest) not in graph:
        raise ValueError(f"{manifest} does not describe <> as an mf:Manifest")
    for include in sorted(graph.objects(here, MF.include)):
        _walk(_file_of(include), base, cases, seen)
    entries: list[Node] = []
    for head in graph.objects(here, MF.entries):
        entries.extend(Collection(graph, head))
    for index, entry in enumerate(entries):
        # Each entry gets its own parse of the file, so cases never share a graph.
        cases.append(_case(entry, manifest, graph if index == 0 else _parse(manifest), base))


def _case(entry: Node, manifest: Path, graph: Graph, base: Path) -> Case:
    if (entry, RDF.type, SHT.Validate) not in graph:
        types = ", ".join(sorted(str(t) for t in graph.objects(entry, RDF.type))) or "none"
        raise ValueError(f"{entry} in {manifest} is not an sht:Validate test (types: {types})")
    here = URIRef(manifest.as_uri())
    action = graph.value(entry, MF.action)
    data_iri = graph.value(action, SHT.dataGraph)
    shapes_iri = graph.value(action, SHT.shapesGraph)
    if data_iri is None or shapes_iri is None:
        raise ValueError(f"{entry} lacks sht:dataGraph or sht:shapesGraph")
    data = graph if data_iri == here else _parse(_file_of(data_iri))
    if shapes_iri == data_iri:
        shapes = data
    else:
        shapes = graph if shapes_iri == here else _parse(_file_of(shapes_iri))
    result = graph.value(entry, MF.result)
    if result is None:
        raise ValueError(f"{entry} has no mf:result")
    expected: Expected
    if result == SHT.Failure:
        expected = FAILURE
    elif (result, RDF.type, SH.ValidationReport) in graph:
        expected = _closure(graph, result)
    else:
        raise ValueError(f"the mf:result of {entry} is neither sht:Failure nor an sh:ValidationReport")
    status = graph.value(entry, MF.status)
    label = graph.value(entry, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
    return Case(
        name=_file_of(entry).relative_to(base).as_posix(),
        manifest=manifest,
        data_graph=data,
        shapes_graph=shapes,
        expected=expected,
        status=str(status).rsplit("#", 1)[-1] if status is not None else "none",
        label=str(label) if label is not None else None,
        data_file=_file_of(data_iri),
        shapes_file=_file_of(shapes_iri),
    )


# ------------------------------------------------------------------------------------------- comparing


class _Malformed(Exception):
    pass


@dataclass
class _Result:
    node: BNode  # fresh node standing for the result
    graph: Graph  # the result's compared triples, its cloned path, and its blank nodes' descriptions
    signature: frozenset  # the canonical form of ``graph`` (equal iff the graphs are isomorphic)


@dataclass
class _Report:
    conforms: bool
    results: list[_Result]
    anchored: bool  # some result names a blank node of the data or shapes graph (focus, value, shape)


def _about(node: Node, sources: list[Graph]) -> Iterator[tuple[Node, Node, Node]]:
    """The triples about ``node`` (as subject) from the first of ``sources`` that has any.

    One source, not their union: pySHACL copies a blank path into its report keeping the head's id
    but giving the list's inner nodes new ids, so the union of report and shapes graph would show a
    list whose head has two ``rdf:rest``."""
    for graph in sources:
        if (node, None, None) in graph:
            yield from graph.triples((node, None, None))
            return


def _describe(node: BNode, sources: list[Graph], out: Graph) -> None:
    """Copy the blank node's concise bounded description (its triples, recursively through blank node
    objects; each node's triples from the first source that has any), keeping the ids, into ``out``."""
    stack: list[Node] = [node]
    seen: set[Node] = set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for triple in _about(current, sources):
            out.add(triple)
            if isinstance(triple[2], BNode):
                stack.append(triple[2])


def _clone(node: BNode, sources: list[Graph], out: Graph) -> BNode:
    """Copy the blank node's concise bounded description into ``out`` under fresh blank nodes, as a
    tree: a blank node met twice is copied twice, so ``( _:i _:i )`` with ``_:i sh:inversePath ex:p``
    (core/path/path-complex-002) copies like ``( [ sh:inversePath ex:p ] [ sh:inversePath ex:p ] )``.
    A cycle (no well-formed path has one) is closed on the copy of the node it returns to."""

    def copy(current: BNode, ancestors: dict[Node, BNode]) -> BNode:
        if current in ancestors:
            return ancestors[current]
        new = BNode()
        inner = {**ancestors, current: new}
        for _, predicate, obj in _about(current, sources):
            out.add((new, predicate, copy(obj, inner) if isinstance(obj, BNode) else obj))
        return new

    return copy(node, {})


def _read_report(report: Graph, context: list[Graph], side: str) -> _Report:
    reports = set(report.subjects(RDF.type, SH.ValidationReport))
    if len(reports) != 1:
        raise _Malformed(f"the {side} report has {len(reports)} sh:ValidationReport nodes, not 1")
    (top,) = reports
    conforms = [value.toPython() for value in report.objects(top, SH.conforms) if isinstance(value, Literal)]
    if len(conforms) != 1 or not isinstance(conforms[0], bool):
        raise _Malformed(f"the {side} report has no single boolean sh:conforms (found {conforms!r})")
    # A path is what the report says it is (else what the shapes graph says); a focus node, value or
    # shape is a node of the data or shapes graph (else, e.g. an expected report whose data graph is
    # another file, described by the report itself).
    path_sources = [report, *context]
    node_sources = [*context, report]
    results: list[_Result] = []
    anchored = False
    for result in report.objects(top, SH.result):
        graph = Graph()
        node = BNode()
        if (result, RDF.type, SH.ValidationResult) in report:
            graph.add((node, RDF.type, SH.ValidationResult))
        for prop in RESULT_PROPERTIES:
            for value in report.objects(result, prop):
                if isinstance(value, BNode) and prop == SH.resultPath:
                    value = _clone(value, path_sources, graph)
                elif isinstance(value, BNode):
                    anchored = True
                    _describe(value, node_sources, graph)
                graph.add((node, prop, value))
        results.append(_Result(node, graph, frozenset(to_canonical_graph(graph))))
    return _Report(bool(conforms[0]), results, anchored)


def compare(expected: Graph, actual_report: Graph, *, context: Iterable[Graph] = ()) -> str | None:
    """None if ``actual_report`` passes against ``expected`` (the suite's full compliance), else one
    sentence saying the first difference found.

    Each report must have exactly one ``sh:ValidationReport`` node with one boolean ``sh:conforms``;
    the two values must be equal. Its results are the values of ``sh:result`` of that node (nested
    ``sh:detail`` results are not looked at). Each result is reduced to a small graph: a fresh blank
    node for the result, ``rdf:type sh:ValidationResult`` if the report says so, and its values of
    :data:`RESULT_PROPERTIES` (messages, ``sh:sourceConstraint``, ``sh:detail`` and anything else are
    dropped). Blank nodes among those values are treated by role:

    * ``sh:resultPath``: the path's structure (``[ sh:inversePath ex:p ]``, lists, ...) is copied
      as a tree under fresh blank nodes (see :func:`_clone`), read from the report or else from
      ``context``, so a path node shared between results, with the shape's ``sh:path`` or within the
      path itself compares like unshared copies;
    * ``sh:focusNode``, ``sh:value``, ``sh:sourceShape``: these are nodes of the data or shapes
      graph, so the blank node is kept and its concise bounded description (its triples, recursively
      through blank objects) is added, read from ``context`` or else from the report.

    (Each blank node's triples come from the first graph that has triples about it, never from a
    union: see :func:`_about`.)

    Step 1: the multisets of results are compared, two results being equal iff their small graphs are
    isomorphic (``rdflib.compare.to_canonical_graph``); the first missing or unexpected result is
    reported. Step 2, only when some result names a blank node in those three roles: the union of all
    result graphs together with ``context`` (the data and shapes graphs) must be isomorphic on the two
    sides (``rdflib.compare.isomorphic``). This checks what step 1 cannot, that the two reports name
    the *same* blank nodes of the data graph (``_:b1`` vs ``_:b2`` with identical, or no, triples of
    their own), up to automorphisms of the data and shapes graphs. It relies on the engine reporting
    the data and shapes graphs' own blank nodes (same ids; pySHACL does). Without ``context``, step 2
    compares the results' graphs alone.
    """
    context = list(context)
    try:
        want = _read_report(expected, context, "expected")
        got = _read_report(actual_report, context, "actual")
    except _Malformed as malformed:
        return str(malformed)
    if want.conforms != got.conforms:
        return f"sh:conforms differs: expected {_bool(want.conforms)}, got {_bool(got.conforms)}"
    wanted = Counter(result.signature for result in want.results)
    found = Counter(result.signature for result in got.results)
    missing = wanted - found
    extra = found - wanted
    counts = f"expected {len(want.results)} results, got {len(got.results)}"
    if missing:
        first = next(r for r in want.results if r.signature in missing)
        also = f"; it has {sum(extra.values())} unexpected" if extra else ""
        return f"expected result {_render_result(first, expected)} is missing ({counts}{also})"
    if extra:
        first = next(r for r in got.results if r.signature in extra)
        return f"unexpected result {_render_result(first, expected)} ({counts})"
    if want.anchored or got.anchored:
        sides = []
        for report in (want, got):
            union = Graph()
            for graph in context:
                union += graph
            for result in report.results:
                union += result.graph
            sides.append(union)
        if not isomorphic(sides[0], sides[1]):
            return (
                "the results match one by one up to blank node labels, but the blank nodes they name "
                "(focus node, value or source shape) are not the same nodes of the data and shapes graphs"
            )
    return None


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _render(node: Node, graph: Graph, names: Graph, depth: int = 0) -> str:
    if isinstance(node, BNode):
        path = _render_path(node, graph, names, depth=0)
        if path is not None:
            return path
        if depth > 2:
            return "[...]"
        pairs = [
            f"{_render(p, graph, names, depth + 1)} {_render(o, graph, names, depth + 1)}"
            for _, p, o in graph.triples((node, None, None))
        ]
        return "[" + "; ".join(pairs[:3]) + ("; ..." if len(pairs) > 3 else "") + "]" if pairs else "[]"
    return node.n3(names.namespace_manager)


_PATH_SUFFIX = {SH.zeroOrMorePath: "*", SH.oneOrMorePath: "+", SH.zeroOrOnePath: "?"}


def _render_path(node: Node, graph: Graph, names: Graph, depth: int) -> str | None:
    """A SPARQL-like rendering of a SHACL path, or None if ``node`` is not a path structure."""
    if not isinstance(node, BNode):
        return node.n3(names.namespace_manager)
    if depth > 20:
        return "..."
    if (node, RDF.first, None) in graph:
        parts = [_render_path(item, graph, names, depth + 1) or "?" for item in Collection(graph, node)]
        return "(" + " / ".join(parts) + ")"
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return "^" + (_render_path(inverse, graph, names, depth + 1) or "?")
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        parts = [
            _render_path(item, graph, names, depth + 1) or "?" for item in Collection(graph, alternatives)
        ]
        return "(" + " | ".join(parts) + ")"
    for prop, suffix in _PATH_SUFFIX.items():
        inner = graph.value(node, prop)
        if inner is not None:
            return (_render_path(inner, graph, names, depth + 1) or "?") + suffix
    return None


def _render_result(result: _Result, names: Graph) -> str:
    parts = []
    for prop in RESULT_PROPERTIES:
        values = sorted(
            _render(value, result.graph, names) for value in result.graph.objects(result.node, prop)
        )
        if values:
            parts.append(f"{_SHORT[prop]} {', '.join(values)}")
    return "(" + "; ".join(parts) + ")"


# --------------------------------------------------------------------------------------------- running


def _copy(graph: Graph) -> Graph:
    out = Graph()
    for prefix, namespace in graph.namespaces():
        out.bind(prefix, namespace, override=True, replace=True)
    out += graph
    return out


def run_case(case: Case, engine: Engine) -> Outcome:
    """Run ``engine`` on copies of the case's graphs (blank node ids kept; one copy when data and shapes
    are the same graph) and judge: a report compared with :func:`compare` (PASS or FAIL), a
    :class:`Refused` (PASS for an ``sht:Failure`` test, else REFUSED), any other exception ERROR."""
    data = _copy(case.data_graph)
    shapes = data if case.shapes_graph is case.data_graph else _copy(case.shapes_graph)

    def outcome(verdict: Verdict, detail: str | None) -> Outcome:
        return Outcome(case.name, verdict, detail, case.status)

    try:
        report = engine(data, shapes)
    except Refused as refusal:
        if case.expects_failure:
            return outcome(Verdict.PASS, f"refused as required: {refusal.reason}")
        return outcome(Verdict.REFUSED, refusal.reason)
    except Exception as error:
        return outcome(Verdict.ERROR, f"{type(error).__name__}: {error}")
    if isinstance(case.expected, str):
        return outcome(
            Verdict.FAIL, "the test requires a failure (sht:Failure), the engine returned a report"
        )
    difference = compare(case.expected, report, context=(data, shapes))
    if difference is None:
        return outcome(Verdict.PASS, None)
    return outcome(Verdict.FAIL, difference)


def run_suite(cases: Iterable[Case], engine: Engine) -> list[Outcome]:
    return [run_case(case, engine) for case in cases]


def pyshacl_engine(data: Graph, shapes: Graph) -> Graph:
    """pySHACL's report graph: no inference, ``advanced=True`` (SHACL-SPARQL constraints and custom
    components, needed by the ``sparql`` folder), no ``owl:imports``, all results. pySHACL's own
    errors about the shapes graph (``ReportableRuntimeError`` and its subclasses ``ShapeLoadError``,
    ``ConstraintLoadError``, ...) are a refusal, and so is the ``ValidationFailure`` that
    ``pyshacl.validate`` returns in place of a report graph (it catches it; e.g. a SPARQL constraint
    with MINUS). Anything else pySHACL raises (e.g. ``NotImplementedError``) propagates."""
    try:
        _conforms, report, _text = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            advanced=True,
            abort_on_first=False,
            allow_infos=False,
            allow_warnings=False,
            do_owl_imports=False,
            meta_shacl=False,
        )
    except ReportableRuntimeError as error:
        raise Refused(f"pySHACL {type(error).__name__}: {error}") from error
    if isinstance(report, ValidationFailure):  # pySHACL returns, rather than raises, a validation failure
        raise Refused(f"pySHACL ValidationFailure: {report}")
    return report


def summary(outcomes: Iterable[Outcome]) -> str:
    """Counts of PASS/FAIL/REFUSED/ERROR per suite (core, sparql), then one line per outcome that is not
    a PASS, with its detail."""
    outcomes = list(outcomes)
    lines = []
    for suite in sorted({outcome.suite for outcome in outcomes}):
        mine = [outcome for outcome in outcomes if outcome.suite == suite]
        counts = Counter(outcome.verdict for outcome in mine)
        tally = ", ".join(f"{counts[verdict]} {verdict.value}" for verdict in Verdict)
        lines.append(f"{suite}: {tally} (of {len(mine)})")
    for outcome in outcomes:
        if outcome.verdict is not Verdict.PASS:
            lines.append(f"  {outcome.verdict.value} {outcome.name} [{outcome.status}]: {outcome.detail}")
    return "\n".join(lines)
