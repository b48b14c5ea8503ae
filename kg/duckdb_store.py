"""EXPERIMENTAL: patients and knowledge in one DuckDB table of triples, and the derivation's
``derive-*.rq`` queries run there, translated to SQL by :mod:`csfkg.sparql_sql`.

Not used by any command. The table holds each term twice: a 64-bit id (:func:`csfkg.sparql_sql.id_of`,
what joins, groups and set semantics use) and its N-Triples text (what expressions read, and the
output). :func:`check_ids` refuses a table in which two terms share an id (DuckDB's ``hash()``
alone merged 3 pairs of terms among 100,000 patients' 848,559).

It derives the same triples as Oxigraph (tests/test_sparql_sql.py, 1,000 synthetic patients
reaching every branch; 10,839,357 triples in the table at 100k, as with terms as text).
Measured on 2 cores, 100,000 patients, derivation: terms as text 40.0 s; ids 18.9-25.1 s (the
machine is noisy) of which the id check is 2.1-2.4 s. Oxigraph does the same in ~30 core-seconds
in parts, ~15 s on two workers: this path is not faster yet. Next, in the order they should pay:
texts kept once in a terms table and out of the triples (the derived triples are 75 a patient,
and inserting their texts costs as much as finding them), literal values parsed once into typed
columns, a table per predicate (statistics, so that DuckDB's own join order can be switched back
on); then the compiled validation checks on the same path. All 116 of their queries and gates
translate, but they are written for Oxigraph (membership in a shape's focus nodes as a chain of
EXISTS behind IF, classes as ``rdf:type/rdfs:subClassOf*``): on 1,000 patients the first checks
gave Oxigraph's rows, one in 77 s (the sh:datatype check of the patch volume). The SQL path
needs the shapes compiled for it (focus nodes as a joined set, the class closure once).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .knowledge import knowledge_ntriples
from .query_library import derivation_queries
from .sparql_sql import id_of, quote

__all__ = ["IdCollision", "new_connection", "load_ntriples", "add_knowledge", "check_ids", "derive_in", "derived_ntriples"]


class IdCollision(RuntimeError):
    """Two different terms got one id: the table's results would merge them, and are refused."""

TABLE = "triples"

# N-Triples, a statement a line: the subject and the predicate hold no space; the object is the
# rest of the line less its final " ."
_LOAD = rf"""
INSERT INTO {TABLE}
SELECT {id_of('s')}, {id_of('p')}, {id_of('o')}, s, p, o FROM (SELECT s, p, regexp_replace(rest, '\s*\.\s*$', '') AS o FROM (
  SELECT split_part(line, ' ', 1) AS s, split_part(line, ' ', 2) AS p,
         substr(line, length(split_part(line, ' ', 1)) + length(split_part(line, ' ', 2)) + 3) AS rest
  FROM read_csv(?, columns={{'line': 'VARCHAR'}}, delim='\x01', quote='', escape='', header=false, auto_detect=false)
  WHERE trim(line) <> '' AND NOT starts_with(ltrim(line), '#')))
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
    connection.execute(f"CREATE TABLE {TABLE} (s UBIGINT, p UBIGINT, o UBIGINT, st VARCHAR, pt VARCHAR, ot VARCHAR)")
    return connection


def load_ntriples(connection: Any, path: Path) -> None:
    """Append an N-Triples file written one statement a line with single spaces (as Oxigraph,
    rdflib and ``csfkg synth`` write it)."""
    connection.execute(_LOAD, [str(path)])


def add_knowledge(connection: Any, folder: Path) -> None:
    path = folder / "knowledge.nt"
    path.write_bytes(knowledge_ntriples())
    load_ntriples(connection, path)


def check_ids(connection: Any, constants: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Refuse a table in which two terms (or a term and a constant of the queries, given as
    N-Triples text) share an id.

    Raises:
        IdCollision: naming the two terms.
    """
    values = ", ".join(f"({id_of(quote(text))}, {quote(text)})" for text in sorted(constants))
    extra = f" UNION SELECT * FROM (VALUES {values}) AS c(id, t)" if values else ""
    found = connection.execute(
        f"WITH terms AS (SELECT s AS id, st AS t FROM {TABLE} UNION SELECT p, pt FROM {TABLE} UNION SELECT o, ot FROM {TABLE}{extra}) "
        "SELECT min(t), max(t) FROM terms GROUP BY id HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if found is not None:
        raise IdCollision(f"two terms share one id in the SQL store ({found[0]} and {found[1]}); its results are not used.")


def derive_in(connection: Any) -> dict[str, float]:
    """Every derivation query, stage by stage, as SQL inserts, then :func:`check_ids` over the
    table and the queries' constants; seconds by query.

    Raises:
        IdCollision: two terms share an id (the derived triples are not to be used).
    """
    import time

    from rdflib.plugins.sparql import prepareQuery

    from .sparql_sql import construct_inserts, query_constants

    seconds: dict[str, float] = {}
    constants: set[str] = set()
    for query in derivation_queries():
        algebra = prepareQuery(query.text).algebra
        constants |= query_constants(algebra)
        statement = construct_inserts(algebra, TABLE)
        clock = time.perf_counter()
        connection.execute(statement)
        seconds[query.name] = time.perf_counter() - clock
    clock = time.perf_counter()
    check_ids(connection, constants)
    seconds["check-ids"] = time.perf_counter() - clock
    return seconds


def derived_ntriples(connection: Any, before: int) -> str:
    """The triples added after the first ``before`` rows, as N-Triples."""
    rows = connection.execute(f"SELECT st, pt, ot FROM {TABLE} WHERE rowid >= {int(before)}").fetchall()
    return "".join(f"{s} {p} {o} .\n" for s, p, o in rows)
