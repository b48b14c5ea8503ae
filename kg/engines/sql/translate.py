"""SPARQL translated to SQL over term ids, for a vectorised engine (DuckDB).

EXPERIMENTAL: what ``csfkg cohort FILE --engine sql`` runs (:mod:`csfkg.cohort.sql_engine`; issue 4:
the cohort target is beyond what Oxigraph reaches with these queries, figures in
bench/README.md). It translates rdflib's algebra of a
query into SQL over a :class:`Layout`: triples as term ids ``(s, p, o)`` (or a table ``(s, o)``
a predicate), and a terms table with each term's id (:func:`id_of`), N-Triples text and parsed
columns (:data:`TERM_COLUMNS`). A solution is a row with a column a variable, its term's id
(``"v_name"``: joins, groups, DISTINCT, EXISTS and MINUS compare ids), NULL where unbound; a
value computed by BIND or an aggregate is kept as computed beside its id (``"k_name"``:
:attr:`Relation.typed`). An expression that reads a stored term's columns joins the terms table
for that variable only (:meth:`Translator.with_terms`).

What is translated: BGPs (with property paths: sequences, alternatives, ``*``, ``+`` and
``?``), Join, LeftJoin, Filter, Extend, Union, MINUS, Project, Distinct, VALUES, sub-SELECTs,
GROUP BY with COUNT / MIN / SAMPLE / GROUP_CONCAT, and the expressions of the ``derive-*.rq``
queries and of the compiled SHACL checks (COALESCE, sameTerm, DATATYPE, isLiteral / isIRI /
isBlank, STRSTARTS, REGEX without escapes, casts from strings to xsd:integer, decimal, double,
float, boolean and date, with the lexical forms Oxigraph takes). Anything else raises
:class:`UnsupportedQuery`.

SPARQL's expression errors map onto SQL's NULL: an ill-typed comparison is NULL, a FILTER keeps
only TRUE, ``error || true`` is TRUE and ``error && false`` FALSE in both.

Known differences from Oxigraph: literals keep the lexical form they were written with (Oxigraph
stores "5.0"^^xsd:decimal as "5"); numbers compare as doubles; MIN and MAX order numbers by value
and anything else by its N-Triples text; arithmetic does not promote datatypes (a whole
number computed from decimals is written as an xsd:integer); a variable bound in an EXISTS pattern and unbound outside
it is not constrained; GROUP_CONCAT skips a value whose expression errs (SPARQL: the aggregate is
an error, its variable unbound). tests/test_sparql_sql.py holds what is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from rdflib import BNode, Literal, URIRef, Variable
from rdflib.namespace import RDF, XSD
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql.parserutils import CompValue

__all__ = [
    "UnsupportedQuery",
    "Relation",
    "Ref",
    "IRI_KIND",
    "BLANK_KIND",
    "LITERAL_KIND",
    "Layout",
    "TableLayout",
    "ConstructPlan",
    "TERM_COLUMNS",
    "STORED_TERM_COLUMNS",
    "TERM_STR",
    "term_str",
    "id_of",
    "term_rows",
    "query_constants",
    "predicates_read",
    "translate_pattern",
    "construct_statements",
    "modify_statements",
    "select_sql",
    "solution_texts",
    "solution_values",
    "solution_terms",
    "value_of_text",
]

NUMERIC = tuple(
    f"<{XSD[name]}>"
    for name in (
        "integer",
        "decimal",
        "double",
        "float",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
)
DATE = f"<{XSD.date}>"
INTEGER = f"<{XSD.integer}>"
DECIMAL = f"<{XSD.decimal}>"
BOOLEAN = f"<{XSD.boolean}>"


_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
CAST_FORMS = {
    XSD.integer: r"[+-]?[0-9]+",
    XSD.decimal: _DECIMAL,
    XSD.double: rf"{_DECIMAL}([eE][+-]?[0-9]+)?|[+-]?INF|NaN",
    XSD.float: rf"{_DECIMAL}([eE][+-]?[0-9]+)?|[+-]?INF|NaN",
    XSD.boolean: r"true|false|1|0",
    XSD.date: r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?",
}
"""The lexical forms a cast from a string to each XSD datatype takes (xsd:date also needs a day
of its month: :func:`_valid_day`)."""


def _valid_day(text: str) -> str:
    """Month 1-12 and a day of that month (leap years as in the proleptic Gregorian calendar) of
    an xsd:date's lexical form that matches :data:`CAST_FORMS`."""
    body = f"ltrim({text}, '-')"
    year = f"CAST(split_part({body}, '-', 1) AS BIGINT) * (CASE WHEN starts_with({text}, '-') THEN -1 ELSE 1 END)"
    month = f"CAST(split_part({body}, '-', 2) AS INTEGER)"
    day = f"CAST(substr(split_part({body}, '-', 3), 1, 2) AS INTEGER)"
    leap = f"(({year}) % 4 = 0 AND (({year}) % 100 <> 0 OR ({year}) % 400 = 0))"
    last = f"(CASE WHEN {month} = 2 THEN (CASE WHEN {leap} THEN 29 ELSE 28 END) WHEN {month} IN (4, 6, 9, 11) THEN 30 ELSE 31 END)"
    # YYYY-MM-DD (no sign, no time zone) by DuckDB's own date cast, which takes the same days
    # (year 0000 as 1 BC, a leap year), far cheaper a value than the general form below, whose
    # strings (split_part, ltrim) made the date checks of a large cohort slow
    return (
        f"(CASE WHEN length({text}) = 10 AND NOT starts_with({text}, '-') THEN TRY_CAST({text} AS DATE) IS NOT NULL "
        f"ELSE ({month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND {last}) END)"
    )


class UnsupportedQuery(ValueError):
    """The query uses a feature this translator does not handle."""


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def term_text(term: object) -> str:
    """A constant term as N-Triples text."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    if isinstance(term, BNode):
        raise UnsupportedQuery("blank nodes in a query pattern")
    raise UnsupportedQuery(f"term {term!r}")


def kcol(name: str) -> str:
    """The column of a variable's computed value (:attr:`Relation.typed`)."""
    return f'"k_{name}"'


def col(name: str) -> str:
    """The column of a variable's term id (:func:`id_of`)."""
    return f'"v_{name}"'


def rcol(name: str, column: str) -> str:
    """The column, beside a solution's own, of one of a variable's term's columns in the terms
    table (:data:`TERM_COLUMNS`), joined where an expression reads it."""
    return f'"r_{name}_{column}"'


IRI_KIND, BLANK_KIND, LITERAL_KIND = 0, 1, 2
"""What the two low bits of a term's id say it is."""

TERM_COLUMNS = ("text", "lex", "dt", "str", "num", "day")
"""The terms table's columns beside ``id``: the N-Triples text; a literal's lexical form and
datatype IRI (N-Triples text; rdf:langString for a language-tagged string); STR() (an IRI's
text, a literal's lexical form); the value of a numeric literal (a double) and of an xsd:date."""


def id_of(text_sql: str) -> str:
    """The id of a term given as N-Triples text (not NULL): 62 bits from two of DuckDB's hashes,
    and in the two low bits what the term is (:data:`IRI_KIND`, :data:`BLANK_KIND`,
    :data:`LITERAL_KIND`), so that isIRI / isLiteral / isBlank, and "a literal is no subject",
    read the id alone.

    One hash alone is not enough: ``hash()`` maps ``<.../p95/brain-mri/seq-4>`` and
    ``<.../p99/brain-mri/seq-0>`` to one number (3 such pairs among the 848,559 terms of 100,000
    synthetic patients); the two together gave none there. A collision would merge two terms, so
    :func:`csfkg.engines.sql.store.add_terms` refuses a term whose id another term holds."""
    t = text_sql
    kind = f"(CASE WHEN starts_with({t}, '\"') THEN {LITERAL_KIND} WHEN starts_with({t}, '_:') THEN {BLANK_KIND} ELSE {IRI_KIND} END)"
    return f"((xor(hash({t}), hash(chr(1) || {t})) & ~CAST(3 AS UBIGINT)) | CAST({kind} AS UBIGINT))"


def is_kind(id_sql: str, kind: int) -> str:
    return f"(({id_sql} & CAST(3 AS UBIGINT)) = {kind})"


def term_id(text_sql: str) -> str:
    """The id of a term's text or :class:`Ref`; NULL for NULL (the hash of NULL is a number)."""
    if isinstance(text_sql, Ref):
        return text_sql.id
    return f"(CASE WHEN {text_sql} IS NOT NULL THEN {id_of(text_sql)} END)"


def const_id(term: object) -> str:
    return id_of(quote(term_text(term)))


STORED_TERM_COLUMNS = ("text", "lex", "dt", "num", "day")
"""The columns of :data:`TERM_COLUMNS` a store holds (:func:`term_rows`); ``str`` is computed
where read (:data:`TERM_STR`)."""


def term_str(alias: str | None = None) -> str:
    """SQL of a term's ``str`` column (STR(): an IRI less its brackets, a literal's lexical form)
    over its stored columns (of the table ``alias``). A query computes it from the columns it
    joined rather than reading the terms view's: DuckDB computed the view's for every term it
    scanned, before the join (every term of the store, to read the patients' IRIs)."""
    a = f"{alias}." if alias else ""
    return f"CASE WHEN {is_kind(f'{a}id', IRI_KIND)} THEN substr({a}text, 2, length({a}text) - 2) WHEN {is_kind(f'{a}id', LITERAL_KIND)} THEN {a}lex END"


TERM_STR = term_str()
"""SQL of a term's ``str`` column over its stored columns (:func:`term_str`)."""


def term_rows(source: str) -> str:
    """SQL of the terms' stored rows (``id`` and :data:`STORED_TERM_COLUMNS`) of the rows ``(id,
    text)`` of ``source``: literals parsed once, here, rather than by each expression that reads
    them."""
    numeric = ", ".join(quote(n) for n in NUMERIC)
    return (
        f"SELECT id, text, lex, dt, "
        f"CASE WHEN dt IN ({numeric}) THEN TRY_CAST(lex AS DOUBLE) END AS num, CASE WHEN dt = {quote(DATE)} THEN TRY_CAST(lex AS DATE) END AS day "
        f"FROM (SELECT id, text, CASE WHEN {is_kind('id', LITERAL_KIND)} THEN {_unescape(_text_lexical('text'))} END AS lex, "
        f"CASE WHEN {is_kind('id', LITERAL_KIND)} THEN {_text_datatype('text')} END AS dt FROM ({source}))"
    )


