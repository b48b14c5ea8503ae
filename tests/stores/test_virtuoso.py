"""Virtuoso (Debian ``virtuoso-opensource``), a second real SPARQL server, against embedded Oxigraph
on 1,000 synthetic patients (``csfkg synth``, the seed of the store agreement test).

The queries go through the small protocol client beside this file (form POSTs, one named graph),
not the project's endpoint store, so that what is compared is the server's answer:

- each ``derive-*`` query, as the project's endpoint store sends it (its class membership paths
  as type tests against lists of classes asked of the server first: :mod:`csfkg.stores.class_lists`)
  and run as the INSERT the cohort path runs (``as_update``) on the same data
  (embedded Oxigraph's state at the end of a cohort run, uploaded to Virtuoso), must insert the
  triples Oxigraph's CONSTRUCT gives; ``cohort-rows`` on that state must give Oxigraph's rows;
- each compiled SHACL check, as the endpoint store sends it, must find on the packaged vignettes
  what it finds on Oxigraph;
- the whole cohort path on Virtuoso (knowledge, assessment dates, clear, ``derive-*`` in order,
  ``cohort-rows``) must give the embedded store's rows and triples;
- on an instance whose ``ResultSetMaxRows`` is 500, a SELECT of more rows comes back cut, with
  HTTP 200 and an ``X-SPARQL-MaxRows`` header: what an endpoint client must detect.

Virtuoso 7.2 evaluates ``rdfs:subClassOf*`` paths wrongly where the path's subject comes from
another pattern (two paths joined in one query, a path inside OPTIONAL, NOT EXISTS or MINUS:
openlink/virtuoso-opensource issues 127 and 704, open). Three queries were rewritten so that it
answers them right (one path, matched first on its own, in a sub-SELECT; absence as a maximum
of 0 hits): ``derive-criterion-imaging-normal-and-conforming`` (no row for 26 patients) and
``derive-criterion-two-non-targeted-ebps`` (no patient of 168); before that, 478 of the 1,000
rows differed. ``derive-missing-data`` (as written, 588 reports of a brain or spine MRI missing
that the patient has) is answered right as the endpoint store sends it, with the path in
OPTIONAL written as a type test against the class's subclass list. The two reductions of the
bug are kept below as strict xfails (the text as written, sent as it is), so that a fixed
server is noticed.

Virtuoso 7.2 also takes a comparison with an unbound variable inside ``IF`` as a value, not as
the error SPARQL 1.1 makes it (17.2, 17.4.1.2): it orders unbound below every value, so
``IF(?x <= 4, 2, 0)`` with ``?x`` unbound gives 2 where Oxigraph gives an error (``COALESCE(...,
0)`` then 0). ``derive-bern-score`` scored every unrecorded Bern measurement as met that way
(every one of the 88 scores of this cohort wrong; a single minor sign scored 5, high), which made
36 of the 1,000 cohort rows of seed 4 (32 of seed 2) a patch or a referral where the embedded
store gives MRI first or proceed; the vignettes did not show it, so the self-check refused
Virtuoso by name. The query now tests ``BOUND`` first (``BOUND(?ss) && ?ss <= ?ssMax``: false,
no error, when unrecorded; the same answer on every engine), the vignette
``bern-low-unmeasured-to-protocol-mdt`` holds a patient whose next step the old text changes,
and the reduction is kept below as a strict xfail.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from virtuoso_client import SparqlClient, Triple

from csfkg.cohort.run import CohortRow, load_files, open_store, rows_of, run_cohort
from csfkg.cohort.self_check import _graph, packaged_vignettes
from csfkg.cohort.synth import ASSESSMENT, write_cohort_file
from csfkg.model.knowledge import knowledge_ntriples
from csfkg.sparql.library import derivation_queries, get_query
from csfkg.stores.class_lists import listing_classes
from csfkg.stores.sparql_text import STRIP, as_update, with_values
from csfkg.validation.compiler import compiled_validation_queries

PATIENTS = 1000
SEED = 4  # as tests/stores/test_store_agreement.py: every next step branch is reached
STATE = "urn:csfkg:test:oxigraph-end-state"
RUN = "urn:csfkg:test:cohort-run"
OUT = "urn:csfkg:test:inserted"
DATES = {"today": Literal(ASSESSMENT, datatype=XSD.date), "replace": Literal(True)}
"""The parameters of update-assessment-date as run_cohort(today=ASSESSMENT) binds them."""

Row = tuple[str, str, tuple[str, ...], tuple[str, ...]]


def _rows(rows: list[CohortRow]) -> set[Row]:
    return {(r.patient, r.next_step, tuple(r.companions), tuple(r.missing_data)) for r in rows}


def _ground(triples) -> set[Triple]:
    """The triples without blank nodes (the knowledge graph's OWL axioms: their labels differ
    between stores)."""
    return {t for t in triples if not any(isinstance(term, BNode) for term in t)}


def _compare(name: str, expected: set, got: set) -> str:
    missing, extra = expected - got, got - expected
    example = sorted(missing or extra, key=str)[:2]
    return (
        f"{name}: Oxigraph {len(expected)}, Virtuoso {len(got)}; {len(missing)} only on Oxigraph, "
        f"{len(extra)} only on Virtuoso (e.g. {example})"
    )


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("virtuoso-cohort") / "cohort.nt"
    write_cohort_file(path, patients=PATIENTS, seed=SEED)
    return path


@pytest.fixture(scope="module")
def embedded(cohort: Path):
    """Embedded Oxigraph after a cohort run: its rows and the store."""
    store = open_store()
    load_files(store, [cohort])
    run = run_cohort(store, today=ASSESSMENT, validate_records=False)
    return _rows(list(run.rows)), store


@pytest.fixture(scope="module")
def end_state(embedded, virtuoso_server) -> SparqlClient:
    """Virtuoso's graph :data:`STATE` holding embedded Oxigraph's state at the end of its run."""
    _, store = embedded
    stream = io.BytesIO()
    store.dump(stream, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    client = SparqlClient(virtuoso_server.sparql, STATE)
    client.drop()
    client.upload(stream.getvalue().decode())
    return client


def _into(update: str, graph: str) -> str:
    """An ``INSERT { template } WHERE`` update whose template goes into ``graph``."""
    masked = STRIP.sub(lambda m: " " * len(m.group(0)), update)
    insert = re.search(r"\bINSERT\s*\{", masked)
    where = re.search(r"\}\s*WHERE\b", masked)
    assert insert and where
    return (
        update[: insert.end()]
        + f" GRAPH <{graph}> {{"
        + update[insert.end() : where.start()]
        + "} "
        + update[where.start() :]
    )


UPSTREAM = "openlink/virtuoso-opensource issues 127 and 704 (open): rdfs:subClassOf* with a bound subject"


def _as_sent(client: SparqlClient, text: str) -> str:
    """``text`` as the endpoint store sends it to this server (class lists asked of it first)."""

    def rows(query: str) -> list[tuple]:
        answer = client.select(query)
        return [tuple(s.get(v) for v in answer.variables) for s in answer.solutions]

    return listing_classes(text, rows)


@pytest.mark.parametrize("name", [q.name for q in derivation_queries()])
def test_a_derive_query_inserts_on_virtuoso_what_it_constructs_on_oxigraph(
    name: str, embedded, end_state: SparqlClient
) -> None:
    _, store = embedded
    text = get_query(name).text
    expected = store.query(text)
    assert isinstance(expected, Graph)
    end_state.drop(OUT)
    end_state.update(_into(as_update(_as_sent(end_state, text)), OUT))
    got = end_state.triples(OUT)
    end_state.drop(OUT)
    assert got == set(expected), _compare(name, set(expected), got)


def test_cohort_rows_on_virtuoso_are_oxigraph_rows_on_the_same_data(
    embedded, end_state: SparqlClient
) -> None:
    rows, _ = embedded
    answer = end_state.select(get_query("cohort-rows").text)
    got = _rows(rows_of(answer.solutions, {}))
    assert len(rows) == PATIENTS
    assert got == rows, _compare("cohort-rows", rows, got)


def test_the_cohort_path_on_virtuoso_gives_the_embedded_rows_and_triples(
    embedded, cohort: Path, virtuoso_server
) -> None:
    rows, store = embedded
    client = SparqlClient(virtuoso_server.sparql, RUN)
    client.drop()
    client.upload(knowledge_ntriples().decode())
    client.upload(cohort.read_text())
    client.update(_as_sent(client, with_values(get_query("update-assessment-date").text, DATES)))
    client.update(_as_sent(client, get_query("update-clear-derived").text))
    for query in derivation_queries():
        client.update(as_update(_as_sent(client, query.text)))
    got = _rows(rows_of(client.select(_as_sent(client, get_query("cohort-rows").text)).solutions, {}))
    assert got == rows, _compare("cohort rows", rows, got)
    stream = io.BytesIO()
    store.dump(stream, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    expected = _ground(Graph().parse(data=stream.getvalue(), format="nt"))
    assert _ground(client.triples()) == expected, _compare("all triples", expected, _ground(client.triples()))


VIGNETTES = "urn:csfkg:test:vignettes"


@pytest.fixture(scope="module")
def vignettes(virtuoso_server):
    """The packaged vignettes and the knowledge graph, in embedded Oxigraph and in Virtuoso."""
    graph = _graph(packaged_vignettes())
    store = open_store()
    store.add_graph(Graph().parse(data=knowledge_ntriples().decode(), format="nt"))
    store.add_graph(graph)
    client = SparqlClient(virtuoso_server.sparql, VIGNETTES)
    client.drop()
    client.upload(knowledge_ntriples().decode())
    client.upload(graph.serialize(format="nt"))
    return store, client


def _findings(rows) -> list[tuple[str, ...]]:
    """Rows with blank nodes as ``_`` (their labels differ between the stores)."""
    return sorted(tuple("_" if isinstance(t, BNode) else str(t) for t in row) for row in rows)


@pytest.mark.parametrize("check", compiled_validation_queries(), ids=lambda c: f"{c.name}/{c.component}")
def test_a_compiled_check_finds_on_virtuoso_what_it_finds_on_oxigraph(check, vignettes) -> None:
    """Every check as the endpoint store sends it; as written, the sh:class checks found every
    value of 10 paths wrong on Virtuoso, and the safety shape's planned-intervention check one
    patient where Oxigraph finds 9."""
    store, client = vignettes
    expected = _findings(store.query(check.query).rows)  # type: ignore[union-attr]
    answer = client.select(_as_sent(client, check.query))
    got = _findings([tuple(s.get(v) for v in answer.variables) for s in answer.solutions])
    assert got == expected, _compare(check.name, set(expected), set(got))


def test_a_select_beyond_result_set_max_rows_comes_back_cut_with_a_header(virtuoso_low_cap) -> None:
    cap = virtuoso_low_cap.max_rows
    client = SparqlClient(virtuoso_low_cap.sparql, "urn:csfkg:test:capped")
    client.drop()
    subjects = 3 * cap
    client.upload(
        "\n".join(f"<urn:csfkg:test:s{i}> <urn:csfkg:test:p> <urn:csfkg:test:o> ." for i in range(subjects))
    )
    count = client.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").solutions[0]["n"]
    assert int(count) == subjects, "the server holds every triple"
    answer = client.select("SELECT ?s WHERE { ?s ?p ?o }")
    assert len(answer.solutions) == cap, "the answer is cut at ResultSetMaxRows, with HTTP 200"
    headers = {key.lower(): value for key, value in answer.headers.items()}
    assert headers.get("x-sparql-maxrows") == str(cap), headers
    assert {row["s"] for row in answer.solutions} < {URIRef(f"urn:csfkg:test:s{i}") for i in range(subjects)}


PREFIXES = """PREFIX csf: <https://w3id.org/csfkg/ontology#>
PREFIX csfg: <https://w3id.org/csfkg/guideline#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


