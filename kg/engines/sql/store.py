"""Patients and knowledge in DuckDB, and the derivation's ``derive-*.rq`` queries run there,
translated to SQL by :mod:`csfkg.engines.sql.translate`.

Every term is once in the view ``terms``: its 64-bit id (:func:`csfkg.engines.sql.translate.id_of`, what
joins, groups and set semantics use; its two low bits say IRI, blank node or literal), its
N-Triples text, and what expressions read, parsed once at load (lexical form, datatype, the
value of a number or a date) and stored in the table ``stored_terms``; STR() the view computes.
Each predicate's triples are a table ``(s, o)`` of ids: a triple pattern with a constant
predicate reads only that predicate's table; the view ``triples`` shows them all as ``(s, p,
o)``, for patterns with a variable predicate. :func:`add_terms`
refuses a term whose id another term holds (DuckDB's ``hash()`` alone merged 3 pairs of terms
among 100,000 patients' 848,559).

EXPERIMENTAL: the store of ``csfkg cohort FILE --engine sql`` (:mod:`csfkg.cohort.sql_engine`).
It derives the same triples as Oxigraph (tests/test_sparql_sql.py); the compiled SHACL checks,
translated, find the rows they find in Oxigraph (tests/test_sparql_sql.py,
tests/test_shacl_sql.py). Figures: bench/README.md.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from rdflib import BNode, Graph

from csfkg.engines.sql.translate import (
    STORED_TERM_COLUMNS,
    TERM_COLUMNS,
    TERM_STR,
    TableLayout,
    UnsupportedQuery,
    id_of,
    insert_pairs,
    quote,
    term_rows,
)
from csfkg.model.errors import CsfkgError
from csfkg.sparql.library import derivation_queries
from csfkg.stores import Bindings, with_values
from csfkg.stores.protocol import Closing, QueryResult

__all__ = [
    "IdCollision",
    "SqlStore",
    "new_connection",
    "add_terms",
    "run_construct",
    "run_update",
    "algebra_of",
    "select",
    "prepared",
]

VIEW = "triples"
TERMS = "terms"
STORED_TERMS = "stored_terms"
"""The table under the view :data:`TERMS`: every column but ``str``, which the view computes."""
VALUE_TERMS = "value_terms"
"""The terms with a number or a date (``id, num, day``), kept beside :data:`STORED_TERMS` by
:func:`add_terms`: a join that compares values builds its hash table on this table, whose size
DuckDB knows (on the terms filtered it guessed thousands of times too many and built its table
on the other side, one key for every row)."""
NEW = "__new_terms"


class InvalidTerm(Exception):
    """A term of a file that :data:`csfkg.engines.sql.loading.TERM` does not match."""


class IdCollision(CsfkgError):
    """Two different terms got one id: the store's results would merge them, and are refused."""


class SqlStore(Closing, TableLayout):
    """A DuckDB connection holding the terms table and a table of term ids per predicate: a
    :class:`~csfkg.stores.Store` whose queries and updates are translated to SQL.

    Parameters are bound as a VALUES block of IRIs and literals (a blank node, which a VALUES
    block cannot hold, is refused)."""

    compiled_validation = None
    """Through the protocol, pySHACL validates records pulled from this store; a cohort run on
    this engine runs the same compiled checks translated to SQL, in its own reading
    (:mod:`csfkg.engines.sql.validation`)."""

    def __init__(self, connection: Any) -> None:
        super().__init__(VIEW, TERMS)
        self.connection = connection
        self.tables: dict[str, str] = {}
        self.constants: set[str] = set()
        self._stale = True
        """Terms of queries already in the terms table (:func:`add_constants`)."""
        self._reads: dict[str, frozenset[str] | None] | None = None
        """By derivation query text, the predicates a later reader can read (:meth:`keep_for_readers`)."""

    # --- Layout

    def all(self) -> str:
        if self._stale:
            self._view()
        return VIEW

    def values(self) -> str:
        return VALUE_TERMS

    def predicate(self, text: str) -> str:
        table = self.tables.get(text)
        if table is None:
            return "(SELECT CAST(NULL AS UBIGINT) AS s, CAST(NULL AS UBIGINT) AS o WHERE FALSE)"
        return table

    def target(self, text: str) -> str:
        table = self.tables.get(text)
        if table is None:
            table = f"p{len(self.tables) + 1}"
            self.connection.execute(f"CREATE TABLE {table} (s UBIGINT, o UBIGINT)")
            self.tables[text] = table
            self._stale = True  # the view is made again when a query asks for it (a few ms a time)
        return table

    def _view(self) -> None:
        parts = [
            f"SELECT s, {id_of(quote(text))} AS p, o FROM {table}" for text, table in self.tables.items()
        ]
        body = (
            " UNION ALL ".join(parts)
            or "SELECT CAST(NULL AS UBIGINT) AS s, CAST(NULL AS UBIGINT) AS p, CAST(NULL AS UBIGINT) AS o WHERE FALSE"
        )
        self.connection.execute(f"CREATE OR REPLACE VIEW {VIEW} AS {body}")
        self._stale = False

    def execute(self, sql: str, parameters: list | None = None) -> Any:
        return self.connection.execute(sql, parameters or [])

    def insert(self, construct: str) -> None:
        """The Store protocol's ``insert``: a CONSTRUCT query's triples into the store
        (:func:`run_construct`); after :meth:`keep_for_readers`, a derivation query's triples
        whose predicate no later reader can read are not made.

        Raises:
            IdCollision: a computed term has the id of another term.
            UnsupportedQuery: the query uses what the translation does not cover.
        """
        run_construct(
            self, algebra_of(construct), None if self._reads is None else self._reads.get(construct)
        )

    def keep_for_readers(self, readers: Iterable[str]) -> None:
        """From now on, each derivation query (:meth:`insert`) writes only the triples whose
        predicate a later derivation query or one of ``readers`` (query texts) can read
        (:func:`csfkg.engines.sql.translate.predicates_read`): for ``cohort-rows``, the
        provenance no query reads (``prov:wasDerivedFrom``, ``prov:wasGeneratedBy``,
        ``csf:fromBranch``, and the ``csf:rationale`` of derive-next-step's recommendations,
        which only derive-next-step itself could read) is not made. The rows are the same, the
        work less; no result graph can be written from such a store."""
        from csfkg.engines.sql.plans import written_triples
        from csfkg.engines.sql.translate import predicates_read

        def with_reads(reads: frozenset[str] | None, pattern: Any) -> frozenset[str] | None:
            more = None if reads is None else predicates_read(pattern)
            return None if reads is None or more is None else reads | more

        reads: frozenset[str] | None = frozenset()
        for text in readers:
            reads = with_reads(reads, algebra_of(text))
        self._reads = {}
        for query in reversed(derivation_queries()):
            self._reads[query.text] = reads
            algebra = algebra_of(query.text)
            if written_triples(algebra, reads):  # a query that writes nothing read is not run
                reads = with_reads(reads, algebra.p)

    def query(self, text: str, bindings: Bindings | None = None) -> QueryResult:
        """The Store protocol's ``query``: SELECT, ASK or CONSTRUCT, translated
        (:func:`csfkg.engines.sql.reading.answer`).

        Raises:
            UnsupportedQuery: another query form, a blank node bound, or what the translation
                does not cover.
        """
        from csfkg.engines.sql.reading import answer

        return answer(self, self._bound(text, bindings))

    def dump(self, stream: BinaryIO, query: str, bindings: Bindings | None = None) -> None:
        """The Store protocol's ``dump``: a CONSTRUCT query's triples as N-Triples, each term's text
        as the store holds it."""
        from csfkg.engines.sql.reading import dump_construct

        dump_construct(self, stream, self._bound(query, bindings))

    def load(self, data: bytes, format: str, *, base_iri: str | None = None) -> None:
        """The Store protocol's ``load`` (:func:`csfkg.engines.sql.loading.load_rdf`)."""
        from csfkg.engines.sql.loading import load_rdf

        load_rdf(self, data, format, base_iri=base_iri)

    def load_file(self, path: Path, format: str) -> None:
        """The Store protocol's ``load_file``: N-Triples in the loader's form read by DuckDB
        itself, anything else parsed first (:func:`csfkg.engines.sql.loading.load_rdf`)."""
        from csfkg.engines.sql.loading import load_rdf

        load_rdf(self, path, format, base_iri=path.resolve().as_uri())

    def add_graph(self, graph: Graph) -> None:
        """The Store protocol's ``add_graph``: the graph's triples, as N-Triples."""
        self.load(graph.serialize(format="nt", encoding="utf-8"), "nt")

    def close(self) -> None:
        self.connection.close()

    def __len__(self) -> int:
        return sum(
            self.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in self.tables.values()
        )

    def _bound(self, text: str, bindings: Bindings | None) -> str:
        if not bindings:
            return text
        if any(isinstance(term, BNode) for term in bindings.values()):
            raise UnsupportedQuery("the SQL store binds IRIs and literals, not a blank node")
        return with_values(text, bindings)

    def update(self, text: str, bindings: Bindings | None = None) -> None:
        """A SPARQL 1.1 Update, translated (:func:`run_update`), ``bindings`` given as a VALUES
        block of RDF terms: the Store protocol's ``update``, so that the pipeline's stages that
        are updates (:func:`csfkg.pipeline.dates.set_assessment_dates`) run here as on any store.

        Raises:
            UnsupportedQuery: the update uses what the translation does not cover.
        """
        run_update(self, self._bound(text, bindings))


