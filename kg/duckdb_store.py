"""Patients and knowledge in DuckDB, a table per predicate, and the derivation's ``derive-*.rq``
queries run there, translated to SQL by :mod:`csfkg.sparql_sql`.

Each predicate's triples are a table ``(s, o, st, ot)``: a term's 64-bit id
(:func:`csfkg.sparql_sql.id_of`, what joins, groups and set semantics use) and its N-Triples text
(what expressions read, and the output). A triple pattern with a constant predicate reads only
that predicate's table (on one table of triples, every pattern scanned all of them: 100,000
patients' WHERE clauses took 8.9 s on two threads). The view ``triples`` shows them all as
``(s, p, o, st, pt, ot)``, for patterns with a variable predicate. :func:`check_ids` refuses a
store in which two terms share an id (DuckDB's ``hash()`` alone merged 3 pairs of terms among
100,000 patients' 848,559).

EXPERIMENTAL: not used by any command. Measured on 2 cores, 100,000 synthetic patients
(3,240,850 triples): load 4.0-4.7 s; derivation 14.4-16.1 s of which the id check 2.5-3.2 s
(one table of triples: 18.9-25.1 s). It derives the same triples as Oxigraph
(tests/test_sparql_sql.py). Oxigraph does the whole cohort run (load, validate, derive, report)
in ~33 s on two workers at 100k: not faster yet. The compiled SHACL checks do not run on this
path: translated, one is 94 MB of SQL and several run out of memory (bench/README.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .knowledge import knowledge_ntriples
from .query_library import derivation_queries
from .sparql_sql import TableLayout, id_of, quote

__all__ = ["IdCollision", "Store", "new_connection", "load_ntriples", "add_knowledge", "check_ids", "derive_in", "derived_ntriples"]

VIEW = "triples"
RAW = "__raw"


class IdCollision(RuntimeError):
    """Two different terms got one id: the store's results would merge them, and are refused."""


class Store(TableLayout):
    """A DuckDB connection holding a table per predicate."""

    def __init__(self, connection: Any) -> None:
        super().__init__(VIEW)
        self.connection = connection
        self.tables: dict[str, str] = {}
        self.base_rows = 0

    # --- Layout

    def all(self) -> str:
        return VIEW

    def predicate(self, text: str) -> str:
        table = self.tables.get(text)
        if table is None:
            return "(SELECT CAST(NULL AS UBIGINT) AS s, CAST(NULL AS UBIGINT) AS o, CAST(NULL AS VARCHAR) AS st, CAST(NULL AS VARCHAR) AS ot WHERE FALSE)"
        return table

    def target(self, text: str) -> str:
        table = self.tables.get(text)
        if table is None:
            table = f"p{len(self.tables) + 1}"
            self.connection.execute(f"CREATE TABLE {table} (s UBIGINT, o UBIGINT, st VARCHAR, ot VARCHAR)")
            self.tables[text] = table
            self._view()
        return table

    def _view(self) -> None:
        parts = [f"SELECT s, {id_of(quote(text))} AS p, o, st, {quote(text)} AS pt, ot FROM {table}" for text, table in self.tables.items()]
        body = " UNION ALL ".join(parts) or "SELECT CAST(NULL AS UBIGINT) AS s, CAST(NULL AS UBIGINT) AS p, CAST(NULL AS UBIGINT) AS o, CAST(NULL AS VARCHAR) AS st, CAST(NULL AS VARCHAR) AS pt, CAST(NULL AS VARCHAR) AS ot WHERE FALSE"
        self.connection.execute(f"CREATE OR REPLACE VIEW {VIEW} AS {body}")

    def execute(self, sql: str, parameters: list | None = None) -> Any:
        return self.connection.execute(sql, parameters or [])


def new_connection(threads: int | None = None) -> Store:
    import duckdb

    connection = duckdb.connect()
    # joins in the order the translation writes them (kg/sparql_sql.py orders triple patterns so
    # that each joins the ones before it)
    connection.execute("SET disabled_optimizers = 'join_order'")
    connection.execute("SET preserve_insertion_order = false")
    # an in-memory database checkpoints (compresses its tables again) when its log passes 16 MB:
    # a 12,000-row insert then took 0.95 s instead of 3 ms (100k patients' derivation 22 -> 16 s)
    connection.execute("SET checkpoint_threshold = '1TB'")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    store = Store(connection)
    store._view()
    return store