@pytest.mark.xfail(strict=True, reason=UPSTREAM)
@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(
            "?patient csf:hasImagingStudy ?brain , ?spine . ?brain a/rdfs:subClassOf* csf:BrainMRI ."
            " ?spine a/rdfs:subClassOf* csf:SpineMRI .",
            id="two-paths-joined",
        ),
        pytest.param(
            "?patient csf:meetsCriterion csfg:crit-orthostatic-present . OPTIONAL { ?patient"
            " csf:hasImagingStudy ?b . ?b csf:studyResult ?br ; a/rdfs:subClassOf* csf:BrainMRI }"
            " FILTER (!BOUND(?br))",
            id="path-inside-optional",
        ),
    ],
)
def test_virtuoso_answers_a_subclass_path_with_a_bound_subject_as_oxigraph_does(
    pattern: str, embedded, end_state: SparqlClient
) -> None:
    _, store = embedded
    query = PREFIXES + f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"
    expected = store.query(query)
    got = end_state.select(query).solutions[0]["n"]
    assert int(got) == int(expected.rows[0][0])  # type: ignore[union-attr]


UNBOUND_IN_IF = (
    "Virtuoso 7.2 takes a comparison with an unbound variable inside IF as true or false in its sort "
    "order (unbound lowest) instead of an error (SPARQL 1.1, 17.2 and 17.4.1.2); not reported upstream yet"
)
UNRECORDED = "OPTIONAL { <urn:csfkg:test:none> <urn:csfkg:test:mm> ?mm }"
"""A measurement that is not recorded: ``?mm`` unbound."""


