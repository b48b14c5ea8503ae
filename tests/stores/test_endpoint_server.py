"""The endpoint client against a real server (``oxigraph serve``, the ``oxigraph_server``
fixture): a named graph used for everything, atomic chunked uploads, parameters that nested
groups see, and ``csfkg query``/``csfkg cohort`` on the server."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdflib import Literal

from csfkg.cohort.run import add_knowledge, load_files
from csfkg.cohort.synth import write_cohort_file
from csfkg.model.errors import InputError
from csfkg.sparql.library import get_query
from csfkg.sparql.named import run_query
from csfkg.stores import EndpointStore, OxigraphStore, SelectResult

from conftest import SEED

GRAPH = "https://example.org/cohorts/first"
TRIPLES = b"".join(
    f"<https://ex.org/s{n}> <https://ex.org/p> <https://ex.org/o{n}> .\n".encode() for n in range(5)
)


def _stores(base: str, **options) -> tuple[EndpointStore, EndpointStore]:
    """The store working in GRAPH, and one on the server's default graph to look from outside."""
    urls = {"update_url": base + "/update", "store_url": base + "/store"}
    return (
        EndpointStore(base + "/query", graph=GRAPH, **urls, **options),
        EndpointStore(base + "/query", **urls),
    )


def _graphs(store: EndpointStore) -> set[str]:
    result = store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert isinstance(result, SelectResult)
    return {str(row[0]) for row in result.rows}


# ---------------------------------------------------------------------------------------
# 2. --graph everywhere
# ---------------------------------------------------------------------------------------
def test_uploads_queries_and_updates_stay_in_the_named_graph(oxigraph_server: str) -> None:
    inside, outside = _stores(oxigraph_server, upload_lines=2)
    inside.load(TRIPLES, "nt")
    assert len(inside) == 5
    assert len(outside) == 0, "nothing went to the server's default graph"
    assert _graphs(outside) == {GRAPH}, "the scratch graph is gone"

    # the derivation's INSERT (as_update of a CONSTRUCT), and an update with bound parameters
    inside.insert("CONSTRUCT { ?s <https://ex.org/seen> true } WHERE { ?s <https://ex.org/p> ?o }")
    inside.update(
        "DELETE { ?s <https://ex.org/p> ?o } INSERT { ?s <https://ex.org/q> ?value } WHERE { ?s <https://ex.org/p> ?o }",
        {"value": Literal("new")},
    )
    inside.update('INSERT DATA { <https://ex.org/x> <https://ex.org/r> "data" }')
    assert len(outside) == 0
    assert (
        outside.query(f"ASK {{ GRAPH <{GRAPH}> {{ <https://ex.org/s0> <https://ex.org/seen> true }} }}")
        is True
    )
    assert (
        outside.query(f'ASK {{ GRAPH <{GRAPH}> {{ <https://ex.org/s4> <https://ex.org/q> "new" }} }}') is True
    )
    assert outside.query(f"ASK {{ GRAPH <{GRAPH}> {{ ?s <https://ex.org/p> ?o }} }}") is False
    assert (
        outside.query(f'ASK {{ GRAPH <{GRAPH}> {{ <https://ex.org/x> <https://ex.org/r> "data" }} }}') is True
    )
    assert len(inside) == 5 + 5 + 1


def test_without_a_graph_the_default_graph_is_used_as_before(oxigraph_server: str) -> None:
    _, outside = _stores(oxigraph_server, upload_lines=2)
    outside.load(TRIPLES, "nt")
    assert len(outside) == 5
    assert _graphs(outside) == set()


# ---------------------------------------------------------------------------------------
# 3. atomic chunked uploads
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("graph_store", [True, False], ids=["graph store", "insert data"])
def test_a_file_that_fails_half_way_leaves_the_graph_as_it_was(
    oxigraph_server: str, tmp_path: Path, graph_store: bool
) -> None:
    inside, outside = _stores(oxigraph_server, upload_lines=2)
    if not graph_store:
        inside.store_url = None
    inside.load(TRIPLES, "nt")
    bad = tmp_path / "bad.nt"
    good = "".join(f"<https://ex.org/t{n}> <https://ex.org/p> <https://ex.org/o> .\n" for n in range(4))
    bad.write_text(good + "<https://ex.org/t9> <https://ex.org/p> <not an iri> .\n")
    with pytest.raises(InputError, match="answered 400"):
        inside.load_file(bad, "nt")
    assert len(inside) == 5, "the first chunks never reached the graph"
    assert _graphs(outside) == {GRAPH}, "the scratch graph was dropped"


def test_a_blank_node_split_across_chunks_stays_one_node(oxigraph_server: str) -> None:
    inside, _ = _stores(oxigraph_server, upload_lines=1)
    inside.load(
        b'_:b <https://ex.org/p> "1" .\n<https://ex.org/s> <https://ex.org/p> <https://ex.org/o> .\n'
        b"<https://ex.org/s> <https://ex.org/q> _:b .\n",
        "nt",
    )
    assert (
        inside.query('ASK { <https://ex.org/s> <https://ex.org/q> ?b . ?b <https://ex.org/p> "1" }') is True
    )
    assert len(inside) == 3


