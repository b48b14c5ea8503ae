"""Checks of the W3C SHACL test-suite harness itself (w3c_shacl.py): that it loads the vendored suite
completely, that its comparison sees real differences and ignores blank node labels, that it judges
engine outcomes as documented, and what pySHACL scores through it.

Time: loading the suite takes about 0.3 s, pySHACL over all 120 cases about 2 s (2 cores)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rdflib import RDF, BNode, Graph, Literal, URIRef
from w3c_shacl import (
    FAILURE,
    RESULT_PROPERTIES,
    SH,
    Case,
    Outcome,
    Refused,
    Verdict,
    compare,
    load_cases,
    pyshacl_engine,
    run_case,
    run_suite,
    summary,
)

SUITE = Path(__file__).resolve().parent / "w3c-shacl"
VALIDATE = re.compile(r"<([^<>\s]*)>\s+(?:a|rdf:type)\s+sht:Validate\b")
INCLUDE = re.compile(r"mf:include\s+<([^<>\s]*)>")


# ------------------------------------------------------------------ counting without the loader


def _validate_ids(path: Path) -> list[str]:
    """The names of the sht:Validate entries of one file, read with a regular expression."""
    folder = path.parent.relative_to(SUITE).as_posix()
    return [f"{folder}/{local}" for local in VALIDATE.findall(path.read_text(encoding="utf-8"))]


def _reachable(manifest: Path, seen: set[Path] | None = None) -> set[Path]:
    """The files reachable from a manifest through mf:include, read with a regular expression."""
    seen = set() if seen is None else seen
    if manifest not in seen:
        seen.add(manifest)
        for target in INCLUDE.findall(manifest.read_text(encoding="utf-8")):
            _reachable((manifest.parent / target).resolve(), seen)
    return seen


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(SUITE)


@pytest.fixture(scope="module")
def by_name(cases: list[Case]) -> dict[str, Case]:
    return {case.name: case for case in cases}


@pytest.fixture(scope="module")
def pyshacl_outcomes(cases: list[Case]) -> list[Outcome]:
    return run_suite(cases, pyshacl_engine)


def test_the_licence_note_sits_beside_the_copy() -> None:
    note = (SUITE / "SOURCE.md").read_text(encoding="utf-8")
    assert "ff9edb9c85375498b49391fb65ef3ff6525ebe08" in note
    assert "W3C" in note and "licen" in note.lower()


def test_the_loader_finds_every_reachable_test_and_only_those(cases: list[Case]) -> None:
    every = {suite: [] for suite in ("core", "sparql")}
    for path in sorted(SUITE.glob("*/**/*.ttl")):
        every[path.relative_to(SUITE).parts[0]].extend(_validate_ids(path))
    # What the files hold: the project's issue said sparql has 22, the files hold 23 ...
    assert {suite: len(ids) for suite, ids in every.items()} == {"core": 98, "sparql": 23}
    reachable = _reachable(SUITE / "manifest.ttl")
    reached = sorted(name for path in reachable for name in _validate_ids(path))
    # ... because sparql/component/nodeValidator-001.ttl (the suite's one mf:status sht:proposed
    # test) is included by no manifest; the W3C runners, like this loader, never see it.
    orphans = sorted(set(every["core"] + every["sparql"]) - set(reached))
    assert orphans == ["sparql/component/nodeValidator-001"]
    assert "sht:proposed" in (SUITE / "sparql/component/nodeValidator-001.ttl").read_text(encoding="utf-8")

    names = [case.name for case in cases]
    assert len(names) == len(set(names)) == 120
    assert sorted(names) == reached
    assert Counter(case.suite for case in cases) == {"core": 98, "sparql": 22}


def test_statuses_failures_and_graph_identity(cases: list[Case], by_name: dict[str, Case]) -> None:
    assert Counter(case.status for case in cases) == {"approved": 120}
    raw = "".join(path.read_text(encoding="utf-8") for path in SUITE.rglob("*.ttl"))
    assert "sht:rejected" not in raw

    failures = sorted(case.name for case in cases if case.expects_failure)
    files_with_failure = sorted(
        name
        for path in SUITE.rglob("*.ttl")
        if re.search(r"mf:result\s+sht:Failure", path.read_text(encoding="utf-8"))
        for name in _validate_ids(path)
    )
    assert failures == files_with_failure
    assert len(failures) == 7 and all(name.startswith("sparql/pre-binding/") for name in failures)
    assert all(case.expected == FAILURE for case in cases if case.expects_failure)

    # <> resolves to the test file: data and shapes are one graph, and it holds the entry itself.
    class_001 = by_name["core/node/class-001"]
    assert class_001.data_graph is class_001.shapes_graph
    assert (URIRef((SUITE / "core/node/class-001").as_uri()), RDF.type, None) in class_001.data_graph
    assert isinstance(class_001.expected, Graph)
    assert len(list(class_001.expected.objects(None, SH.result))) == 2
    # Separate files: <xone-duplicate-data.ttl> and <xone-duplicate-shapes.ttl>.
    duplicate = by_name["core/node/xone-duplicate"]
    assert duplicate.data_graph is not duplicate.shapes_graph
    assert (None, RDF.type, SH.NodeShape) not in duplicate.data_graph
    assert (None, RDF.type, SH.NodeShape) in duplicate.shapes_graph
    # The expected report of a test that names blank nodes of its own file shares them with the data.
    datatype = by_name["core/node/datatype-001"]
    blank_focus = [node for node in datatype.expected.objects(None, SH.focusNode) if isinstance(node, BNode)]
    assert len(blank_focus) == 1 and (blank_focus[0], RDF.type, None) in datatype.data_graph


def test_pyshacl_through_the_harness(pyshacl_outcomes: list[Outcome]) -> None:
    """pySHACL 0.40.1 (rdflib 7.6): core 97 PASS, 1 FAIL; sparql 21 PASS, 1 ERROR.

    * FAIL core/property/uniqueLang-002: pySHACL takes sh:uniqueLang "1"^^xsd:boolean for true; the
      suite says only "true" switches the constraint on (sh:conforms differs: expected true).
    * ERROR sparql/pre-binding/shapesGraph-001: pySHACL raises NotImplementedError for $shapesGraph.
    * The 7 sht:Failure tests PASS: pySHACL returns a ValidationFailure (MINUS, VALUES, SERVICE,
      nested SELECT, ... in a SPARQL constraint), which pyshacl_engine turns into Refused."""
    text = summary(pyshacl_outcomes)
    passed = Counter(outcome.suite for outcome in pyshacl_outcomes if outcome.verdict is Verdict.PASS)
    assert passed["core"] >= 97, text
    assert passed["sparql"] >= 21, text
    not_passing = {outcome.name for outcome in pyshacl_outcomes if outcome.verdict is not Verdict.PASS}
    assert not_passing <= {"core/property/uniqueLang-002", "sparql/pre-binding/shapesGraph-001"}, text
    refused_as_required = [o for o in pyshacl_outcomes if o.detail and o.detail.startswith("refused as")]
    assert len(refused_as_required) == 7 and all(o.verdict is Verdict.PASS for o in refused_as_required)
    assert text.splitlines()[0].startswith("core: ") and text.splitlines()[1].startswith("sparql: ")


# -------------------------------------------------------------------------------- comparing


def _copy(graph: Graph) -> Graph:
    out = Graph()
    out += graph
    return out


def _report_node(graph: Graph) -> BNode:
    (node,) = graph.subjects(RDF.type, SH.ValidationReport)
    return node


def _relabel(graph: Graph, keep: set = frozenset()) -> Graph:
    """The graph with every blank node (but those in ``keep``) renamed to a fresh one."""
    fresh: dict[BNode, BNode] = {}

    def rename(term):
        if isinstance(term, BNode) and term not in keep:
            return fresh.setdefault(term, BNode())
        return term

    out = Graph()
    for triple in graph:
        out.add(tuple(rename(term) for term in triple))
    return out


@pytest.fixture(scope="module")
def passing(by_name: dict[str, Case]) -> tuple[Case, Graph]:
    """core/property/class-001 (2 results, each with focus, path, value, shape, component, severity)
    and pySHACL's report for it, which passes."""
    case = by_name["core/property/class-001"]
    actual = pyshacl_engine(_copy(case.data_graph), _copy(case.shapes_graph))
    assert compare(case.expected, actual, context=[case.data_graph]) is None
    assert all(len(list(actual.objects(r, SH.resultPath))) == 1 for r in actual.objects(None, SH.result))
    return case, actual


