"""Class membership as a list of classes (:mod:`csfkg.stores.class_lists`), what the endpoint
store sends a server in place of ``rdf:type/rdfs:subClassOf*``: the rewritten text must mean
what the written one means. Checked on embedded Oxigraph, which evaluates the path right, for
every compiled SHACL check and every query of the library that has such a path, on the
vignettes after a cohort run (derived triples included); and on the small cases where a path is
left as written. On Virtuoso, where the path is wrong, tests/stores/test_virtuoso*.py."""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.compare import isomorphic

from csfkg.cohort.run import open_store, run_cohort
from csfkg.cohort.self_check import _graph, packaged_vignettes
from csfkg.sparql.library import all_queries
from csfkg.stores import Store
from csfkg.stores.class_lists import VARIABLE, class_paths, listing_classes
from csfkg.validation.compiler import compiled_validation_queries

TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
SUB = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
PREFIXES = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nPREFIX ex: <https://ex.org/>\n"


def _rows(store: Store):
    def select(query: str) -> list[tuple]:
        return list(store.query(query).rows)  # type: ignore[union-attr]

    return select


def _same(store: Store, written: str) -> None:
    sent = listing_classes(written, _rows(store))
    assert VARIABLE in sent, "the text has a path the store rewrites"
    expected, got = store.query(written), store.query(sent)
    if isinstance(expected, Graph):
        assert isinstance(got, Graph) and isomorphic(expected, got)
    elif isinstance(expected, bool):
        assert got is expected
    else:
        assert sorted(map(str, got.rows)) == sorted(map(str, expected.rows))  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def vignettes() -> Store:
    store = open_store()
    store.add_graph(_graph(packaged_vignettes()))
    run_cohort(store, validate_records=False)
    return store


CHECKS = [c for c in compiled_validation_queries() if class_paths(c.query)]
QUERIES = [q for q in all_queries().values() if class_paths(q.text)]


def test_most_checks_and_queries_have_a_path_the_store_rewrites() -> None:
    assert len(CHECKS) >= 40 and len(QUERIES) >= 12
    assert "derive-missing-data" in {q.name for q in QUERIES}
    assert any(cls.startswith("?") for c in CHECKS for _, _, cls in class_paths(c.query)), "a variable class"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.name}/{c.component}")
def test_a_compiled_check_sent_with_class_lists_finds_what_it_finds_as_written(check, vignettes) -> None:
    _same(vignettes, check.query)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_a_library_query_sent_with_class_lists_answers_as_written(query, vignettes) -> None:
    _same(vignettes, query.text)


DATA = f"""
<https://ex.org/x> {TYPE} <https://ex.org/A> .
<https://ex.org/y> {TYPE} <https://ex.org/C> .
<https://ex.org/A> {SUB} <https://ex.org/B> .
<https://ex.org/x> <https://ex.org/p> <https://ex.org/y> .
<https://ex.org/y> <https://ex.org/p> <https://ex.org/x> .
"""


@pytest.fixture(scope="module")
def small() -> Store:
    store = open_store()
    store.load(DATA.encode(), "nt")
    return store


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?s WHERE { ?s ex:p ?o . MINUS { ?o a/rdfs:subClassOf* ex:B } }",
        "SELECT ?s WHERE { ?s ex:p ?o . FILTER NOT EXISTS { ?o a/rdfs:subClassOf* ex:B } }",
        "SELECT ?s ?t WHERE { ?s ex:p ?o . OPTIONAL { ?o a/rdfs:subClassOf* ex:B ; ex:p ?t } }",
        "SELECT ?s WHERE { ?s a/rdfs:subClassOf* ex:Unknown }",  # the class itself, not in the data
        "SELECT ?s WHERE { ?s ex:p/a/rdfs:subClassOf* ex:B }",  # the end of a sequence path
        "SELECT ?s WHERE { ?s ex:p ?o . MINUS { ?o ^ex:p/a/rdfs:subClassOf* ex:B } }",
        # a variable class alone in EXISTS: bound outside, and unbound (any type matches)
        "SELECT ?s ?c WHERE { ?s ex:p ?o . VALUES ?c { ex:A ex:B ex:C ex:D } FILTER EXISTS { ?s a/rdfs:subClassOf* ?c } }",
        "SELECT ?s WHERE { ?s ex:p ?o . FILTER EXISTS { ?s a/rdfs:subClassOf* ?c } }",
        "SELECT ?s WHERE { ?s ex:p ?o . FILTER NOT EXISTS { ?s a/rdfs:subClassOf* ?c . } }",
    ],
)
def test_the_rewrite_keeps_the_meaning_of_each_form(query: str, small: Store) -> None:
    _same(small, PREFIXES + query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s a/rdfs:subClassOf* ex:B }",  # the new variable would be projected
        "SELECT ?o WHERE { ?o ex:q|ex:p/a/rdfs:subClassOf* ex:B }",  # in an alternative
        "SELECT ?o WHERE { ?o (ex:p/a/rdfs:subClassOf*) ex:B }",  # in parentheses
        "SELECT ?s WHERE { ?s a/rdfs:subClassOf* ex:B, ex:C }",  # an object list
        "SELECT ?s ?c WHERE { ?s a/rdfs:subClassOf* ?c }",  # a variable class the path binds
        "SELECT ?s WHERE { ?s ex:p ?o FILTER EXISTS { ?s ex:p ?o ; a/rdfs:subClassOf* ?c } }",
        "SELECT ?s WHERE { ?s ex:q ex:r } # ?s a/rdfs:subClassOf* ex:B",  # a comment
        'SELECT ?s WHERE { ?s ex:q "?s a/rdfs:subClassOf* ex:B" }',  # a string
        "SELECT ?s WHERE { ?s a/rdfs:subClassOf* undeclared:B }",  # an undeclared prefix
    ],
)
def test_a_path_the_rewrite_cannot_keep_the_meaning_of_is_left_as_written(query: str) -> None:
    text = PREFIXES + query
    assert class_paths(text) == []
    assert listing_classes(text, lambda q: pytest.fail(f"asked {q}")) == text


def test_a_class_with_an_anonymous_subclass_is_left_as_written() -> None:
    text = PREFIXES + "SELECT ?s WHERE { ?s a/rdfs:subClassOf* ex:B }"
    closure = [
        (URIRef("https://ex.org/B"), URIRef("https://ex.org/B")),
        (URIRef("https://ex.org/B"), BNode()),
    ]
    assert listing_classes(text, lambda q: closure) == text


def test_the_endpoint_store_asks_the_subclass_lists_again_after_it_writes(oxigraph_server: str) -> None:
    from csfkg.stores.endpoint_store import EndpointStore

    store = EndpointStore(
        oxigraph_server + "/query", update_url=oxigraph_server + "/update", graph="https://ex.org/g"
    )
    store.load(DATA.encode(), "nt")
    query = PREFIXES + "SELECT ?s WHERE { ?s ex:p ?o . MINUS { ?s a/rdfs:subClassOf* ex:B } }"
    assert [str(r[0]) for r in store.query(query).rows] == ["https://ex.org/y"]  # type: ignore[union-attr]
    store.update(PREFIXES + "INSERT DATA { ex:C rdfs:subClassOf ex:B }")
    assert store.query(query).rows == []  # type: ignore[union-attr]
    store.load(
        f"<https://ex.org/z> {TYPE} <https://ex.org/D> . <https://ex.org/z> <https://ex.org/p> <https://ex.org/x> .".encode(),
        "nt",
    )
    assert [str(r[0]) for r in store.query(query).rows] == ["https://ex.org/z"]  # type: ignore[union-attr]
    store.load(f"<https://ex.org/D> {SUB} <https://ex.org/C> .".encode(), "nt")
    assert store.query(query).rows == []  # type: ignore[union-attr]
