"""Parameters bound in the query text (:func:`csfkg.stores.sparql_text.with_values`), for the
stores that cannot pre-bind (an endpoint, the SQL engine, an Update): a nested group, a BIND or
a sub-query sees them, as with rdflib's pre-binding."""

from __future__ import annotations

import pytest
from rdflib import BNode, Literal, URIRef

from csfkg.stores import EndpointStore, OxigraphStore, RdflibStore, SelectResult
from csfkg.stores.sparql_text import with_values

A = URIRef("https://ex.org/a")
NESTED = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label WHERE {
  { ?node rdfs:label ?label . FILTER (?node = ?wanted) }
}"""
DATA = b"""<https://ex.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "a" .
<https://ex.org/b> <http://www.w3.org/2000/01/rdf-schema#label> "b" .
"""


def test_a_bound_variable_is_written_as_its_term_inside_the_where_clause() -> None:
    text = with_values(
        'SELECT ?x ?n WHERE { ?x <p> "?x" . # ?x in a comment\n'
        "{ SELECT ?x (COUNT(?y) AS ?n) WHERE { ?x <q> ?y FILTER (BOUND(?x)) } GROUP BY ?x } "
        "BIND (STR(?x) AS ?s) } ORDER BY ?x",
        {"x": A},
    )
    assert text == (
        'SELECT ?x ?n WHERE { VALUES (?x) { (<https://ex.org/a>) }   <https://ex.org/a>  <p> "?x" . # ?x in a comment\n'
        "{ SELECT ?x (COUNT(?y) AS ?n) WHERE {  <https://ex.org/a>  <q> ?y FILTER (true) } GROUP BY ?x } "
        "BIND (STR( <https://ex.org/a> ) AS ?s) } ORDER BY ?x"
    )


def test_every_operation_of_an_update_gets_the_terms() -> None:
    text = with_values(
        "DELETE { ?s <p> ?o } WHERE { ?s <p> ?o FILTER (?o = ?v) } ;\nINSERT { ?s <q> ?v } WHERE { ?s <p> ?v }",
        {"v": Literal(1)},
    )
    assert text.count("VALUES (?v)") == 2
    one = Literal(1).n3()
    assert f"FILTER (?o =  {one} )" in text and f"?s <p>  {one}  }}" in text
    assert "INSERT { ?s <q> ?v }" in text  # the template reads the VALUES block


def test_a_blank_node_cannot_be_bound_in_query_text() -> None:
    with pytest.raises(ValueError, match="blank node"):
        with_values("SELECT * WHERE { ?s ?p ?o }", {"s": BNode()})


def test_a_parameter_reaches_a_nested_group_on_every_store(oxigraph_server: str) -> None:
    from csfkg.engines.sql.store import new_connection

    server = EndpointStore(
        oxigraph_server + "/query", update_url=oxigraph_server + "/update", graph="https://ex.org/g"
    )
    stores = {"rdflib": RdflibStore(), "oxigraph": OxigraphStore(), "sql": new_connection(), "server": server}
    for name, store in stores.items():
        store.load(DATA, "nt")
        result = store.query(NESTED, {"wanted": A})
        assert isinstance(result, SelectResult)
        assert [str(row[0]) for row in result.rows] == ["a"], name