def test_compare_sees_a_missing_result(passing: tuple[Case, Graph]) -> None:
    case, actual = passing
    expected = _copy(case.expected)
    report = _report_node(expected)
    dropped = next(iter(expected.objects(report, SH.result)))
    expected.remove((report, SH.result, dropped))
    expected.remove((dropped, None, None))
    difference = compare(expected, actual)
    assert difference is not None and difference.startswith("unexpected result (focus ")
    assert "expected 1 results, got 2" in difference
    reverse = compare(actual, expected)
    assert reverse is not None and "is missing" in reverse


def test_compare_counts_results_as_a_multiset(passing: tuple[Case, Graph]) -> None:
    case, actual = passing
    doubled = _copy(actual)
    report = _report_node(doubled)
    original = next(iter(doubled.objects(report, SH.result)))
    twin = BNode()
    doubled.add((report, SH.result, twin))
    for _, predicate, obj in list(doubled.triples((original, None, None))):
        doubled.add((twin, predicate, obj))
    difference = compare(case.expected, doubled)
    assert difference is not None and "expected 2 results, got 3" in difference


@pytest.mark.parametrize("prop", RESULT_PROPERTIES, ids=lambda p: p.split("#")[-1])
def test_compare_sees_each_changed_property(passing: tuple[Case, Graph], prop: URIRef) -> None:
    case, actual = passing
    expected = _copy(case.expected)
    result = next(iter(expected.objects(_report_node(expected), SH.result)))
    (old,) = expected.objects(result, prop)
    expected.remove((result, prop, None))
    expected.add((result, prop, URIRef("http://example.org/something-else")))
    difference = compare(expected, actual)
    assert difference is not None and "is missing" in difference and "something-else" in difference


def test_compare_sees_a_flipped_conforms(passing: tuple[Case, Graph]) -> None:
    case, actual = passing
    expected = _copy(case.expected)
    report = _report_node(expected)
    expected.set((report, SH.conforms, Literal(True)))
    assert compare(expected, actual) == "sh:conforms differs: expected true, got false"


def test_compare_sees_a_malformed_report(passing: tuple[Case, Graph]) -> None:
    case, actual = passing
    broken = _copy(actual)
    broken.remove((None, SH.conforms, None))
    assert "no single boolean sh:conforms" in compare(case.expected, broken)
    assert "0 sh:ValidationReport nodes" in compare(case.expected, Graph())


def test_compare_ignores_messages_source_constraint_and_details(passing: tuple[Case, Graph]) -> None:
    case, actual = passing
    noisy = _copy(actual)
    for result in list(noisy.objects(_report_node(noisy), SH.result)):
        noisy.add((result, SH.resultMessage, Literal("another wording", lang="en")))
        noisy.add((result, SH.sourceConstraint, URIRef("http://example.org/constraint")))
        noisy.add((result, SH.detail, BNode()))
    assert compare(case.expected, noisy) is None


def test_compare_ignores_blank_node_labels(passing: tuple[Case, Graph], by_name: dict[str, Case]) -> None:
    case, actual = passing
    assert compare(case.expected, _relabel(actual)) is None
    assert compare(_relabel(case.expected), actual) is None
    # Blank path expressions, core/path/path-complex-002: ( ^ex:p / ^ex:p ) written by the shapes
    # graph once as ( _:pinv _:pinv ) for ex:s1 and once with two nodes for ex:s2. pySHACL's report
    # shares one path node between the two results of each shape; the expected report has one copy
    # per result; relabelled or not, they compare equal.
    complex_002 = by_name["core/path/path-complex-002"]
    data, shapes = _copy(complex_002.data_graph), _copy(complex_002.shapes_graph)
    report = pyshacl_engine(data, shapes)
    assert (
        len(set(report.objects(None, SH.resultPath))) == 2 and len(set(report.objects(None, SH.result))) == 4
    )
    assert compare(complex_002.expected, report, context=[data, shapes]) is None
    assert compare(complex_002.expected, _relabel(report), context=[data, shapes]) is None
    # A report naming the shapes graph's own path nodes, without copying them, compares equal too:
    # the path is read from the shapes graph, and ( _:pinv _:pinv ) is copied as a tree.
    bare = Graph()
    for subject, predicate, obj in report:
        if predicate in (RDF.type, SH.conforms, SH.result) or predicate in RESULT_PROPERTIES:
            if predicate == SH.resultPath:
                obj = shapes.value(report.value(subject, SH.sourceShape), SH.path)
            bare.add((subject, predicate, obj))
    assert not any(isinstance(s, BNode) and (s, RDF.first, None) in bare for s in bare.subjects())
    assert compare(complex_002.expected, bare, context=[data, shapes]) is None


def test_compare_keeps_the_identity_of_blank_nodes_of_the_data(by_name: dict[str, Case]) -> None:
    """core/property/nodeKind-001 reports blank values (_:b55454 ...) that have no triples of their
    own and blank property shapes: only their place in the data and shapes graphs tells them apart."""
    case = by_name["core/property/nodeKind-001"]
    data = _copy(case.data_graph)
    actual = pyshacl_engine(data, data)
    assert compare(case.expected, actual, context=[data]) is None
    anchors = {o for p in (SH.focusNode, SH.value, SH.sourceShape) for o in actual.objects(None, p)}
    anchors = {node for node in anchors if isinstance(node, BNode)}
    # Relabelling what is the report's own (results, report node, paths) changes nothing ...
    assert compare(case.expected, _relabel(actual, keep=anchors), context=[data]) is None
    # ... and without context, relabelling everything consistently changes nothing either.
    assert compare(case.expected, _relabel(actual)) is None
    # But naming another blank node of the data graph as the value is a difference.
    example = "http://datashapes.org/sh/tests/core/property/nodeKind-001.test#"
    first = data.value(URIRef(example + "InstanceWithBlankNode"), URIRef(example + "myProperty"))
    other = next(
        value
        for value in data.objects(
            URIRef(example + "InstanceWithBlankNodeAndIRI"), URIRef(example + "myProperty")
        )
        if isinstance(value, BNode)
    )
    swapped = _copy(actual)
    result = next(iter(swapped.subjects(SH.value, first)))
    swapped.remove((result, SH.value, first))
    swapped.add((result, SH.value, other))
    difference = compare(case.expected, swapped, context=[data])
    assert difference is not None and "not the same nodes of the data and shapes graphs" in difference


# ------------------------------------------------------------------------------------ running


def test_every_expected_report_passes_against_itself(cases: list[Case]) -> None:
    """An engine that answers with the expected report (relabelled) passes every report test, and a
    report where a failure is required is a FAIL."""
    for case in cases:
        if case.expects_failure:
            answer = Graph()
        else:
            named = {
                o for p in (SH.focusNode, SH.value, SH.sourceShape) for o in case.expected.objects(None, p)
            }
            answer = _relabel(case.expected, keep={node for node in named if isinstance(node, BNode)})
        outcome = run_case(case, lambda data, shapes, answer=answer: answer)
        if case.expects_failure:
            assert outcome.verdict is Verdict.FAIL and "requires a failure" in outcome.detail
        else:
            assert outcome == Outcome(case.name, Verdict.PASS, None, "approved")


def test_run_case_verdicts(by_name: dict[str, Case]) -> None:
    report_test = by_name["core/node/class-001"]
    failure_test = by_name["sparql/pre-binding/unsupported-sparql-001"]

    def refuse(data: Graph, shapes: Graph) -> Graph:
        raise Refused("unsupported MINUS")

    def crash(data: Graph, shapes: Graph) -> Graph:
        raise KeyError("oops")

    assert run_case(failure_test, refuse) == Outcome(
        failure_test.name, Verdict.PASS, "refused as required: unsupported MINUS", "approved"
    )
    assert run_case(report_test, refuse) == Outcome(
        report_test.name, Verdict.REFUSED, "unsupported MINUS", "approved"
    )
    crashed = run_case(report_test, crash)
    assert crashed.verdict is Verdict.ERROR and crashed.detail == "KeyError: 'oops'"
    assert run_case(failure_test, crash).verdict is Verdict.ERROR


def test_run_case_leaves_the_case_graphs_alone(by_name: dict[str, Case]) -> None:
    case = by_name["core/node/class-001"]
    size = len(case.data_graph)
    seen = []

    def scribble(data: Graph, shapes: Graph) -> Graph:
        seen.append(data is shapes)
        data.add((BNode(), RDF.type, SH.NodeShape))
        raise Refused("no")

    run_case(case, scribble)
    assert seen == [True] and len(case.data_graph) == size


def test_summary_counts_and_names() -> None:
    outcomes = [
        Outcome("core/a", Verdict.PASS),
        Outcome("core/b", Verdict.FAIL, "sh:conforms differs: expected true, got false"),
        Outcome("sparql/c", Verdict.REFUSED, "no SPARQL"),
        Outcome("sparql/d", Verdict.ERROR, "KeyError: 'x'"),
    ]
    assert summary(outcomes).splitlines() == [
        "core: 1 PASS, 1 FAIL, 0 REFUSED, 0 ERROR (of 2)",
        "sparql: 0 PASS, 0 FAIL, 1 REFUSED, 1 ERROR (of 2)",
        "  FAIL core/b [approved]: sh:conforms differs: expected true, got false",
        "  REFUSED sparql/c [approved]: no SPARQL",
        "  ERROR sparql/d [approved]: KeyError: 'x'",
    ]