class Ref(str):
    """A stored term of the current row: the SQL of its N-Triples text (the string itself), of
    its id (:attr:`id`) and of its other columns in the terms table (:meth:`attr`). Expressions
    read the columns (``num``, ``day``, ``lex``, ``dt``, ``str``) instead of parsing the text;
    the query around joins the terms table for the variables whose columns it reads."""

    id: str
    _columns: Callable[[str], str]

    def __new__(cls, columns: Callable[[str], str], id_sql: str) -> Ref:
        self = super().__new__(cls, columns("text"))
        self._columns = columns
        self.id = id_sql
        return self

    def attr(self, column: str) -> str:
        return self.id if column == "id" else self._columns(column)

    @classmethod
    def of(cls, alias: str, variable: str) -> Ref:
        return cls(lambda column: f"{alias}.{rcol(variable, column)}", f"{alias}.{col(variable)}")

    @classmethod
    def either(cls, a: Ref, b: Ref) -> Ref:
        """The term of one side or, where it is unbound there, of the other."""
        return cls(
            lambda column: f"COALESCE({a.attr(column)}, {b.attr(column)})", f"COALESCE({a.id}, {b.id})"
        )


class Cast(str):
    """The SQL of a cast's result as N-Triples text (the string itself), with what it is made
    of: the target datatype, the test that the lexical form is valid, the lexical form. What an
    expression reads of it (its datatype, lexical form, value) is read from those, not from the
    text: on the text, ``datatype(xsd:date(STR(?v)))`` repeated the cast's SQL a dozen times."""

    target: str
    valid: str
    lex: str

    def __new__(cls, text: str, target: str, valid: str, lex: str) -> Cast:
        self = super().__new__(cls, text)
        self.target, self.valid, self.lex = target, valid, lex
        return self


@dataclass
class Relation:
    """SQL for a solution sequence: its variables, and those that may be unbound (NULL)."""

    sql: str
    variables: list[str]
    maybe_null: set[str] = field(default_factory=set)
    typed: dict[str, str] = field(default_factory=dict)
    """Variables bound by an expression, with the value it computed in a column beside the id
    (:func:`kcol`): a number, a date, a string, a boolean ("num", "date", "str", "bool") or the
    N-Triples text of a term ("term"), which may not be in the terms table. Every other
    variable's term is in the terms table."""
    with_values: Callable[[dict[str, list[str]]], str] | None = field(default=None, compare=False)
    """For a basic graph pattern: its SQL with the numbers and dates (``num``, ``day``) of the
    variables given (:func:`rcol` columns) read at the triple pattern that binds each, before
    the patterns are joined (:meth:`Translator.with_terms`)."""

    def columns(self, alias: str, variables: list[str] | None = None) -> str:
        """The select list of this relation's own columns (ids and computed values) from
        ``alias``."""
        names = self.variables if variables is None else variables
        parts = [f"{alias}.{col(v)}" for v in names] + [
            f"{alias}.{kcol(v)}" for v in names if v in self.typed
        ]
        return ", ".join(parts) or "1 AS __unit"


# --- expressions: each becomes (kind, sql); kind is "term", "str", "num", "bool" or "date"; the
# sql of a "term" is its N-Triples text, or a Ref to a stored term


def _unescape(lexical: str) -> str:
    """A lexical form as N-Triples writes it, unescaped: ``\\"``, ``\\n``, ``\\r`` within
    the pieces between escaped backslashes, joined by backslashes (the escapes the loader takes:
    csfkg.engines.sql.store.STATEMENT)."""
    piece = "replace(replace(replace(x, '\\\"', '\"'), '\\n', chr(10)), '\\r', chr(13))"
    return f"(CASE WHEN strpos({lexical}, '\\') = 0 THEN {lexical} ELSE array_to_string(list_transform(string_split({lexical}, '\\\\'), lambda x: {piece}), '\\') END)"


def _text_lexical(t: str) -> str:
    """A literal's lexical form: between the first and the last double quote."""
    return f"substr({t}, 2, length({t}) - strpos(reverse({t}), '\"') - 1)"


def _text_datatype(t: str) -> str:
    """A literal's datatype IRI as N-Triples text; NULL for an IRI or a blank node."""
    after_quote = f"substr({t}, length({t}) - strpos(reverse({t}), '\"') + 2, 1)"
    return (
        f"CASE WHEN starts_with({t}, '\"') THEN CASE WHEN ends_with({t}, '>') THEN substr({t}, length({t}) - strpos(reverse({t}), '<') + 1) "
        f"WHEN {after_quote} = '@' THEN '<{RDF.langString}>' "
        f"ELSE '<{XSD.string}>' END END"
    )


def lexical(t: str) -> str:
    if isinstance(t, Cast):
        return f"(CASE WHEN {t.valid} THEN {t.lex} END)"
    return t.attr("lex") if isinstance(t, Ref) else _unescape(_text_lexical(t))


def datatype(t: str) -> str:
    if isinstance(t, Cast):
        return f"(CASE WHEN {t.valid} THEN {quote(t.target)} END)"
    return t.attr("dt") if isinstance(t, Ref) else _text_datatype(t)


def is_literal(t: str) -> str:
    if isinstance(t, Cast):
        return f"(CASE WHEN {t.valid} THEN TRUE END)"
    return is_kind(t.id, LITERAL_KIND) if isinstance(t, Ref) else f"starts_with({t}, '\"')"


def as_num(kind: str, sql: str) -> str:
    if kind == "num":
        return sql
    if kind == "term":
        if isinstance(sql, Ref):
            return sql.attr("num")
        if isinstance(sql, Cast):
            return (
                f"(CASE WHEN {sql.valid} THEN TRY_CAST({sql.lex} AS DOUBLE) END)"
                if sql.target in NUMERIC
                else "CAST(NULL AS DOUBLE)"
            )
        return f"(CASE WHEN {datatype(sql)} IN ({', '.join(quote(n) for n in NUMERIC)}) THEN TRY_CAST({lexical(sql)} AS DOUBLE) END)"
    return "NULL"


def as_date(kind: str, sql: str) -> str:
    if kind == "date":
        return sql
    if kind == "term":
        if isinstance(sql, Ref):
            return sql.attr("day")
        if isinstance(sql, Cast):
            return (
                f"(CASE WHEN {sql.valid} THEN TRY_CAST({sql.lex} AS DATE) END)"
                if sql.target == DATE
                else "CAST(NULL AS DATE)"
            )
        return f"(CASE WHEN {datatype(sql)} = {quote(DATE)} THEN TRY_CAST({lexical(sql)} AS DATE) END)"
    return "NULL"


def as_str(kind: str, sql: str) -> str:
    """STR(): an IRI's text, a literal's lexical form."""
    if kind == "str":
        return sql
    if kind == "term":
        if isinstance(sql, Ref):
            return sql.attr("str")
        if isinstance(sql, Cast):
            return lexical(sql)
        return f"(CASE WHEN starts_with({sql}, '<') THEN substr({sql}, 2, length({sql}) - 2) WHEN starts_with({sql}, '\"') THEN {lexical(sql)} END)"
    if kind == "num":
        return f"CAST({sql} AS VARCHAR)"
    if kind == "bool":
        return f"(CASE {sql} WHEN TRUE THEN 'true' WHEN FALSE THEN 'false' END)"
    return f"CAST({sql} AS VARCHAR)"


def as_bool(kind: str, sql: str) -> str:
    """Effective boolean value."""
    if kind == "bool":
        return sql
    if kind == "num":
        return f"({sql} <> 0)"
    if kind == "str":
        return f"(length({sql}) > 0)"
    if kind == "term":
        return (
            f"(CASE WHEN {datatype(sql)} = {quote(BOOLEAN)} THEN {lexical(sql)} IN ('true', '1') "
            f"WHEN {datatype(sql)} IN ({', '.join(quote(n) for n in NUMERIC)}) THEN {as_num('term', sql)} <> 0 "
            f"WHEN {datatype(sql)} = '<{XSD.string}>' THEN length({lexical(sql)}) > 0 END)"
        )
    return "NULL"


def as_term(kind: str, sql: str) -> str:
    if kind == "term":
        return sql
    if kind == "str":
        # escaped as the N-Triples text of a stored literal is (STATEMENT)
        return f"('\"' || replace(replace(replace(replace({sql}, '\\', '\\\\'), '\"', '\\\"'), chr(10), '\\n'), chr(13), '\\r') || '\"')"
    if kind == "num":
        # integers stay xsd:integer (COUNT, arithmetic on integers); others xsd:decimal
        # (past BIGINT, as a decimal: the cast would fail the query)
        return (
            f"(CASE WHEN {sql} = floor({sql}) AND abs({sql}) < 9.2e18 THEN '\"' || CAST(CAST({sql} AS BIGINT) AS VARCHAR) || '\"^^{INTEGER}' "
            f"ELSE '\"' || CAST({sql} AS VARCHAR) || '\"^^{DECIMAL}' END)"
        )
    if kind == "bool":
        return f"(CASE {sql} WHEN TRUE THEN '\"true\"^^{BOOLEAN}' WHEN FALSE THEN '\"false\"^^{BOOLEAN}' END)"
    if kind == "date":
        return f"('\"' || strftime({sql}, '%Y-%m-%d') || '\"^^{DATE}')"
    raise UnsupportedQuery(kind)


def _constant_non_literal(sql: str) -> bool:
    return not isinstance(sql, Ref) and sql.startswith("'") and not sql.startswith("'\"")


def term_equal(a: str, b: str) -> str:
    """SPARQL's ``=`` on two terms: the same term; two literals of equal numeric or date value;
    two other literals are an error (NULL); anything else false."""
    if _constant_non_literal(a) or _constant_non_literal(b):
        if isinstance(a, Ref) or isinstance(b, Ref):
            return f"({term_id(a)} = {term_id(b)})"
        return f"({a} = {b})"  # two texts: the same term, the same text
    ia, ib = term_id(a), term_id(b)
    return (
        f"(CASE WHEN {ia} = {ib} THEN TRUE WHEN {ia} IS NULL OR {ib} IS NULL THEN NULL "
        f"WHEN NOT ({is_literal(a)} AND {is_literal(b)}) THEN FALSE "
        f"WHEN {as_num('term', a)} IS NOT NULL AND {as_num('term', b)} IS NOT NULL THEN {as_num('term', a)} = {as_num('term', b)} "
        f"WHEN {as_date('term', a)} IS NOT NULL AND {as_date('term', b)} IS NOT NULL THEN {as_date('term', a)} = {as_date('term', b)} "
        f"ELSE FALSE END)"
    )