def new_connection(
    threads: int | None = None, memory_limit: str | None = None, temp_directory: str | None = None
) -> SqlStore:
    """A new in-memory store; ``memory_limit`` (DuckDB's, e.g. "6GB") makes it spill to
    ``temp_directory`` rather than grow past it."""
    import duckdb

    connection = duckdb.connect()
    if memory_limit:
        connection.execute(f"SET memory_limit = {quote(memory_limit)}")
    if temp_directory:
        connection.execute(f"SET temp_directory = {quote(temp_directory)}")
    # DuckDB's join order optimizer stays on: a table per predicate gives it statistics (on one
    # table of triples it had none, and crossed 10,000 patients with 9 classes)
    connection.execute("SET preserve_insertion_order = false")
    # DuckDB draws a progress bar on stdout for a statement past 2 s (a large file's loader): the
    # library prints nothing, the command shows its own progress
    connection.execute("SET enable_progress_bar = false")
    # an in-memory database checkpoints (compresses its tables again) when its log passes 16 MB,
    # which made a small insert into a large table cost as much as rewriting it
    connection.execute("SET checkpoint_threshold = '1TB'")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    types = {"text": "VARCHAR", "lex": "VARCHAR", "dt": "VARCHAR", "num": "DOUBLE", "day": "DATE"}
    connection.execute(
        f"CREATE TABLE {STORED_TERMS} (id UBIGINT, {', '.join(f'{c} {types[c]}' for c in STORED_TERM_COLUMNS)})"
    )
    connection.execute(f"CREATE TABLE {VALUE_TERMS} (id UBIGINT, num DOUBLE, day DATE)")
    # STR() of an IRI is its text less the brackets: computed where read rather than stored
    # (a copy of every IRI's text would be a large part of the store, and make DuckDB spill)
    columns = ", ".join(f"{TERM_STR} AS str" if c == "str" else c for c in TERM_COLUMNS)
    connection.execute(f"CREATE VIEW {TERMS} AS SELECT id, {columns} FROM {STORED_TERMS}")
    store = SqlStore(connection)
    store._view()
    return store


class TermsAdded(NamedTuple):
    """What :func:`add_terms` did: how many of the terms were added, how many the table held."""

    added: int
    held: int


def add_terms(store: SqlStore, source: str, valid: str | None = None) -> TermsAdded:
    """Add to the terms table the terms of ``source`` (SQL with columns ``id, text``) it does not
    hold. With ``valid``, a regular expression each new term must match.

    Raises:
        IdCollision: two different terms (among them, or one of them and one the table holds)
            share an id; nothing is added.
        InvalidTerm: a new term does not match ``valid``; nothing is added.
    """
    connection = store.connection
    # the distinct (id, text) pairs, each with the text the table holds for its id: an id with
    # two pairs, or whose text is not the one held, is two terms with one id (grouping by id
    # with the least and greatest text instead costs twice as much)
    connection.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE {NEW} AS SELECT g.id, g.text, t.text AS held "
        f"FROM (SELECT DISTINCT id, text FROM ({source}) WHERE text IS NOT NULL) g "
        f"LEFT JOIN {TERMS} t ON t.id = g.id"
    )
    try:
        # the ids alone grouped: grouping the texts too is several times slower
        twice = connection.execute(f"SELECT id FROM {NEW} GROUP BY id HAVING count(*) > 1 LIMIT 1").fetchone()
        clash = (
            None
            if twice is None
            else connection.execute(
                f"SELECT min(text), max(text) FROM {NEW} WHERE id = ?", [twice[0]]
            ).fetchone()
        )
        if clash is None:
            clash = connection.execute(f"SELECT text, held FROM {NEW} WHERE text <> held LIMIT 1").fetchone()
        if clash is not None:
            first, second = sorted(clash)
            raise IdCollision(
                f"two terms share one id in the SQL store ({first} and {second}); its results are not used."
            )
        if valid is not None:
            invalid = connection.execute(
                f"SELECT text FROM {NEW} WHERE held IS NULL AND NOT regexp_full_match(text, ?) LIMIT 1",
                [valid],
            ).fetchone()
            if invalid is not None:
                raise InvalidTerm(invalid[0])
        (before,) = connection.execute(f"SELECT count(*) FROM {STORED_TERMS}").fetchone()
        (added,) = connection.execute(
            f"INSERT INTO {STORED_TERMS} {term_rows(f'SELECT id, text FROM {NEW} WHERE held IS NULL')}"
        ).fetchone()
        # the rows added are those past the rows held (the table is only appended to)
        connection.execute(
            f"INSERT INTO {VALUE_TERMS} SELECT id, num, day FROM {STORED_TERMS} WHERE rowid >= ? AND (num IS NOT NULL OR day IS NOT NULL)",
            [before],
        )
        (distinct,) = connection.execute(f"SELECT count(*) FROM {NEW}").fetchone()
        return TermsAdded(added, distinct - added)
    finally:
        connection.execute(f"DROP TABLE {NEW}")


