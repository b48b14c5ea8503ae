"""Literals outside their datatype's lexical space, and valid ones DuckDB's casts do not take, in
the SQL engine: regressions the differential fuzzer (tests/fuzz) found. Each expected answer is
the one RDF 1.1 and SPARQL 1.1 give (an ill-typed literal has no value: comparing it is an error,
YEAR() of it is unbound; XSD 1.1 Part 2 gives each lexical space), and Oxigraph gives the same."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from rdflib.plugins.sparql import prepareQuery

from csfkg.engines.sql import loading as sql_loading
from csfkg.engines.sql import store as duckdb_store
from csfkg.engines.sql.translate import select_sql, solution_texts

XSD = "http://www.w3.org/2001/XMLSchema#"


def _answers(literal: str, expression: str, tmp_path: Path) -> tuple[set[str], set[str]]:
    """The values of ``expression`` (over ``?v``, the literal) on the SQL engine and on Oxigraph."""
    data = f"<http://e/s> <http://e/p> {literal} .\n"
    query = f"SELECT ?x WHERE {{ <http://e/s> <http://e/p> ?v BIND (({expression}) AS ?x) }}"
    oxigraph = pyoxigraph.Store()
    oxigraph.load(data.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES)
    expected = {str(row["x"]) for row in oxigraph.query(query) if row["x"] is not None}
    path = tmp_path / "data.nt"
    path.write_text(data)
    connection = duckdb_store.new_connection()
    sql_loading.load_ntriples(connection, path)
    relation = select_sql(prepareQuery(query).algebra, connection)
    got = {row[0] for row in connection.execute(solution_texts(relation, ["x"])).fetchall() if row[0]}
    return got, expected


@pytest.mark.parametrize("text", ["infinity", "epoch", "2026/01/05", "2026-1-05", "2026-13-45"])
def test_a_malformed_date_is_no_day(text: str, tmp_path: Path) -> None:
    literal = f'"{text}"^^<{XSD}date>'
    for expression in ('?v < "2030-01-01"^^xsd:date', "YEAR(?v)", '?v = "1970-01-01"^^xsd:date'):
        got, expected = _answers(
            literal, expression.replace("xsd:", f"{XSD}").replace(f"{XSD}date", f"<{XSD}date>"), tmp_path
        )
        assert got == expected == set(), expression


@pytest.mark.parametrize("text", ["1e3", "infinity", "INF", "NaN", " 5", "1_000"])
def test_a_decimal_outside_xsd_decimal_s_lexical_space_is_no_number(text: str, tmp_path: Path) -> None:
    got, expected = _answers(f'"{text}"^^<{XSD}decimal>', "?v > 1", tmp_path)
    assert got == expected == set()


@pytest.mark.parametrize("text", ["1e3", "INF", "-INF"])
def test_a_double_in_xsd_double_s_lexical_space_is_a_number(text: str, tmp_path: Path) -> None:
    got, expected = _answers(f'"{text}"^^<{XSD}double>', "?v > 1", tmp_path)
    assert got == expected and len(got) == 1


def test_a_timezoned_date_is_its_day(tmp_path: Path) -> None:
    """XSD 1.1: "2026-12-07-14:00" is a valid xsd:date; fn:year-from-date and the others read its
    day (the derivation computes day numbers from YEAR, MONTH and DAY)."""
    literal = f'"2026-12-07-14:00"^^<{XSD}date>'
    for expression, value in (("YEAR(?v)", "2026"), ("MONTH(?v)", "12"), ("DAY(?v)", "7")):
        got, expected = _answers(literal, expression, tmp_path)
        assert got == expected == {f'"{value}"^^<{XSD}integer>'}, expression