# N-Triples, a statement a line: the subject and the predicate hold no space; the object is the
# rest of the line less its final " ."
_SPLIT = rf"""
CREATE OR REPLACE TEMPORARY TABLE {RAW} AS
SELECT s, p, regexp_replace(rest, '\s*\.\s*$', '') AS o FROM (
  SELECT split_part(line, ' ', 1) AS s, split_part(line, ' ', 2) AS p,
         substr(line, length(split_part(line, ' ', 1)) + length(split_part(line, ' ', 2)) + 3) AS rest
  FROM read_csv(?, columns={{'line': 'VARCHAR'}}, delim='\x01', quote='', escape='', header=false, auto_detect=false)
  WHERE trim(line) <> '' AND NOT starts_with(ltrim(line), '#'))
"""


def load_ntriples(store: Store, path: Path) -> None:
    """Append an N-Triples file written one statement a line with single spaces (as Oxigraph,
    rdflib and ``csfkg synth`` write it), each triple to its predicate's table."""
    connection = store.connection
    connection.execute(_SPLIT, [str(path)])
    for (predicate,) in connection.execute(f"SELECT DISTINCT p FROM {RAW}").fetchall():
        table = store.target(predicate)
        connection.execute(f"INSERT INTO {table} SELECT {id_of('s')}, {id_of('o')}, s, o FROM {RAW} WHERE p = ?", [predicate])
    connection.execute(f"DROP TABLE {RAW}")


def add_knowledge(store: Store, folder: Path) -> None:
    path = folder / "knowledge.nt"
    path.write_bytes(knowledge_ntriples())
    load_ntriples(store, path)


def check_ids(store: Store, constants: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Refuse a store in which two terms (or a term and a constant of the queries, given as
    N-Triples text) share an id.

    Raises:
        IdCollision: naming the two terms.
    """
    values = ", ".join(f"({id_of(quote(text))}, {quote(text)})" for text in sorted(constants | set(store.tables)))
    extra = f" UNION SELECT * FROM (VALUES {values}) AS c(id, t)" if values else ""
    terms = " UNION ".join(f"SELECT s AS id, st AS t FROM {t} UNION SELECT o, ot FROM {t}" for t in store.tables.values())
    found = store.connection.execute(
        f"WITH terms AS ({terms}{extra}) SELECT min(t), max(t) FROM terms GROUP BY id HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if found is not None:
        raise IdCollision(f"two terms share one id in the SQL store ({found[0]} and {found[1]}); its results are not used.")


def derive_in(store: Store) -> dict[str, float]:
    """Every derivation query, stage by stage, as SQL inserts, then :func:`check_ids` over the
    store and the queries' constants; seconds by query.

    Raises:
        IdCollision: two terms share an id (the derived triples are not to be used).
    """
    from rdflib.plugins.sparql import prepareQuery

    from .sparql_sql import construct_statements, query_constants

    seconds: dict[str, float] = {}
    constants: set[str] = set()
    for query in derivation_queries():
        algebra = prepareQuery(query.text).algebra
        constants |= query_constants(algebra)
        clock = time.perf_counter()
        for statement in construct_statements(algebra, store):
            store.connection.execute(statement)
        seconds[query.name] = time.perf_counter() - clock
    clock = time.perf_counter()
    check_ids(store, constants)
    seconds["check-ids"] = time.perf_counter() - clock
    return seconds


def derived_ntriples(store: Store, before: dict[str, int]) -> str:
    """The triples added after ``before`` (rows by table, as :func:`row_counts` gave them), as
    N-Triples."""
    lines: list[str] = []
    for text, table in store.tables.items():
        rows = store.connection.execute(f"SELECT st, ot FROM {table} WHERE rowid >= ?", [before.get(table, 0)]).fetchall()
        lines.extend(f"{s} {text} {o} .\n" for s, o in rows)
    return "".join(lines)


def row_counts(store: Store) -> dict[str, int]:
    return {table: store.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in store.tables.values()}