class Env(dict):
    """Variable name -> its term in the current row (a :class:`Ref`); ``ids``: the SQL of its
    term id; ``nullable``: those that may be unbound (NULL) there; ``typed``: the computed
    values (:attr:`Relation.typed`) as (kind, SQL). Equality on a variable that is never NULL is
    a plain equality of ids, which the engine can hash-join; only the others need SPARQL's
    compatibility test."""

    def __init__(
        self,
        items: dict[str, str],
        nullable: set[str],
        ids: dict[str, str] | None = None,
        typed: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(items)
        self.ids = dict(ids or {})
        self.nullable = set(nullable) & set(items)
        self.typed = dict(typed or {})

    @classmethod
    def of(cls, alias: str, relation: Relation) -> Env:
        return cls(
            {v: Ref.of(alias, v) for v in relation.variables},
            relation.maybe_null,
            {v: f"{alias}.{col(v)}" for v in relation.variables},
            {v: (kind, f"{alias}.{kcol(v)}") for v, kind in relation.typed.items()},
        )


class Layout:
    """Where a translated query finds its triples: one table of them (``s, p, o``, term ids),
    which :meth:`predicate` filters on the predicate's id, and the terms table (``id`` and
    :data:`TERM_COLUMNS`)."""

    def __init__(self, table: str = "triples", terms: str = "terms") -> None:
        self.table = table
        self.terms = terms

    def all(self) -> str:
        """SQL naming a relation of every triple: columns ``s, p, o``."""
        return self.table

    def predicate(self, text: str) -> str:
        """SQL of a relation of the triples with the predicate of N-Triples ``text``: columns
        ``s, o``."""
        return f"(SELECT s, o FROM {self.table} WHERE p = {id_of(quote(text))})"

    def values(self) -> str:
        """SQL of a relation of the terms with a number or a date: columns ``id, num, day``."""
        return f"(SELECT id, num, day FROM {self.terms} WHERE num IS NOT NULL OR day IS NOT NULL)"


class Translator:
    def __init__(self, table: str | Layout = "triples", unordered: bool = False) -> None:
        self.unordered = unordered
        """ORDER BY is left out (the caller orders the rows); otherwise it is refused."""
        self.layout = table if isinstance(table, Layout) else Layout(table)
        self.table = self.layout.all()
        self.terms = self.layout.terms
        self.names = count(1)
        self.outer: list[Env] = []
        """The rows an EXISTS pattern being translated is tested for, innermost last: SPARQL
        substitutes their bindings into the pattern, so a variable the pattern does not bind
        reads the outer row (a correlated subquery)."""
        self.bag = False
        """Whether the pattern being translated is read for its existence only (an EXISTS
        pattern, outside an aggregate): a property path's pairs need not then be made distinct
        (``?brain a/rdfs:subClassOf* ?region`` in an EXISTS made every type pair of the store
        distinct four times in one check, before the join with the rows tested)."""
        self.correlating = False
        """Whether an EXISTS row's bindings are substituted into the pattern (:meth:`correlated`)."""

    def correlated(self, name: str) -> str | None:
        """The SQL of the term id an EXISTS pattern's variable has in the row tested, where the
        pattern is read as SPARQL reads it, with that row's bindings substituted (in its
        required parts: not in an OPTIONAL or MINUS side, a sub-SELECT or an aggregate, where
        this translator joins instead), and the row binds it to a stored term; else None.
        Written beside the triple pattern that binds it, it lets the engine read only the
        triples of the rows tested (a plain equality at the EXISTS alone made it read them
        all: every node's every type for ``?brain a/rdfs:subClassOf* ?region``)."""
        if not self.correlating:
            return None
        for env in reversed(self.outer):
            if name in env:
                return None if name in env.nullable or name in env.typed else env.ids.get(name)
        return None

    def apart(self, node: CompValue) -> Relation:
        """A pattern translated with no substitution of an EXISTS row (:meth:`correlated`)."""
        correlating, self.correlating = self.correlating, False
        try:
            return self.pattern(node)
        finally:
            self.correlating = correlating

    def distinct(self) -> str:
        """``DISTINCT`` for a property path's pairs, but in a pattern read for its existence."""
        return "" if self.bag else "DISTINCT "

    def scope(self, name: str, env: Env) -> Env | None:
        """The innermost of ``env`` and the outer rows that binds ``name``."""
        if name in env:
            return env
        return next((outer for outer in reversed(self.outer) if name in outer), None)

    def alias(self, stem: str = "r") -> str:
        return f"{stem}{next(self.names)}"

    def with_terms(self, relation: Relation, alias: str, used: str) -> str:
        """``relation``'s SQL, with the terms table's columns (:func:`rcol`) of each stored
        variable whose columns ``used`` (SQL over ``alias``) reads."""
        needed = [
            v for v in relation.variables if v not in relation.typed and f"{alias}.{rcol(v, '')[:-1]}" in used
        ]
        if not needed:
            return relation.sql
        reads = {
            v: [column for column in TERM_COLUMNS if f"{alias}.{rcol(v, column)}" in used] for v in needed
        }
        # none read: another variable's column whose name starts as this one's do
        reads = {v: read for v, read in reads.items() if read}
        if (
            reads
            and relation.with_values is not None
            and all(set(read) <= {"num", "day"} for read in reads.values())
        ):
            # values read where each variable is bound, from the small table of values: joined
            # after the patterns, on (sequence, voxel size, requirement, largest size) rows
            # whose sizes are a few values, DuckDB built its table on those rows
            return relation.with_values(reads)
        i = self.alias("i")
        if not reads:
            return relation.sql
        columns: list[str] = []
        joins: list[str] = []
        for v, read in reads.items():
            t = self.alias("tm")
            if set(read) <= {"num", "day"}:
                # a number or a date as a scalar subquery, which DuckDB runs on the distinct ids:
                # as a join, it built its hash table on the rows, where the id was often one
                # value (a threshold: a third of the patients' rows on one key, in
                # derive-criterion-two-non-targeted-ebps)
                columns.extend(
                    f"(SELECT {t}.{column} FROM {self.layout.values()} {t} WHERE {t}.id = {i}.{col(v)}) AS {rcol(v, column)}"
                    for column in read
                )
                continue
            joins.append(f"LEFT JOIN {self.terms_with(read)} {t} ON {t}.id = {i}.{col(v)}")
            columns.extend(
                f"{term_str(t) if column == 'str' else f'{t}.{column}'} AS {rcol(v, column)}"
                for column in read
            )
        return f"SELECT {i}.*, {', '.join(columns)} FROM ({relation.sql}) {i} {' '.join(joins)}"

    def terms_with(self, columns: list[str]) -> str:
        """The rows of the terms table in which one of ``columns`` can be other than NULL: the
        terms with a number or a date for ``num`` and ``day``, the literals for ``lex`` and
        ``dt``, all of them otherwise. (A join then builds its hash table on those, not on every
        term.) The terms with a number or a date are the layout's
        :meth:`Layout.values`."""
        if set(columns) <= {"num", "day"}:
            return self.layout.values()
        if set(columns) <= {"lex", "dt", "num", "day"}:
            return f"(SELECT id, {', '.join(columns)} FROM {self.terms} WHERE {is_kind('id', LITERAL_KIND)})"
        return self.terms

    def as_text(self, relation: Relation, v: str) -> Relation:
        """``relation`` with ``v`` as a computed term (its N-Triples text in its value column):
        what a union or an optional join needs where one side computed ``v`` and the other
        read it from the store, or computed another kind of value."""
        kind = relation.typed.get(v)
        if kind == "term" or v not in relation.variables:
            return relation
        i = self.alias("i")
        if kind is not None:
            sql = (
                f"SELECT * REPLACE ({as_term(kind, f'{i}.{kcol(v)}')} AS {kcol(v)}) FROM ({relation.sql}) {i}"
            )
        else:
            t = self.alias("tm")
            sql = f"SELECT {i}.*, {t}.text AS {kcol(v)} FROM ({relation.sql}) {i} LEFT JOIN {self.terms} {t} ON {t}.id = {i}.{col(v)}"
        return Relation(sql, relation.variables, relation.maybe_null, {**relation.typed, v: "term"})

    # --- patterns

    def pattern(self, node: CompValue) -> Relation:
        method = getattr(self, f"p_{node.name}", None)
        if method is None:
            raise UnsupportedQuery(f"pattern {node.name}")
        return method(node)

    def p_BGP(self, node: CompValue) -> Relation:
        froms: list[str] = []
        conditions: list[str] = []
        bound: dict[str, str] = {}
        origin: dict[str, str] = {}
        """SQL of the terms a variable can have, from the first plain triple pattern that binds
        it (its table, with its constants): a property path whose subject it is reads only
        those subjects (the join with that pattern keeps only them anyway)."""
        at: dict[str, int] = {}
        """The position in ``froms`` of the pattern that binds each variable."""
        for s, p, o in self.join_order(node.triples):
            a = self.alias("t")
            if isinstance(p, Path):
                narrow = None if isinstance(o, Variable) else self.path_to(p, const_id(o))
                subjects = origin.get(str(s)) if isinstance(s, Variable) else None
                if (
                    subjects is None
                    and isinstance(s, Variable)
                    and str(s) not in bound
                    and isinstance(p, SequencePath)
                    and isinstance(p.args[0], URIRef)
                ):
                    # in an EXISTS, a subject the row tested binds: the path's first step read
                    # for that subject only (DuckDB otherwise made every node's every type and
                    # superclass, then joined the rows tested)
                    outer = self.correlated(str(s))
                    subjects = None if outer is None else f"SELECT {outer}"
                froms.append(f"({narrow or self.path(p, subjects)}) {a}")
                positions = (("s", s), ("o", o))
            elif not isinstance(p, Variable):
                table = self.layout.predicate(term_text(p))
                froms.append(f"{table} {a}")
                positions = (("s", s), ("o", o))
                constants = [
                    f"{column} = {const_id(term)}"
                    for column, term in positions
                    if not isinstance(term, Variable)
                ]
                for column, term in positions:
                    if isinstance(term, Variable) and str(term) not in origin:
                        origin[str(term)] = (
                            f"SELECT {column} FROM {table}{' WHERE ' + ' AND '.join(constants) if constants else ''}"
                        )
            else:
                froms.append(f"{self.table} {a}")
                positions = (("s", s), ("p", p), ("o", o))
            for column, term in positions:
                ref = f"{a}.{column}"
                if isinstance(term, Variable):
                    if str(term) in bound:
                        conditions.append(f"{ref} = {bound[str(term)]}")
                    else:
                        bound[str(term)] = ref
                        at[str(term)] = len(froms) - 1
                        outer = self.correlated(str(term))
                        if outer is not None:
                            conditions.append(f"{ref} = {outer}")
                else:
                    conditions.append(f"{ref} = {const_id(term)}")
        if not froms:
            return Relation("SELECT 1 AS __unit", [])
        select = ", ".join(f"{ref} AS {col(v)}" for v, ref in bound.items()) or "1 AS __unit"
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""

        def with_values(reads: dict[str, list[str]]) -> str:
            items, columns = list(froms), []
            for v, read in reads.items():
                t = self.alias("tm")
                items[at[v]] += f" LEFT JOIN {self.layout.values()} {t} ON {t}.id = {bound[v]}"
                columns.extend(f"{t}.{column} AS {rcol(v, column)}" for column in read)
            return f"SELECT {select}, {', '.join(columns)} FROM {', '.join(items)}{where}"

        return Relation(
            f"SELECT {select} FROM {', '.join(froms)}{where}", list(bound), with_values=with_values
        )

    @staticmethod
    def join_order(triples: list) -> list:
        """The triple patterns in an order that joins each to those before it where it can
        (rdflib lists them in its own order; a triples table gives the engine no statistics to
        choose with, and its guess crossed 10,000 patients with 9 classes)."""

        def constants(triple: tuple) -> int:
            return sum(not isinstance(term, Variable) for term in triple) + (
                0 if isinstance(triple[1], Path) else 1
            )

        rest = list(triples)
        ordered: list = []
        seen: set[str] = set()
        while rest:
            joined = [t for t in rest if seen & {str(x) for x in t if isinstance(x, Variable)}]
            pick = max(joined or rest, key=constants)
            rest.remove(pick)
            ordered.append(pick)
            seen |= {str(x) for x in pick if isinstance(x, Variable)}
        return ordered

    def path(self, path: Path, subjects: str | None = None) -> str:
        """SQL with columns s, o (term ids) for a property path (a set, as SPARQL's path
        operators give); with ``subjects`` (SQL of one column of term ids), only the pairs whose
        subject is one of them."""
        if isinstance(path, URIRef):
            where = f" WHERE s IN ({subjects})" if subjects else ""
            return f"SELECT s, o FROM {self.layout.predicate(term_text(path))}{where}"
        if isinstance(path, AlternativePath):
            return f" UNION {'ALL ' if self.bag else ''}".join(
                f"({self.path(arg, subjects)})" for arg in path.args
            )
        if isinstance(path, SequencePath):
            steps = list(path.args)
            left = self.path(steps[0], subjects)
            for step in steps[1:]:
                left = self.path_step(step, left)
            return left
        if isinstance(path, MulPath) and path.mod == "+":
            return self.plus(path.path, subjects)
        if isinstance(path, MulPath) and path.mod in ("*", "?"):
            # zero steps: every term of the graph to itself (SPARQL's zero-length path); of the
            # subjects, each (a term of a triple) to itself
            inner = self.plus(path.path, subjects) if path.mod == "*" else self.path(path.path, subjects)
            zero = self.nodes() if subjects is None else f"SELECT s, s AS o FROM ({subjects}) z(s)"
            return f"SELECT {self.distinct()}s, o FROM (({inner}) UNION ({zero}))"
        raise UnsupportedQuery(f"property path {path!r}")

    def path_to(self, path: Path, target: str) -> str | None:
        """SQL with columns s, o for the pairs of a property path whose object is the term of id
        ``target``, walked back from it (None where there is no narrower form than
        :meth:`path` filtered). ``?x rdf:type/rdfs:subClassOf* C`` reads the subclasses of C and
        the nodes typed with one of them, instead of every node's every type and superclass."""
        if isinstance(path, URIRef):
            return f"SELECT s, o FROM {self.layout.predicate(term_text(path))} WHERE o = {target}"
        if not isinstance(path, SequencePath) or len(path.args) < 2:
            return None
        *first, last = path.args
        left = self.path(first[0]) if len(first) == 1 else self.path(SequencePath(*first))
        a = self.alias("l")
        if isinstance(last, MulPath) and last.mod in ("*", "?"):
            # zero steps: the left pairs that end at the target; one or more: those that end
            # at a node from which the step reaches it
            step = self.path(last.path)
            back = self.alias("back")
            if last.mod == "*":
                reach = (
                    f"WITH RECURSIVE {back}(s) AS (SELECT s FROM ({step}) WHERE o = {target} "
                    f"UNION SELECT x.s FROM {back} JOIN ({step}) x ON x.o = {back}.s) SELECT s FROM {back}"
                )
            else:
                reach = f"SELECT s FROM ({step}) WHERE o = {target}"
            return (
                f"SELECT {self.distinct()}s, {target} AS o FROM ({left}) {a} "
                f"WHERE {a}.o = {target} OR {a}.o IN ({reach})"
            )
        right = self.path_to(last, target)
        if right is None:
            return None
        b = self.alias("m")
        return f"SELECT {self.distinct()}{a}.s, {b}.o FROM ({left}) {a} JOIN ({right}) {b} ON {a}.o = {b}.s"

    def nodes(self) -> str:
        """Every subject and object of the graph, paired with itself (columns s, o)."""
        return f"SELECT DISTINCT s, s AS o FROM (SELECT s FROM {self.table} UNION SELECT o FROM {self.table})"

    def path_step(self, step: Path, left: str | None) -> str:
        if left is None:
            return self.path(step)
        a, b = self.alias("l"), self.alias("m")
        if isinstance(step, MulPath) and step.mod in ("*", "?"):
            inner = self.plus(step.path) if step.mod == "*" else self.path(step.path)
            # zero steps: the left pairs themselves; one or more: joined with the closure
            union = "UNION ALL" if self.bag else "UNION"
            return f"SELECT {self.distinct()}s, o FROM (SELECT s, o FROM ({left}) {a} {union} SELECT {a}.s, {b}.o FROM ({left}) {a} JOIN ({inner}) {b} ON {a}.o = {b}.s)"
        return f"SELECT {self.distinct()}{a}.s, {b}.o FROM ({left}) {a} JOIN ({self.path(step)}) {b} ON {a}.o = {b}.s"

    def plus(self, step: Path, subjects: str | None = None) -> str:
        name = self.alias("closure")
        base = self.path(step)
        return (
            f"WITH RECURSIVE {name}(s, o) AS (SELECT s, o FROM ({self.path(step, subjects) if subjects else base}) "
            f"UNION SELECT {name}.s, x.o FROM {name} JOIN ({base}) x ON {name}.o = x.s) "
            f"SELECT s, o FROM {name}"
        )

    def p_Join(self, node: CompValue) -> Relation:
        # a join of basic graph patterns is one basic graph pattern: ordered as a whole, so that
        # a group that is a cross product on its own ({ ?fact a X . ?patient a Y }) joins
        # through the other group's patterns instead
        triples = self.bgp_triples(node)
        if triples is not None:
            return self.p_BGP(CompValue("BGP", triples=triples))
        return self.join(self.pattern(node.p1), self.pattern(node.p2))

    def bgp_triples(self, node: CompValue) -> list | None:
        if node.name == "BGP":
            return list(node.triples)
        if node.name == "Join":
            left, right = self.bgp_triples(node.p1), self.bgp_triples(node.p2)
            if left is not None and right is not None:
                return left + right
        return None

    def join(self, left: Relation, right: Relation, condition: object = None, kind: str = "JOIN") -> Relation:
        a, b = self.alias("a"), self.alias("b")
        shared = [v for v in left.variables if v in right.variables]
        conditions = []
        for v in shared:
            if v in left.maybe_null or v in right.maybe_null:
                conditions.append(
                    f"({a}.{col(v)} = {b}.{col(v)} OR {a}.{col(v)} IS NULL OR {b}.{col(v)} IS NULL)"
                )
                if left.typed.get(v) != right.typed.get(v):
                    # one side's value computed, the other's stored or computed otherwise: both as text
                    left, right = self.as_text(left, v), self.as_text(right, v)
            else:
                conditions.append(f"{a}.{col(v)} = {b}.{col(v)}")
        variables = left.variables + [v for v in right.variables if v not in left.variables]
        env = self.env_for(left, right, a, b, kind == "LEFT JOIN")
        left_sql, right_sql = left.sql, right.sql
        if condition is not None:
            condition_sql = condition(env)
            conditions.append(condition_sql)
            left_sql, right_sql = (
                self.with_terms(left, a, condition_sql),
                self.with_terms(right, b, condition_sql),
            )
        select = ", ".join(f"{env.ids[v]} AS {col(v)}" for v in variables) or "1 AS __unit"
        select += "".join(f", {env.typed[v][1]} AS {kcol(v)}" for v in variables if v in env.typed)
        on = " AND ".join(conditions) or "TRUE"
        if kind == "LEFT JOIN":
            maybe = (
                left.maybe_null
                | set(v for v in right.variables if v not in left.variables)
                | (right.maybe_null & set(left.maybe_null))
            )
        else:
            maybe = (
                (left.maybe_null - set(right.variables))
                | (right.maybe_null - set(left.variables))
                | (left.maybe_null & right.maybe_null)
            )
        return Relation(
            f"SELECT {select} FROM ({left_sql}) {a} {kind} ({right_sql}) {b} ON {on}",
            variables,
            maybe,
            {v: env.typed[v][0] for v in variables if v in env.typed},
        )

    def env_for(self, left: Relation, right: Relation, a: str, b: str, left_join: bool) -> Env:
        env: dict[str, str] = {}
        ids: dict[str, str] = {}
        typed: dict[str, tuple[str, str]] = {}
        for v in left.variables + [v for v in right.variables if v not in left.variables]:
            in_left, in_right = v in left.variables, v in right.variables
            if in_left and in_right and (v in left.maybe_null or v in right.maybe_null):
                env[v] = Ref.either(Ref.of(a, v), Ref.of(b, v))
                ids[v] = f"COALESCE({a}.{col(v)}, {b}.{col(v)})"
                if v in left.typed:  # the same kind on both sides (join() saw to it)
                    typed[v] = (left.typed[v], f"COALESCE({a}.{kcol(v)}, {b}.{kcol(v)})")
                continue
            # bound on one side, or on both to one term: either side's value is the value (the
            # left side's in a left join, whose right side is NULL where nothing matched)
            side, relation = (
                (a, left)
                if in_left and (left_join or v in left.typed or v not in right.typed)
                else (b, right)
            )
            env[v] = Ref.of(side, v)
            ids[v] = f"{side}.{col(v)}"
            if v in relation.typed:
                typed[v] = (relation.typed[v], f"{side}.{kcol(v)}")
        nullable = (
            (left.maybe_null - set(right.variables))
            | (right.maybe_null - set(left.variables))
            | (left.maybe_null & right.maybe_null)
        )
        return Env(env, nullable, ids, typed)

    def p_LeftJoin(self, node: CompValue) -> Relation:
        left, right = self.pattern(node.p1), self.apart(node.p2)
        expr = node.expr
        condition = None
        if expr is not None and getattr(expr, "name", None) != "TrueFilter":
            condition = lambda env: self.boolean(expr, env)  # noqa: E731
        return self.join(left, right, condition, "LEFT JOIN")

    def p_Filter(self, node: CompValue) -> Relation:
        inner = self.pattern(node.p)
        f = self.alias("f")
        condition = self.boolean(node.expr, Env.of(f, inner))
        return Relation(
            f"SELECT {inner.columns(f)} FROM ({self.with_terms(inner, f, condition)}) {f} WHERE {condition}",
            inner.variables,
            inner.maybe_null,
            dict(inner.typed),
        )

    def p_Extend(self, node: CompValue) -> Relation:
        inner = self.pattern(node.p)
        f = self.alias("e")
        env = Env.of(f, inner)
        var = str(node.var)
        if var in inner.variables:
            raise UnsupportedQuery(f"BIND to ?{var}, which is already bound")
        columns = inner.columns(f) if inner.variables else ""
        columns = f"{columns}, " if columns else ""
        if isinstance(node.expr, Variable) and str(node.expr) in env:
            # a copy: the same id (and value); always bound where the original is
            source = str(node.expr)
            value = f"{env.ids[source]} AS {col(var)}"
            typed = dict(inner.typed)
            if source in env.typed:
                value += f", {env.typed[source][1]} AS {kcol(var)}"
                typed[var] = env.typed[source][0]
            maybe = inner.maybe_null | ({var} if source in inner.maybe_null else set())
            return Relation(
                f"SELECT {columns}{value} FROM ({inner.sql}) {f}", inner.variables + [var], maybe, typed
            )
        kind, sql = self.expr(node.expr, env)
        if isinstance(node.expr, URIRef):
            # an IRI: always bound, its id a constant, so that a join on it is a join on equal
            # ids (as a value that may be unbound, derive-missing-data's eight elements were
            # joined to their codes by a nested loop over every row)
            return Relation(
                f"SELECT {columns}{sql} AS {kcol(var)}, {const_id(node.expr)} AS {col(var)} FROM ({inner.sql}) {f}",
                inner.variables + [var],
                set(inner.maybe_null),
                {**inner.typed, var: kind},
            )
        # the value first (evaluated once), its term's id from it in a query around
        x = self.alias("x")
        value = f"SELECT {columns}{sql} AS {kcol(var)} FROM ({self.with_terms(inner, f, sql)}) {f}"
        return Relation(
            f"SELECT *, {term_id(as_term(kind, f'{x}.{kcol(var)}'))} AS {col(var)} FROM ({value}) {x}",
            inner.variables + [var],
            inner.maybe_null | {var},
            {**inner.typed, var: kind},
        )

    def p_Union(self, node: CompValue) -> Relation:
        left, right = self.pattern(node.p1), self.pattern(node.p2)
        variables = left.variables + [v for v in right.variables if v not in left.variables]
        for v in variables:
            kinds = {r.typed.get(v) for r in (left, right) if v in r.variables}
            if len(kinds) > 1:
                left, right = self.as_text(left, v), self.as_text(right, v)
        maybe = left.maybe_null | right.maybe_null | (set(left.variables) ^ set(right.variables))
        typed = {v: k for r in (left, right) for v, k in r.typed.items()}
        return Relation(
            f"SELECT * FROM ({left.sql}) UNION ALL BY NAME SELECT * FROM ({right.sql})",
            variables,
            maybe,
            typed,
        )

    def p_Project(self, node: CompValue) -> Relation:
        inner = self.apart(node.p)
        f = self.alias("pr")
        names = [str(v) for v in node.PV]
        select = (
            ", ".join(
                f"{f}.{col(v)}" if v in inner.variables else f"CAST(NULL AS UBIGINT) AS {col(v)}"
                for v in names
            )
            or "1 AS __unit"
        )
        select += "".join(f", {f}.{kcol(v)}" for v in names if v in inner.typed)
        maybe = {v for v in names if v not in inner.variables or v in inner.maybe_null}
        return Relation(
            f"SELECT {select} FROM ({inner.sql}) {f}",
            names,
            maybe,
            {v: k for v, k in inner.typed.items() if v in names},
        )

    def p_Minus(self, node: CompValue) -> Relation:
        """SPARQL's MINUS: a row goes when some row of the right side is compatible with it and
        shares a bound variable with it (no shared variable: nothing goes)."""
        left, right = self.pattern(node.p1), self.apart(node.p2)
        shared = [v for v in left.variables if v in right.variables]
        if not shared:
            return left
        a, b = self.alias("a"), self.alias("b")
        compatible, sharing = [], []
        for v in shared:
            if v in left.maybe_null or v in right.maybe_null:
                compatible.append(
                    f"({a}.{col(v)} IS NULL OR {b}.{col(v)} IS NULL OR {a}.{col(v)} = {b}.{col(v)})"
                )
                sharing.append(f"({a}.{col(v)} IS NOT NULL AND {b}.{col(v)} IS NOT NULL)")
            else:
                compatible.append(f"{a}.{col(v)} = {b}.{col(v)}")
                sharing.append("TRUE")
        where = " AND ".join(compatible + ["(" + " OR ".join(sharing) + ")"])
        return Relation(
            f"SELECT * FROM ({left.sql}) {a} WHERE NOT EXISTS (SELECT 1 FROM ({right.sql}) {b} WHERE {where})",
            left.variables,
            left.maybe_null,
            dict(left.typed),
        )

    def p_Distinct(self, node: CompValue) -> Relation:
        # a computed value follows from its term's id, so DISTINCT over both is over the ids
        inner = self.pattern(node.p)
        return Relation(
            f"SELECT DISTINCT * FROM ({inner.sql})", inner.variables, inner.maybe_null, dict(inner.typed)
        )

    def p_OrderBy(self, node: CompValue) -> Relation:
        if not self.unordered:
            raise UnsupportedQuery("ORDER BY")
        return self.pattern(node.p)

    def p_ToMultiSet(self, node: CompValue) -> Relation:
        return self.pattern(node.p)

    def p_values(self, node: CompValue) -> Relation:
        rows = node.res
        names: list[str] = []
        for row in rows:
            for v in row:
                if str(v) not in names:
                    names.append(str(v))
        lines = []
        for row in rows:
            values = {str(k): v for k, v in row.items()}
            lines.append(
                "("
                + ", ".join(const_id(values[n]) if n in values else "CAST(NULL AS UBIGINT)" for n in names)
                + ")"
            )
        maybe = {n for n in names if any(n not in {str(k) for k in row} for row in rows)}
        columns = ", ".join(col(n) for n in names)
        return Relation(f"SELECT * FROM (VALUES {', '.join(lines)}) AS vals({columns})", names, maybe)

    def p_AggregateJoin(self, node: CompValue) -> Relation:
        group = node.p
        if group.name != "Group":
            raise UnsupportedQuery("aggregates without a group")
        bag, self.bag = self.bag, False  # an aggregate counts what a path pairs
        try:
            inner = self.apart(group.p)
        finally:
            self.bag = bag
        f = self.alias("g")
        env = Env.of(f, inner)
        keys: list[str] = []
        for expr in group.expr or []:
            if not isinstance(expr, Variable):
                raise UnsupportedQuery("GROUP BY an expression")
            keys.append(str(expr))
        # rdflib's algebra binds the group keys again from SAMPLE aggregates (Extend over this),
        # so the rows hold the aggregates only
        once = self.distinct_rows(group.p)
        select: list[str] = []
        names: list[str] = []
        nullable: set[str] = set()
        typed: dict[str, str] = {}
        for aggregate in node.A:
            res = str(aggregate.res)
            name = aggregate.name
            source = str(aggregate.vars) if isinstance(aggregate.vars, Variable) else None
            stored = source in inner.variables and source not in inner.typed
            # DISTINCT over the rows of a basic graph pattern whose variables are the group's
            # keys and the one aggregated: each row is already another value of it
            plain = once is not None and source is not None and once <= set(keys) | {source}
            if name == "Aggregate_Count":
                select.append(f"{self.count(aggregate, env, plain)} AS {kcol(res)}")
                typed[res] = "num"
            elif name in ("Aggregate_Sample", "Aggregate_Min", "Aggregate_Max") and stored:
                # a stored term: its id picked; MIN and MAX by numeric value where there is one
                term = env[source]
                if name in ("Aggregate_Sample", "Aggregate_Min", "Aggregate_Max") and source in keys:
                    select.append(f"{env.ids[source]} AS {col(res)}")  # a group key: one value a group
                elif name == "Aggregate_Sample":
                    select.append(f"ANY_VALUE({env.ids[source]}) AS {col(res)}")
                else:
                    pick = "arg_min" if name == "Aggregate_Min" else "arg_max"
                    select.append(
                        f"COALESCE({pick}({term.id}, {term.attr('num')}), {pick}({term.id}, {term.attr('text')})) AS {col(res)}"
                    )
            elif name == "Aggregate_GroupConcat":
                separator = aggregate.separator if aggregate.separator is not None else " "
                distinct = "DISTINCT " if aggregate.distinct and not plain else ""
                select.append(
                    f"COALESCE(string_agg({distinct}{as_str(*self.expr(aggregate.vars, env))}, {quote(separator)}), '') AS {kcol(res)}"
                )
                typed[res] = "str"
            else:
                select.append(f"{self.aggregate(aggregate, env)} AS {kcol(res)}")
                typed[res] = "term"
            names.append(res)
            # COUNT and GROUP_CONCAT are always bound; SAMPLE, MIN, MAX of a variable that is
            # bound in every row are bound
            if name in ("Aggregate_Sample", "Aggregate_Min", "Aggregate_Max"):
                if not (source in inner.variables and source not in inner.maybe_null):
                    nullable.add(res)
        group_by = f" GROUP BY {', '.join(env.ids[k] for k in keys if k in env)}" if keys else ""
        body = ", ".join(select) or "1 AS __unit"
        sql = f"SELECT {body} FROM ({self.with_terms(inner, f, body)}) {f}{group_by}"
        x = self.alias("x")
        ids = ", ".join(
            f"{term_id(as_term(kind, f'{x}.{kcol(n)}'))} AS {col(n)}" for n, kind in typed.items()
        )
        return Relation(f"SELECT *{', ' + ids if ids else ''} FROM ({sql}) {x}", names, nullable, typed)

    @staticmethod
    def distinct_rows(node: CompValue) -> set[str] | None:
        """The variables of a basic graph pattern of plain triple patterns (no property path),
        whose solutions are distinct as this translator reads it (each predicate's table holds a
        pair once); None for any other pattern."""
        if node.name != "BGP" or any(isinstance(p, Path) for _, p, _ in node.triples):
            return None
        return {str(term) for triple in node.triples for term in triple if isinstance(term, Variable)}

    def count(self, aggregate: CompValue, env: Env, plain: bool = False) -> str:
        """COUNT as a number; of a variable, its bound terms counted by id (``plain``: the
        rows are distinct on it within a group, so DISTINCT is left out)."""
        distinct = "DISTINCT " if aggregate.distinct and not plain else ""
        if aggregate.vars == "*":
            if aggregate.distinct:
                raise UnsupportedQuery("COUNT(DISTINCT *)")
            return "CAST(COUNT(*) AS DOUBLE)"
        if isinstance(aggregate.vars, Variable) and str(aggregate.vars) in env:
            return f"CAST(COUNT({distinct}{env.ids[str(aggregate.vars)]}) AS DOUBLE)"
        kind, sql = self.expr(aggregate.vars, env)
        return f"CAST(COUNT({distinct}{as_term(kind, sql)}) AS DOUBLE)"

    def aggregate(self, aggregate: CompValue, env: Env) -> str:
        """SAMPLE, MIN or MAX of an expression or of a computed value, as N-Triples text."""
        name = aggregate.name
        term = as_term(*self.expr(aggregate.vars, env))
        if name == "Aggregate_Sample":
            return f"ANY_VALUE({term})"
        if name in ("Aggregate_Min", "Aggregate_Max"):
            # numeric order for numbers (what the queries aggregate), text order otherwise
            pick = "arg_min" if name == "Aggregate_Min" else "arg_max"
            return f"COALESCE({pick}({term}, {as_num('term', term)}), {'MIN' if name == 'Aggregate_Min' else 'MAX'}({term}))"
        raise UnsupportedQuery(f"aggregate {name}")

    # --- expressions

    def boolean(self, expr: object, env: Env) -> str:
        kind, sql = self.expr(expr, env)
        return f"COALESCE({as_bool(kind, sql)}, FALSE)"

    def expr(self, expr: object, env: Env) -> tuple[str, str]:
        if isinstance(expr, Variable):
            scope = self.scope(str(expr), env)
            if scope is None:
                return "term", "CAST(NULL AS VARCHAR)"
            if str(expr) in scope.typed:
                return scope.typed[str(expr)]
            return "term", scope[str(expr)]
        if isinstance(expr, URIRef):
            return "term", quote(term_text(expr))
        if isinstance(expr, Literal):
            if expr.datatype in (XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.int, XSD.long):
                return "num", f"CAST({float(expr.toPython())!r} AS DOUBLE)"
            if expr.datatype == XSD.boolean:
                return "bool", "TRUE" if expr.toPython() else "FALSE"
            if expr.datatype is None and expr.language is None:
                return "str", quote(str(expr))
            return "term", quote(term_text(expr))
        if not isinstance(expr, CompValue):
            raise UnsupportedQuery(f"expression {expr!r}")
        method = getattr(self, f"e_{expr.name}", None)
        if method is None:
            raise UnsupportedQuery(f"expression {expr.name}")
        return method(expr, env)

    def e_Builtin_STR(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "str", as_str(*self.expr(e.arg, env))

    def e_Builtin_CONCAT(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        parts = [as_str(*self.expr(arg, env)) for arg in e.arg]
        return "str", "(" + " || ".join(parts) + ")"

    def e_Builtin_SHA1(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "str", f"sha1({as_str(*self.expr(e.arg, env))})"

    def e_Builtin_IRI(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        kind, sql = self.expr(e.arg, env)
        if kind == "term":
            if isinstance(sql, Ref):
                return (
                    "term",
                    f"(CASE WHEN {is_kind(sql.id, IRI_KIND)} THEN {sql} ELSE '<' || {as_str(kind, sql)} || '>' END)",
                )
            return (
                "term",
                f"(CASE WHEN starts_with({sql}, '<') THEN {sql} ELSE '<' || {as_str(kind, sql)} || '>' END)",
            )
        return "term", f"('<' || {as_str(kind, sql)} || '>')"

    def e_Builtin_COALESCE(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        """The first argument that is bound and not an error (both are NULL here)."""
        args = [self.expr(arg, env) for arg in e.arg]
        kinds = {kind for kind, _ in args}
        if len(kinds) == 1:
            return args[0][0], "COALESCE(" + ", ".join(sql for _, sql in args) + ")"
        return "term", "COALESCE(" + ", ".join(as_term(kind, sql) for kind, sql in args) + ")"

    def e_Builtin_sameTerm(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return (
            "bool",
            f"({term_id(as_term(*self.expr(e.arg1, env)))} = {term_id(as_term(*self.expr(e.arg2, env)))})",
        )

    def e_Builtin_DATATYPE(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        kind, sql = self.expr(e.arg, env)
        fixed = {"str": f"<{XSD.string}>", "bool": BOOLEAN, "date": DATE}
        if kind in fixed:
            return "term", f"(CASE WHEN {sql} IS NOT NULL THEN {quote(fixed[kind])} END)"
        return "term", datatype(as_term(kind, sql))

    def _is(self, e: CompValue, env: dict[str, str], start: str | None) -> tuple[str, str]:
        kind, sql = self.expr(e.arg, env)
        if kind != "term":  # a computed value is a literal
            answer = "TRUE" if start == '"' else "FALSE"
            return "bool", f"(CASE WHEN {sql} IS NOT NULL THEN {answer} END)"
        if isinstance(sql, Ref):
            return "bool", is_kind(sql.id, {'"': LITERAL_KIND, "<": IRI_KIND, "_:": BLANK_KIND}[start])
        if isinstance(sql, Cast):
            return "bool", f"(CASE WHEN {sql.valid} THEN {'TRUE' if start == chr(34) else 'FALSE'} END)"
        return "bool", f"starts_with({sql}, {quote(start)})"

    def e_Builtin_isLITERAL(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return self._is(e, env, '"')

    def e_Builtin_isIRI(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return self._is(e, env, "<")

    e_Builtin_isURI = e_Builtin_isIRI

    def e_Builtin_isBLANK(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return self._is(e, env, "_:")

    def e_Builtin_STRSTARTS(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "bool", f"starts_with({self.plain(e.arg1, env)}, {self.plain(e.arg2, env)})"

    def e_Builtin_REGEX(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        pattern, flags = e.pattern, e.flags
        if not (
            isinstance(pattern, Literal)
            and (flags is None or (isinstance(flags, Literal) and str(flags) in ("", "i")))
        ):
            raise UnsupportedQuery("REGEX with a pattern that is not a constant, or flags other than i")
        text = ("(?i)" if flags is not None and str(flags) == "i" else "") + str(pattern)
        if any(
            c in str(pattern) for c in "\\&"
        ):  # XPath and RE2 escapes and classes differ beyond the simple
            raise UnsupportedQuery("REGEX with escapes")
        return "bool", f"regexp_matches({self.plain(e.text, env)}, {quote(text)})"

    def plain(self, expr: object, env: dict[str, str]) -> str:
        """A string argument (a simple literal or xsd:string) as SQL text; NULL (an error) for
        anything else."""
        kind, sql = self.expr(expr, env)
        if kind == "str":
            return sql
        if kind == "term":
            return f"(CASE WHEN {datatype(sql)} = '<{XSD.string}>' THEN {lexical(sql)} END)"
        return "CAST(NULL AS VARCHAR)"

    def e_Function(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        """A cast to an XSD datatype, from a string: the lexical forms Oxigraph takes (no spaces
        around; tests/test_sparql_sql.py compares a battery of forms with it)."""
        target = e.iri
        if target not in CAST_FORMS or len(e.expr) != 1:
            raise UnsupportedQuery(f"function {target}")
        text = self.plain(e.expr[0], env)
        valid = f"regexp_full_match({text}, {quote(CAST_FORMS[target])})"
        if target == XSD.date:
            valid = f"({valid} AND {_valid_day(text)})"
        return "term", Cast(
            f"(CASE WHEN {valid} THEN '\"' || {text} || '\"^^<{target}>' END)", f"<{target}>", valid, text
        )

    def e_Builtin_BOUND(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        scope = self.scope(str(e.arg), env)
        return "bool", f"({scope.ids[str(e.arg)]} IS NOT NULL)" if scope is not None else "FALSE"

    def e_Builtin_IF(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        # the condition written once (a simple CASE): an error in it is an error (NULL)
        condition = as_bool(*self.expr(e.arg1, env))
        then, other = self.expr(e.arg2, env), self.expr(e.arg3, env)
        if then[0] == other[0] and then[0] != "term":
            return then[0], f"(CASE {condition} WHEN TRUE THEN {then[1]} WHEN FALSE THEN {other[1]} END)"
        return (
            "term",
            f"(CASE {condition} WHEN TRUE THEN {as_term(*then)} WHEN FALSE THEN {as_term(*other)} END)",
        )

    def _date_part(self, part: str, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "num", f"CAST({part}({as_date(*self.expr(e.arg, env))}) AS DOUBLE)"

    def e_Builtin_YEAR(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return self._date_part("year", e, env)

    def e_Builtin_MONTH(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return self._date_part("month", e, env)

    def e_Builtin_DAY(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return self._date_part("day", e, env)

    def e_Builtin_FLOOR(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "num", f"floor({as_num(*self.expr(e.arg, env))})"

    def e_AdditiveExpression(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        sql = as_num(*self.expr(e.expr, env))
        for op, other in zip(e.op, e.other, strict=True):
            sql = f"({sql} {op} {as_num(*self.expr(other, env))})"
        return "num", sql

    def e_MultiplicativeExpression(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        sql = as_num(*self.expr(e.expr, env))
        for op, other in zip(e.op, e.other, strict=True):
            right = as_num(*self.expr(other, env))
            sql = f"({sql} * {right})" if op == "*" else f"({sql} / NULLIF({right}, 0))"
        return "num", sql

    def e_UnaryNot(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "bool", f"(NOT {as_bool(*self.expr(e.expr, env))})"

    def e_ConditionalAndExpression(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "bool", "(" + " AND ".join(as_bool(*self.expr(x, env)) for x in [e.expr, *e.other]) + ")"

    def e_ConditionalOrExpression(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "bool", "(" + " OR ".join(as_bool(*self.expr(x, env)) for x in [e.expr, *e.other]) + ")"

    def e_RelationalExpression(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        left = self.expr(e.expr, env)
        op = e.op
        if op in ("IN", "NOT IN"):
            raise UnsupportedQuery("IN")
        right = self.expr(e.other, env)
        if op in ("=", "!="):
            # two values of one kind compare as values (numbers and dates as SPARQL's = does);
            # a term and a value (a constant, a computed or typed variable's value), or values
            # of two kinds, as terms, as Oxigraph compares them ("thin" != 3, "thin" = 'thin'
            # and STR(?a) != 3 are true)
            if left[0] != right[0]:
                left, right = ("term", as_term(*left)), ("term", as_term(*right))
            if left[0] == right[0] and left[0] in ("term", "str"):
                # same term, or equal numbers / dates written differently
                a, b = left[1], right[1]
                if left[0] == "term":
                    equal = term_equal(a, b)
                else:
                    equal = f"({a} = {b})"
            else:
                equal = self.compare("=", left, right)
            return "bool", equal if op == "=" else f"(NOT {equal})"
        return "bool", self.compare(op, left, right)

    def compare(self, op: str, left: tuple[str, str], right: tuple[str, str]) -> str:
        number = f"({as_num(*left)} {op} {as_num(*right)})"
        day = f"({as_date(*left)} {op} {as_date(*right)})"
        kinds = {left[0], right[0]}
        if kinds <= {"num", "term"} and "num" in kinds:
            return number
        if kinds <= {"date", "term"} and "date" in kinds:
            return day
        if kinds == {"term"}:
            return f"COALESCE({number}, {day})"
        if kinds == {"bool"}:
            return f"({left[1]} {op} {right[1]})"
        if kinds == {"str"}:
            return f"({left[1]} {op} {right[1]})"
        return "NULL"

    def e_Builtin_EXISTS(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "bool", self.exists(e.graph, env)

    def e_Builtin_NOTEXISTS(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "bool", f"(NOT {self.exists(e.graph, env)})"

    def exists(self, graph: CompValue, env: dict[str, str]) -> str:
        self.outer.append(env)
        bag, self.bag = self.bag, True
        correlating, self.correlating = self.correlating, True
        try:
            inner = self.pattern(graph)
        finally:
            self.outer.pop()
            self.bag = bag
            self.correlating = correlating
        x = self.alias("x")
        conditions = []
        for v in inner.variables:
            scope = self.scope(v, env)
            if scope is not None:
                outer_may_be_unbound = v in scope.nullable
                outer = scope.ids[v]
                if outer_may_be_unbound or v in inner.maybe_null:
                    conditions.append(f"({outer} IS NULL OR {x}.{col(v)} IS NULL OR {x}.{col(v)} = {outer})")
                else:
                    conditions.append(f"{x}.{col(v)} = {outer}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"EXISTS (SELECT 1 FROM ({inner.sql}) {x}{where})"


def _nodes(node: object) -> Iterator[object]:
    """Every node of a query's algebra (or of a property path), ``node`` first. An EXISTS keeps
    its translated pattern in an attribute (rdflib's translateExists sets ``graph`` on the
    object, the key ``graph`` still holds the parse tree): both are walked."""
    yield node
    if isinstance(node, Path):
        for attribute in ("args", "path", "arg"):
            value = getattr(node, attribute, None)
            if value is not None:
                yield from _nodes(value)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _nodes(value)
        for value in vars(node).values() if isinstance(node, CompValue) else ():
            if isinstance(value, CompValue):
                yield from _nodes(value)
    elif isinstance(node, (list, tuple, set)):
        for value in node:
            yield from _nodes(value)


def query_constants(algebra: object) -> set[str]:
    """The IRIs and literals a query's algebra names, as N-Triples text."""
    return {term_text(node) for node in _nodes(algebra) if isinstance(node, (URIRef, Literal))}


def predicates_read(algebra: object) -> frozenset[str] | None:
    """The predicates (N-Triples text) whose triples a query's pattern can read: every IRI it
    names (more than its predicates, which is safe); None where it can read any predicate (a
    variable predicate, a negated property set, a path that can be of length zero, which reads
    every node of the store)."""
    for node in _nodes(algebra):
        if isinstance(node, CompValue) and node.name in ("BGP", "TriplesBlock"):
            for _, p, _ in node.triples:
                if isinstance(p, Variable) or (
                    isinstance(p, Path)
                    and (_zero_length(p) or any(isinstance(part, NegatedPath) for part in _nodes(p)))
                ):
                    return None
    return frozenset(text for text in query_constants(algebra) if text.startswith("<"))


def _zero_length(path: object) -> bool:
    """Whether a property path can join a node with itself in no step."""
    if isinstance(path, MulPath):
        return path.mod in ("*", "?") or _zero_length(path.path)
    if isinstance(path, SequencePath):
        return all(_zero_length(part) for part in path.args)
    if isinstance(path, AlternativePath):
        return any(_zero_length(part) for part in path.args)
    if isinstance(path, InvPath):
        return _zero_length(path.arg)
    return False


def translate_pattern(algebra: CompValue, table: str | Layout = "triples") -> Relation:
    """The WHERE clause of a prepared query (its algebra, under the query form) as SQL."""
    return Translator(table).pattern(algebra.p)


def select_sql(algebra: CompValue, table: str | Layout = "triples", unordered: bool = False) -> Relation:
    """A SELECT query (its algebra) as SQL; with ``unordered``, its ORDER BY left out."""
    translator = Translator(table, unordered)
    relation = translator.pattern(algebra.p)
    return relation


def _solutions(
    relation: Relation,
    names: list[str],
    terms: str,
    stored: Callable[[str, str], Any],
    computed: Callable[[str, str, str], Any],
    unbound: Callable[[str], Any],
) -> tuple[list[Any], list[str]]:
    """What a relation's solutions read as terms select, a name at a time, and the joins of the
    terms table it needs: ``stored(terms alias, name)`` for a variable whose term is in the terms
    table, ``computed(kind, value column, name)`` for a computed value, ``unbound(name)`` for a
    name the relation does not bind."""
    columns: list[Any] = []
    joins: list[str] = []
    for n in names:
        if n not in relation.variables:
            columns.append(unbound(n))
        elif n in relation.typed:
            columns.append(computed(relation.typed[n], f"s0.{kcol(n)}", n))
        else:
            t = f"tt{len(joins)}"
            joins.append(f"LEFT JOIN {terms} {t} ON {t}.id = s0.{col(n)}")
            columns.append(stored(t, n))
    return columns, joins


def solution_texts(
    relation: Relation, names: list[str], terms: str = "terms", ids: tuple[str, ...] = ()
) -> str:
    """SQL of a relation's solutions as N-Triples text, a column ``t_<name>`` a name (NULL where
    unbound), then the term id of each of ``ids`` (column ``i_<name>``)."""
    columns, joins = _solutions(
        relation,
        names,
        terms,
        lambda t, n: f'{t}.text AS "t_{n}"',
        lambda kind, value, n: f'{as_term(kind, value)} AS "t_{n}"',
        lambda n: f'CAST(NULL AS VARCHAR) AS "t_{n}"',
    )
    select = ", ".join(
        [
            *columns,
            *(
                f's0.{col(n)} AS "i_{n}"' if n in relation.variables else f'CAST(NULL AS UBIGINT) AS "i_{n}"'
                for n in ids
            ),
        ]
    )
    return f"SELECT {select or '1 AS __unit'} FROM ({relation.sql}) s0 {' '.join(joins)}"


def solution_values(relation: Relation, names: list[str], terms: str = "terms") -> str:
    """SQL of a relation's solutions, two columns a name: the value as Python reads it (an IRI,
    a literal's lexical form, a computed string) where the text needs no unescaping, else NULL;
    and the term's N-Triples text (NULL where unbound)."""
    columns, joins = _solutions(
        relation,
        names,
        terms,
        lambda t, n: f"CASE WHEN strpos({t}.text, '\\') = 0 THEN {term_str(t)} END, {t}.text",
        lambda kind, value, n: (
            f"{value if kind == 'str' else 'CAST(NULL AS VARCHAR)'}, {as_term(kind, value)}"
        ),
        lambda n: "CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR)",
    )
    return f"SELECT {', '.join(columns) or '1 AS __unit'} FROM ({relation.sql}) s0 {' '.join(joins)}"


def value_of_text(t: str) -> str:
    """What Oxigraph's ``term.value`` reads of a term's N-Triples text: an IRI, a blank node's
    label, a literal's lexical form."""
    return (
        f"(CASE WHEN starts_with({t}, '\"') THEN {_unescape(_text_lexical(t))} WHEN starts_with({t}, '_:') THEN substr({t}, 3) "
        f"ELSE substr({t}, 2, length({t}) - 2) END)"
    )


def solution_terms(
    relation: Relation, names: list[str], terms: str = "terms"
) -> tuple[dict[str, tuple[str, str]], str]:
    """For each name, SQL of its term's value as Oxigraph's ``term.value`` reads it (NULL where
    unbound) and of whether the term is an IRI; and the FROM clause they read (the relation as
    ``s0``, the terms table joined for each stored variable)."""
    columns, joins = _solutions(
        relation,
        names,
        terms,
        lambda t, n: (
            f"(CASE WHEN {is_kind(f'{t}.id', BLANK_KIND)} THEN substr({t}.text, 3) ELSE {term_str(t)} END)",
            is_kind(f"{t}.id", IRI_KIND),
        ),
        lambda kind, value, n: (
            (value, "FALSE")
            if kind == "str"
            else (value_of_text(as_term(kind, value)), f"starts_with({as_term(kind, value)}, '<')")
        ),
        lambda n: ("CAST(NULL AS VARCHAR)", "FALSE"),
    )
    return dict(zip(names, columns, strict=True)), f"({relation.sql}) s0 {' '.join(joins)}"


@dataclass
class ConstructPlan:
    """A CONSTRUCT query or an update as SQL statements over a table per predicate, in order:
    ``solutions`` (its WHERE clause into a temporary table, once), ``new_terms`` (each computed
    variable the template writes and the SELECT of its terms, ``id, text``, for the terms table),
    ``deletes`` (an update's deletions), ``inserts`` (each predicate's table, the SELECT of its
    new pairs: the template's triples with every variable bound and no literal subject, for
    :func:`insert_pairs`, and the computed variables that are their subjects, None where a
    subject is not computed), ``cleanup``."""

    solutions: str
    new_terms: list[tuple[str, str]]
    deletes: list[str]
    inserts: list[tuple[str, str, frozenset[str] | None]]
    cleanup: str


def construct_statements(
    algebra: CompValue, layout: TableLayout, read: frozenset[str] | None = None
) -> ConstructPlan | None:
    """A CONSTRUCT query as a :class:`ConstructPlan` (None: its template writes nothing); with
    ``read``, only the template's triples whose predicate (N-Triples text) is one of those."""
    if algebra.name != "ConstructQuery":
        raise UnsupportedQuery("not a CONSTRUCT query")
    template = [
        triple
        for triple in algebra.template
        if read is None or isinstance(triple[1], Variable) or term_text(triple[1]) in read
    ]
    if not template:
        return None
    pattern = algebra.p if read is None else without_unread_optionals(algebra.p, _variables(template))
    return _plan(Translator(layout).pattern(pattern), template, [], layout)


def without_unread_optionals(pattern: CompValue, read: set[str]) -> CompValue:
    """The pattern less each OPTIONAL whose variables none of ``read`` (the variables the
    template and the operators above it read) can take from it: a left join keeps every row of
    its left side, and where the right side binds no variable read, it changes no triple of a
    CONSTRUCT (a set of triples) - only how many times each is made. (derive-next-step's and
    derive-companions' OPTIONAL finds the assessments a recommendation came from, for
    ``prov:wasDerivedFrom``: many rows a patient, for a triple ``csfkg cohort --engine sql``
    does not make.) A variable the left side may leave unbound is read from the right
    side, and keeps it. The algebra given is not changed (it is cached)."""
    name = pattern.name
    if name in ("Project", "Distinct", "Reduced", "ToMultiSet"):
        return _with(pattern, p=without_unread_optionals(pattern.p, read))
    if name in ("Extend", "Filter"):
        return _with(pattern, p=without_unread_optionals(pattern.p, read | _variables(pattern.expr)))
    if name == "Join":
        return _with(
            pattern,
            p1=without_unread_optionals(pattern.p1, read | _variables(pattern.p2)),
            p2=without_unread_optionals(pattern.p2, read | _variables(pattern.p1)),
        )
    if name == "LeftJoin":
        if _variables(pattern.p2) & read <= _certain(pattern.p1):
            return without_unread_optionals(pattern.p1, read)
        return _with(
            pattern,
            p1=without_unread_optionals(pattern.p1, read | _variables(pattern.p2) | _variables(pattern.expr)),
        )
    return pattern


def _with(node: CompValue, **parts: Any) -> CompValue:
    copy = CompValue(node.name, **node)
    copy.update(parts)
    return copy


def _variables(node: object) -> set[str]:
    """Every variable a part of the algebra names (inside EXISTS and sub-selects too; those of
    VALUES are the keys of its rows)."""
    found: set[str] = set()
    for part in _nodes(node):
        if isinstance(part, Variable):
            found.add(str(part))
        elif isinstance(part, dict):
            found.update(str(key) for key in part if isinstance(key, Variable))
    return found


def _certain(pattern: CompValue) -> set[str]:
    """Variables every solution of a pattern binds (fewer is safe)."""
    name = pattern.name
    if name == "BGP":
        return {str(term) for triple in pattern.triples for term in triple if isinstance(term, Variable)}
    if name == "Join":
        return _certain(pattern.p1) | _certain(pattern.p2)
    if name in ("LeftJoin", "Filter", "Extend", "Distinct", "Reduced", "ToMultiSet"):
        return _certain(pattern.p if name != "LeftJoin" else pattern.p1)
    if name == "Union":
        return _certain(pattern.p1) & _certain(pattern.p2)
    if name == "Project":
        return _certain(pattern.p) & {str(v) for v in pattern.PV}
    return set()


def modify_statements(operation: CompValue, layout: TableLayout) -> ConstructPlan | None:
    """A SPARQL Update ``DELETE { } INSERT { } WHERE { }`` (rdflib's Modify, default graph) as a
    :class:`ConstructPlan`: both templates from the same solutions, the deletions first."""
    if (
        operation.name != "Modify"
        or getattr(operation, "using", None)
        or getattr(operation, "withClause", None)
    ):
        raise UnsupportedQuery(f"update {operation.name}")
    templates = []
    for clause in (operation.delete, operation.insert):
        if clause is not None and any(clause.quads.values()):
            raise UnsupportedQuery("GRAPH in an update template")
        templates.append(list(clause.triples) if clause is not None and clause.triples else [])
    return _plan(Translator(layout).pattern(operation.where), templates[1], templates[0], layout)


def _rows(
    relation: Relation, template: list, computed: set[str], subjects: dict[str, set[str | None]] | None = None
) -> dict[str, list[str]]:
    """SELECTs of ``(s, o)`` ids over the solutions, by predicate, for each triple of a template
    that the solutions bind (a literal is no subject); the computed variables it reads go into
    ``computed``, and into ``subjects`` by predicate the computed variable of each triple's
    subject (None: a subject that is not computed)."""
    by_predicate: dict[str, list[str]] = {}
    for s, p, o in template:
        if isinstance(p, Variable):
            raise UnsupportedQuery("a variable predicate in a template")
        if isinstance(s, Literal):
            continue  # a literal in the subject position is no triple
        ids: list[str] = []
        conditions = []
        for term in (s, o):
            if isinstance(term, Variable):
                if str(term) not in relation.variables:
                    ids = []
                    break
                ids.append(f"w.{col(str(term))}")
                conditions.append(f"w.{col(str(term))} IS NOT NULL")
                if str(term) in relation.typed:
                    computed.add(str(term))
            else:
                ids.append(const_id(term))
        if not ids:
            continue
        if isinstance(s, Variable):
            conditions.append(f"NOT {is_kind(ids[0], LITERAL_KIND)}")
        if subjects is not None:
            subjects.setdefault(term_text(p), set()).add(
                str(s) if isinstance(s, Variable) and str(s) in relation.typed else None
            )
        by_predicate.setdefault(term_text(p), []).append(
            f"SELECT {ids[0]} AS s, {ids[1]} AS o FROM {SOLUTIONS} w WHERE {' AND '.join(conditions)}"
        )
    return by_predicate


def insert_pairs(table: str, pairs: str, may_hold: bool = True) -> str:
    """SQL that adds to a predicate's table (columns ``s, o``) the pairs of ``pairs`` (SQL with
    columns s, o) that it does not hold, each once: a graph is a set of triples. ``may_hold``
    False: the caller knows the table holds none of them (it is empty, or every subject is a new
    term), so nothing is compared with it."""
    if not may_hold:
        # the comparison with the table costs a materialized CTE and a second scan of it even
        # with nothing in the table: a large part of a derivation's time
        return f"INSERT INTO {table} SELECT DISTINCT s, o FROM ({pairs})"
    # the table's pairs with a subject and an object among the new ones: a criterion's
    # patients each get one object, which rules out most of the table before its subjects are
    # looked up
    return (
        f"INSERT INTO {table} WITH fresh AS (SELECT DISTINCT s, o FROM ({pairs})) "
        f"SELECT f.s, f.o FROM fresh f ANTI JOIN (SELECT s, o FROM {table} WHERE o IN (SELECT o FROM fresh) AND s IN (SELECT s FROM fresh)) e "
        f"ON e.s = f.s AND e.o = f.o"
    )


def _plan(relation: Relation, insert: list, delete: list, layout: TableLayout) -> ConstructPlan | None:
    computed: set[str] = set()
    subjects: dict[str, set[str | None]] = {}
    inserted = _rows(relation, insert, computed, subjects)
    deleted = _rows(relation, delete, set())
    if not inserted and not deleted:
        return None
    deletes = []
    for predicate, parts in deleted.items():
        table = layout.target(predicate)
        deletes.append(
            f"DELETE FROM {table} USING (SELECT DISTINCT s, o FROM ({' UNION ALL '.join(parts)})) d WHERE {table}.s = d.s AND {table}.o = d.o"
        )
    inserts = [
        (
            layout.target(predicate),
            " UNION ALL ".join(parts),
            None if None in subjects[predicate] else frozenset(subjects[predicate]),
        )
        for predicate, parts in inserted.items()
    ]
    new_terms = [
        (
            v,
            f"SELECT w.{col(v)} AS id, {as_term(relation.typed[v], f'w.{kcol(v)}')} AS text FROM {SOLUTIONS} w WHERE w.{col(v)} IS NOT NULL",
        )
        for v in sorted(computed)
    ]
    # the templates' variables only: the engine then drops what nothing reads (the ids of
    # intermediate values, the columns of terms read by filters) instead of storing them
    used = [
        v
        for v in relation.variables
        if any(isinstance(t, Variable) and str(t) == v for triple in insert + delete for t in triple)
    ]
    solutions = f"SELECT {relation.columns('sol', used)} FROM ({relation.sql}) sol"
    return ConstructPlan(
        f"CREATE OR REPLACE TEMPORARY TABLE {SOLUTIONS} AS {solutions}",
        new_terms,
        deletes,
        inserts,
        f"DROP TABLE {SOLUTIONS}",
    )


SOLUTIONS = "__solutions"


class TableLayout(Layout):
    """A table per predicate (columns ``s, o``): what a :class:`ConstructPlan` writes to.
    :meth:`target` names the table of a predicate, creating it if need be."""

    def target(self, text: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError
