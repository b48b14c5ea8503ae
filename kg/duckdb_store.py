"""EXPERIMENTAL: patients and knowledge in one DuckDB table of triples, and the derivation's
``derive-*.rq`` queries run there, translated to SQL by :mod:`csfkg.sparql_sql`.

Not used by any command: it derives the same triples as Oxigraph (tests/test_sparql_sql.py,
1,000 synthetic patients reaching every branch; 757,307 triples at 10k checked by hand), but it
is not faster yet. Measured on 2 cores: 10k patients 3.3 s (two threads) against Oxigraph's
5.1 s (one store, one core); 100k 23.9 s, linear, against 30 core-seconds for Oxigraph in parts
(about 15 s of wall time on two workers). The check that a derived triple is new costs ~6 s of
it (18.2 s without: the same triples here, but not in general). Next, in the order they should
pay: integer ids for terms instead of N-Triples text, literal values parsed once into typed
columns, a table per predicate (statistics, so that DuckDB's own join order can be switched back
on); then the compiled validation checks on the same path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .knowledge import knowledge_ntriples
from .query_library import derivation_queries

__all__ = ["new_connection", "load_ntriples", "add_knowledge", "derive_in", "derived_ntriples"]

TABLE = "triples"

# N-Triples, a statement a line: the subject and the predicate hold no space; the object is the
# rest of the line less its final " ."
_LOAD = rf"""
INSERT INTO {TABLE}
SELECT s, p, regexp_replace(rest, '\s*\.\s*$', '') FROM (
  SELECT split_part(line, ' ', 1) AS s, split_part(line, ' ', 2) AS p,
         substr(line, length(split_part(line, ' ', 1)) + length(split_part(line, ' ', 2)) + 3) AS rest
  FROM read_csv(?, columns={{'line': 'VARCHAR'}}, delim='\x01', quote='', escape='', header=false, auto_detect=false)
  WHERE trim(line) <> '' AND NOT starts_with(ltrim(line), '#'))
"""


def new_connection(threads: int | None = None) -> Any:
    import duckdb

    connection = duckdb.connect()
    # joins in the order the translation writes them (kg/sparql_sql.py orders triple patterns so
    # that each joins the ones before it): over one table of triples DuckDB has no statistics to
    # order them by, and its own order put cross products first
    connection.execute("SET disabled_optimizers = 'join_order'")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    connection.execute(f"CREATE TABLE {TABLE} (s VARCHAR, p VARCHAR, o VARCHAR)")
    return connection


def load_ntriples(connection: Any, path: Path) -> None:
    """Append an N-Triples file written one statement a line with single spaces (as Oxigraph,
    rdflib and ``csfkg synth`` write it)."""
    connection.execute(_LOAD, [str(path)])


def add_knowledge(connection: Any, folder: Path) -> None:
    path = folder / "knowledge.nt"
    path.write_bytes(knowledge_ntriples())
    load_ntriples(connection, path)


def derive_in(connection: Any) -> dict[str, float]:
    """Every derivation query, stage by stage, as SQL inserts; seconds by query."""
    import time

    from rdflib.plugins.sparql import prepareQuery

    from .sparql_sql import construct_inserts

    seconds: dict[str, float] = {}
    for query in derivation_queries():
        statement = construct_inserts(prepareQuery(query.text).algebra, TABLE)
        clock = time.perf_counter()
        connection.execute(statement)
        seconds[query.name] = time.perf_counter() - clock
    return seconds


def derived_ntriples(connection: Any, before: int) -> str:
    """The triples added after the first ``before`` rows, as N-Triples."""
    rows = connection.execute(f"SELECT s, p, o FROM {TABLE} WHERE rowid >= {int(before)}").fetchall()
    return "".join(f"{s} {p} {o} .\n" for s, p, o in rows)