# ---------------------------------------------------------------------------------------
# 8. parameters that nested groups see
# ---------------------------------------------------------------------------------------
def test_lookup_on_a_server_gives_the_embedded_rows(oxigraph_server: str) -> None:
    inside, _ = _stores(oxigraph_server)
    embedded = OxigraphStore()
    lookup = get_query("lookup")
    answers = []
    for store in (embedded, inside):
        add_knowledge(store)
        result = run_query(store, lookup, {"text": Literal("STIR")})
        assert isinstance(result, SelectResult)
        answers.append(result)
    assert len(answers[0].rows) >= 3
    assert answers[1].variables == answers[0].variables
    assert answers[1].rows == answers[0].rows


# ---------------------------------------------------------------------------------------
# 9. csfkg query --endpoint / --store, csfkg cohort --graph
# ---------------------------------------------------------------------------------------
def test_csfkg_query_runs_a_named_query_on_an_endpoint_graph_and_on_a_store(
    cli, oxigraph_server: str, tmp_path: Path
) -> None:
    inside, _ = _stores(oxigraph_server)
    add_knowledge(inside)
    embedded = cli("query", "lookup", "--param", "text=blood patch", "--format", "csv")
    assert embedded.code == 0 and embedded.out.count("\n") > 1
    on_server = cli(
        "query", "lookup", "--param", "text=blood patch", "--format", "csv",
        "--endpoint", oxigraph_server + "/query", "--graph", GRAPH,
    )  # fmt: skip
    assert on_server.code == 0, on_server.err
    assert on_server.out == embedded.out
    # the server's default graph holds nothing: without --graph, no row
    empty = cli(
        "query",
        "lookup",
        "--param",
        "text=blood patch",
        "--format",
        "csv",
        "--endpoint",
        oxigraph_server + "/query",
    )
    assert empty.code == 0 and empty.out.count("\r\n") == 1

    folder = tmp_path / "store"
    assert cli("load", str(SEED), "--store", str(folder)).code == 0
    in_store = cli(
        "query", "lookup", "--param", "text=blood patch", "--format", "csv", "--store", str(folder)
    )
    assert in_store.code == 0, in_store.err
    assert in_store.out == embedded.out


def test_csfkg_query_refuses_patient_files_with_a_store(cli, tmp_path: Path) -> None:
    result = cli("query", "lookup-names", str(SEED), "--store", str(tmp_path))
    assert result.code == 2 and "give no PATIENT_FILES" in result.err
    alone = cli("query", "lookup-names", "--graph", GRAPH)
    assert alone.code == 2 and "--graph go with --endpoint URL" in alone.err


def test_csfkg_cohort_in_a_named_graph_gives_the_embedded_rows(
    cli, oxigraph_server: str, tmp_path: Path
) -> None:
    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=6, seed=3)
    embedded, served = tmp_path / "embedded.csv", tmp_path / "served.csv"
    first = cli("cohort", str(cohort), "--today", "2026-03-01", "-o", str(embedded), "--no-validate")
    second = cli(
        "cohort", str(cohort), "--today", "2026-03-01", "-o", str(served), "--no-validate",
        "--endpoint", oxigraph_server + "/query", "--update-url", oxigraph_server + "/update",
        "--graph-store-url", oxigraph_server + "/store", "--graph", GRAPH, "--timeout", "120",
    )  # fmt: skip
    assert first.code == second.code == 0, second.err
    rows = [list(csv.reader(path.open())) for path in (embedded, served)]
    assert len(rows[0]) == 7 and rows[1] == rows[0]
    _, outside = _stores(oxigraph_server)
    assert len(outside) == 0 and _graphs(outside) == {GRAPH}


def test_load_files_into_an_endpoint_graph_counts_what_was_added(
    oxigraph_server: str, tmp_path: Path
) -> None:
    inside, _ = _stores(oxigraph_server, upload_lines=3)
    path = tmp_path / "data.nt"
    path.write_bytes(TRIPLES)
    assert load_files(inside, [path]) == 5


def test_csfkg_load_uploads_knowledge_and_files_into_the_endpoint_graph(
    cli, oxigraph_server: str, tmp_path: Path
) -> None:
    path = tmp_path / "data.nt"
    path.write_bytes(TRIPLES)
    result = cli(
        "load", str(path), "--endpoint", oxigraph_server + "/query", "--update-url", oxigraph_server + "/update",
        "--graph", GRAPH,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.err.startswith(f"5 triples loaded into {GRAPH} of {oxigraph_server}/query (")
    inside, outside = _stores(oxigraph_server)
    assert inside.query(get_query("cohort-knowledge-loaded").text) is True
    assert inside.query("ASK { <https://ex.org/s4> <https://ex.org/p> <https://ex.org/o4> }") is True
    assert len(outside) == 0 and _graphs(outside) == {GRAPH}
    neither = cli("load", str(path))
    assert neither.code == 2 and "--store DIR or --endpoint URL" in neither.err
