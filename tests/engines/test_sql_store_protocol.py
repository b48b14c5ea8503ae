"""The SQL engine's store (:class:`csfkg.engines.sql.store.SqlStore`) is a Store like the others:
each method of the protocol answers as embedded Oxigraph answers on the same data, and a cohort
run through the protocol alone (pySHACL on pulled records, ``cohort-rows`` decoded) gives the
rows of the engine's own run (checks and rows kept in DuckDB)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from csfkg.cohort.run import load_files, run_cohort
from csfkg.cohort.sql_engine import run_cohort_sql
from csfkg.cohort.synth import write_cohort_file
from csfkg.engines.sql.store import new_connection
from csfkg.engines.sql.translate import UnsupportedQuery
from csfkg.stores import OxigraphStore, SelectResult, Store

DATA = Path(__file__).resolve().parents[1] / "data" / "input"
TURTLE = """
@prefix ex: <urn:ex:> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a ex:name "Ann \\"A\\"\\tline\\nnext"@en ; ex:age 41 ; ex:knows ex:b , [ ex:name "anon" ] .
ex:b ex:name "Bob" ; ex:age "7"^^xsd:integer ; ex:score -2.5 .
ex:c ex:age 100 .
"""


def _both() -> tuple[Store, Store]:
    sql, oxigraph = new_connection(), OxigraphStore()
    for store in (sql, oxigraph):
        store.load(TURTLE.encode(), "turtle", base_iri="urn:ex:")
    return sql, oxigraph


def test_the_sql_store_is_a_store() -> None:
    with new_connection() as store:
        assert isinstance(store, Store)


def test_select_ask_and_construct_answer_as_oxigraph_does() -> None:
    sql, oxigraph = _both()
    select = "SELECT ?s ?o WHERE { ?s <urn:ex:name> ?o } ORDER BY DESC(?s)"
    got, expected = sql.query(select), oxigraph.query(select)
    assert isinstance(got, SelectResult) and isinstance(expected, SelectResult)
    assert got.variables == expected.variables == ["s", "o"]
    # the blank node's label is the store's own; everything else, and the order, the same
    assert [row for row in got.rows if not isinstance(row[0], BNode)] == [
        row for row in expected.rows if not isinstance(row[0], BNode)
    ]
    assert len(got.rows) == len(expected.rows) == 3
    assert Literal('Ann "A"\tline\nnext', lang="en") in {row[1] for row in got.rows}

    by_age = "SELECT ?s ?age WHERE { ?s <urn:ex:age> ?age } ORDER BY ?age"
    assert [r[0] for r in sql.query(by_age).rows] == [  # type: ignore[union-attr]
        URIRef("urn:ex:b"),
        URIRef("urn:ex:a"),
        URIRef("urn:ex:c"),
    ]
    # an order the store cannot keep is refused, never answered in another order
    for refused in ("SELECT ?s WHERE { ?s <urn:ex:age> ?age } ORDER BY ?age", by_age + " LIMIT 1"):
        with pytest.raises(UnsupportedQuery, match="ORDER BY"):
            sql.query(refused)

    for ask in ("ASK { <urn:ex:a> <urn:ex:knows> <urn:ex:b> }", "ASK { <urn:ex:b> <urn:ex:knows> ?x }"):
        assert sql.query(ask) is oxigraph.query(ask)

    construct = "CONSTRUCT { ?s <urn:ex:older> ?age . ?s <urn:ex:tag> [ <urn:ex:v> ?age ] } WHERE { ?s <urn:ex:age> ?age FILTER (?age > 10) }"
    graph, reference = sql.query(construct), oxigraph.query(construct)
    assert isinstance(graph, Graph) and isinstance(reference, Graph)
    assert len(graph) == 6 and isomorphic(graph, reference)


def test_bindings_are_bound_as_terms_and_a_blank_node_is_refused() -> None:
    sql, _ = _both()
    query = "SELECT ?o WHERE { ?s <urn:ex:age> ?o }"
    result = sql.query(query, {"s": URIRef("urn:ex:b")})
    assert isinstance(result, SelectResult)
    assert [str(row[0]) for row in result.rows] == ["7"]
    with pytest.raises(UnsupportedQuery, match="blank node"):
        sql.query(query, {"s": BNode("x")})


def test_dump_add_graph_and_len() -> None:
    sql, oxigraph = _both()
    assert len(sql) == len(oxigraph) == 9
    stream = io.BytesIO()
    sql.dump(stream, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    dumped = Graph().parse(data=stream.getvalue().decode("utf-8"), format="nt")
    whole = oxigraph.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert isinstance(whole, Graph) and isomorphic(dumped, whole)

    extra = Graph()
    extra.add((URIRef("urn:ex:d"), URIRef("urn:ex:age"), Literal(3)))
    extra.add((URIRef("urn:ex:a"), URIRef("urn:ex:age"), Literal(41)))  # held already
    sql.add_graph(extra)
    assert len(sql) == 10


def test_a_file_in_another_syntax_loads_and_bad_rdf_is_an_input_error(tmp_path: Path) -> None:
    from csfkg.model.errors import InputError

    turtle = tmp_path / "data.ttl"
    turtle.write_text(TURTLE, encoding="utf-8")
    with new_connection() as store:
        store.load_file(turtle, "turtle")
        assert len(store) == 9
        bad = tmp_path / "bad.ttl"
        bad.write_text("<urn:a> <urn:b> .", encoding="utf-8")
        with pytest.raises(InputError, match="not valid RDF"):
            store.load_file(bad, "turtle")
        assert len(store) == 9


def test_a_run_through_the_protocol_gives_the_engines_own_rows(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=60, seed=3)
    # two onset dates: a violation (no next step) for one patient (a malformed one is issue
    # 20's: pySHACL compares "2026-13-45" as a date, the compiled checks do not)
    with cohort.open("a", encoding="utf-8") as stream:
        for onset in ("2026-11-30", "2026-11-29"):
            stream.write(
                f"<https://example.org/csfkg/synthetic/p7> <https://w3id.org/csfkg/ontology#symptomOnsetDate> "
                f'"{onset}"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
            )
    today = date(2026, 12, 7)
    own = run_cohort_sql(cohort, today=today)
    with new_connection() as store:
        load_files(store, [cohort])
        protocol = run_cohort(store, today=today)
    rows = {r.patient: (r.next_step, r.companions, r.missing_data, r.problems) for r in protocol.rows}
    expected = {r.patient: (r.next_step, r.companions, r.missing_data, r.problems) for r in own.rows}
    assert rows == expected
    assert len(rows) == 60 and protocol.blocked == own.blocked == 1
    assert rows["https://example.org/csfkg/synthetic/p7"][0] == ""
    assert len({step for step, *_ in rows.values()}) >= 5