@pytest.mark.xfail(strict=True, reason=UNBOUND_IN_IF)
@pytest.mark.parametrize("comparison", ["?mm <= 4", "?mm != 4"])
def test_virtuoso_answers_an_unbound_comparison_inside_if_as_an_error(
    comparison: str, embedded, end_state: SparqlClient
) -> None:
    """The reduction of what derive-bern-score met: the error, which COALESCE turns into 0."""
    _, store = embedded
    query = f"SELECT (COALESCE(IF({comparison}, 2, 0), 0) AS ?points) WHERE {{ {UNRECORDED} }}"
    assert int(store.query(query).rows[0][0]) == 0  # type: ignore[union-attr]
    assert int(end_state.select(query).solutions[0]["points"]) == 0


def test_virtuoso_answers_a_comparison_after_bound_as_oxigraph_does(
    embedded, end_state: SparqlClient
) -> None:
    """derive-bern-score's form: ``BOUND`` first, so an unrecorded measurement scores 0 on both."""
    _, store = embedded
    query = (
        "SELECT (COALESCE(IF(BOUND(?mm) && ?mm <= 4, 2, 0), 0) AS ?unrecorded)"
        " (COALESCE(IF(BOUND(?recorded) && ?recorded <= 4, 2, 0), 0) AS ?met)"
        f" WHERE {{ {UNRECORDED} BIND (3.5 AS ?recorded) }}"
    )
    expected = [int(value) for value in store.query(query).rows[0]]  # type: ignore[union-attr]
    answer = end_state.select(query)
    assert expected == [0, 2]
    assert [int(answer.solutions[0][name]) for name in ("unrecorded", "met")] == expected