def add_constants(store: SqlStore, texts: set[str]) -> None:
    """Terms a query names (N-Triples text), into the terms table (refused on a shared id); each
    once a store."""
    texts = set(texts) - store.constants
    if texts:
        values = ", ".join(f"({quote(text)})" for text in sorted(texts))
        add_terms(store, f"SELECT {id_of('text')} AS id, text FROM (VALUES {values}) AS c(text)")
        store.constants |= texts


def run_construct(store: SqlStore, algebra: Any, read: frozenset[str] | None = None) -> None:
    """A CONSTRUCT query's algebra, translated, into the store: its solutions, the computed
    terms its template writes (refused on a shared id), its new triples. With ``read`` (the
    N-Triples texts of the predicates that will be read), only the template's triples with one
    of those predicates.

    Raises:
        IdCollision: a computed term has the id of another term.
    """
    from csfkg.engines.sql.translate import construct_statements, query_constants

    plan = construct_statements(algebra, store, read)
    if plan is None:
        return
    add_constants(store, query_constants(algebra))
    _run(store, plan)


_PARSING = threading.Lock()
"""rdflib's query parser is not thread-safe (pyparsing's packrat cache is shared): the SQL
engine's self-check parses in a thread of its own beside the run (:mod:`csfkg.cohort.sql_engine`)."""


@cache
def algebra_of(text: str, update: bool = False) -> Any:
    """rdflib's algebra of a query (or update) text, parsed once a process (rdflib's parser is
    the SQL engine's largest fixed cost), one parse at a time."""
    from rdflib.plugins.sparql import prepareQuery, prepareUpdate

    with _PARSING:
        return prepareUpdate(text).algebra if update else prepareQuery(text).algebra


def select(
    store: SqlStore, text: str, ids: tuple[str, ...] = (), unordered: bool = False
) -> tuple[list[str], list[tuple]]:
    """A SELECT query's variables and rows: N-Triples texts (None where unbound), then the term
    ids of ``ids``. With ``unordered`` its ORDER BY is left out."""
    from csfkg.engines.sql.translate import solution_texts

    relation, names = prepared(store, text, unordered)
    return names, store.execute(solution_texts(relation, names, store.terms, ids)).fetchall()


def prepared(store: SqlStore, text: str, unordered: bool) -> tuple[Any, list[str]]:
    """A SELECT query translated (its constants in the terms table), and its variables."""
    from csfkg.engines.sql.translate import query_constants, select_sql

    algebra = algebra_of(text)
    add_constants(store, query_constants(algebra))
    return select_sql(algebra, store, unordered), [str(v) for v in algebra["PV"]]


def run_update(store: SqlStore, text: str) -> None:
    """A SPARQL Update of DELETE / INSERT ... WHERE operations, translated, in the store."""
    from csfkg.engines.sql.translate import modify_statements, query_constants

    for operation in algebra_of(text, update=True):
        plan = modify_statements(operation, store)
        if plan is None:
            continue
        add_constants(store, query_constants(operation))
        _run(store, plan)


def add_pairs(
    store: SqlStore, table: str, pairs: str, parameters: list | None = None, new_subjects: bool = False
) -> None:
    """The pairs ``(s, o)`` of ``pairs`` (SQL, with ``parameters`` bound) into a predicate's table,
    those it does not hold, each once (:func:`csfkg.engines.sql.translate.insert_pairs`). ``new_subjects``:
    every subject is a term the terms table did not hold before this query, so that no table
    holds a triple of it (every term of a stored triple is in the terms table)."""
    may_hold = (
        not new_subjects and store.connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
    )
    store.connection.execute(insert_pairs(table, pairs, may_hold), parameters or [])


def _run(store: SqlStore, plan: Any) -> None:
    store.connection.execute(plan.solutions)
    try:
        # the computed terms none of which the table held: triples of them are new, and need no
        # comparison with the rows of a table that may be large
        new = {variable for variable, source in plan.new_terms if add_terms(store, source).held == 0}
        for statement in plan.deletes:
            store.connection.execute(statement)
        for table, pairs, subjects in plan.inserts:
            add_pairs(store, table, pairs, new_subjects=subjects is not None and subjects <= new)
    finally:
        store.connection.execute(plan.cleanup)
