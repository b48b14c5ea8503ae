"""The terms and relations the SPARQL-to-SQL translation is written in: term ids and their
columns, casts between SPARQL's value kinds, the solution environment and the table layout
(:mod:`csfkg.engines.sql.translate` describes the engine)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, XSD

from csfkg.model.vocab import NUMERIC_DATATYPES

NUMERIC = tuple(f"<{datatype}>" for datatype in NUMERIC_DATATYPES)
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


_INTEGER_TYPES = tuple(
    n for n in NUMERIC if n not in (f"<{XSD.decimal}>", f"<{XSD.double}>", f"<{XSD.float}>")
)


def numeric_value(lex: str, dt: str) -> str:
    """SQL of the value (a double) of a numeric literal of lexical form ``lex`` and datatype
    ``dt`` (N-Triples text), NULL where the form is not in its datatype's lexical space (XSD 1.1
    Part 2, 3.3): DuckDB's own cast also reads "1e3" or "infinity" as a decimal, "1_000" and " 5"
    as numbers, which xsd:decimal and xsd:integer do not hold."""
    integers = ", ".join(quote(n) for n in _INTEGER_TYPES)
    floats = ", ".join(quote(f"<{t}>") for t in (XSD.double, XSD.float))
    return (
        f"(CASE WHEN (({dt}) IN ({integers}) AND regexp_full_match({lex}, {quote(CAST_FORMS[XSD.integer])})) "
        f"OR (({dt}) = {quote(DECIMAL)} AND regexp_full_match({lex}, {quote(CAST_FORMS[XSD.decimal])})) "
        f"OR (({dt}) IN ({floats}) AND regexp_full_match({lex}, {quote(CAST_FORMS[XSD.double])})) "
        f"THEN TRY_CAST({lex} AS DOUBLE) END)"
    )


def date_value(lex: str, dt: str | None = None) -> str:
    """SQL of the day of an xsd:date literal of lexical form ``lex`` (and datatype ``dt``, where
    given), NULL where the form is not in xsd:date's lexical space: DuckDB's own cast reads
    "infinity", "epoch" and "2026/01/05" as days. A date with a time zone ("2026-12-07-14:00")
    is that day (YEAR, MONTH and DAY read it so: XPath fn:year-from-date)."""
    valid = f"(regexp_full_match({lex}, {quote(CAST_FORMS[XSD.date])}) AND {_valid_day(lex)})"
    typed = "" if dt is None else f"({dt}) = {quote(DATE)} AND "
    return f"(CASE WHEN {typed}{valid} THEN TRY_CAST(regexp_extract({lex}, '^-?[0-9]{{4,}}-[0-9]{{2}}-[0-9]{{2}}') AS DATE) END)"


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
    return (
        f"SELECT id, text, lex, dt, "
        f"{numeric_value('lex', 'dt')} AS num, {date_value('lex', 'dt')} AS day "
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


class Const(str):
    """A constant term of the query as N-Triples text (the SQL string literal itself), with the
    term: what an expression reads of it (its lexical form, datatype, value, STR()) is written as
    a constant, not as SQL that parses the text. On the text, a comparison with the number 1
    (``?role = 1``) repeated the text's parse so many times that DuckDB spent seconds binding one
    query (:func:`folded`)."""

    term: URIRef | Literal

    def __new__(cls, term: URIRef | Literal) -> Const:
        self = super().__new__(cls, quote(term_text(term)))
        self.term = term
        return self


class Pick(str):
    """A term computed by choosing among terms (IF, COALESCE): the SQL of its N-Triples text
    (the string itself), and :meth:`each`, the same choice made of what an expression reads of
    each branch (its value, lexical form, datatype). Read from the text, the text's SQL was
    repeated for each parse of it: the Bern score's sum of six IFs became 100 KB of SQL."""

    shape: Callable[[Callable[[str, str], str]], str]

    def __new__(cls, shape: Callable[[Callable[[str, str], str]], str]) -> Pick:
        self = super().__new__(cls, shape(as_term))
        self.shape = shape
        return self

    def each(self, read: Callable[[str, str], str]) -> str:
        """The choice with ``read(kind, sql)`` of the branch chosen."""
        return self.shape(read)


def const_number(value: float) -> str:
    return f"CAST({value!r} AS DOUBLE)"


class Number(str):
    """A constant number of the query (a double's SQL), with its value: as a term
    (:func:`as_term`) it is the :class:`Const` of the literal the SQL would write."""

    value: float

    def __new__(cls, value: float) -> Number:
        self = super().__new__(cls, const_number(value))
        self.value = value
        return self


def folded(t: str, column: str) -> str | None:
    """A :class:`Const`'s column (:data:`TERM_COLUMNS` less ``text``) as a SQL constant, where
    it is one that Python computes as the SQL would: the lexical form and datatype of a literal,
    STR(), the value of a number in the integer or decimal form, the day of a plain
    YYYY-MM-DD date; None where the SQL is to compute it."""
    if not isinstance(t, Const):
        return None
    term = t.term
    if isinstance(term, URIRef):
        return {"str": quote(str(term)), "num": "CAST(NULL AS DOUBLE)", "day": "CAST(NULL AS DATE)"}.get(
            column
        )
    dt = (
        f"<{term.datatype}>"
        if term.datatype
        else (f"<{RDF.langString}>" if term.language else f"<{XSD.string}>")
    )
    lex = str(term)
    if column in ("lex", "str"):
        return quote(lex)
    if column == "dt":
        return quote(dt)
    if column == "num":
        if dt not in NUMERIC:
            return "CAST(NULL AS DOUBLE)"
        form = CAST_FORMS[XSD.integer] if dt in _INTEGER_TYPES else _DECIMAL
        return const_number(float(lex)) if re.fullmatch(form, lex) else None
    if column == "day":
        if dt != DATE:
            return "CAST(NULL AS DATE)"
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", lex):
            try:
                return f"DATE {quote(date.fromisoformat(lex).isoformat())}"
            except ValueError:
                return None
        return None
    return None


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
    if isinstance(t, Pick):
        return t.each(lambda kind, sql: lexical(as_term(kind, sql)))
    if isinstance(t, Const) and isinstance(t.term, Literal):
        return folded(t, "lex")  # type: ignore[return-value]
    if isinstance(t, Cast):
        return f"(CASE WHEN {t.valid} THEN {t.lex} END)"
    return t.attr("lex") if isinstance(t, Ref) else _unescape(_text_lexical(t))


def datatype(t: str) -> str:
    if isinstance(t, Pick):
        return t.each(lambda kind, sql: datatype(as_term(kind, sql)))
    if isinstance(t, Const):
        return folded(t, "dt") if isinstance(t.term, Literal) else "CAST(NULL AS VARCHAR)"
    if isinstance(t, Cast):
        return f"(CASE WHEN {t.valid} THEN {quote(t.target)} END)"
    return t.attr("dt") if isinstance(t, Ref) else _text_datatype(t)


def is_literal(t: str) -> str:
    if isinstance(t, Pick):
        return t.each(lambda kind, sql: is_literal(as_term(kind, sql)))
    if isinstance(t, Const):
        return "TRUE" if isinstance(t.term, Literal) else "FALSE"
    if isinstance(t, Cast):
        return f"(CASE WHEN {t.valid} THEN TRUE END)"
    return is_kind(t.id, LITERAL_KIND) if isinstance(t, Ref) else f"starts_with({t}, '\"')"


def as_num(kind: str, sql: str) -> str:
    if kind == "num":
        return sql
    if kind == "term" and isinstance(sql, Pick):
        return sql.each(as_num)
    if kind == "term":
        if (value := folded(sql, "num")) is not None:
            return value
        if isinstance(sql, Ref):
            return sql.attr("num")
        if isinstance(sql, Cast):
            return (
                f"(CASE WHEN {sql.valid} THEN {numeric_value(sql.lex, quote(sql.target))} END)"
                if sql.target in NUMERIC
                else "CAST(NULL AS DOUBLE)"
            )
        return numeric_value(lexical(sql), datatype(sql))
    return "NULL"


def as_date(kind: str, sql: str) -> str:
    if kind == "date":
        return sql
    if kind == "term" and isinstance(sql, Pick):
        return sql.each(as_date)
    if kind == "term":
        if (value := folded(sql, "day")) is not None:
            return value
        if isinstance(sql, Ref):
            return sql.attr("day")
        if isinstance(sql, Cast):
            return (
                f"(CASE WHEN {sql.valid} THEN {date_value(sql.lex)} END)"
                if sql.target == DATE
                else "CAST(NULL AS DATE)"
            )
        return date_value(lexical(sql), datatype(sql))
    return "NULL"


def as_str(kind: str, sql: str) -> str:
    """STR(): an IRI's text, a literal's lexical form."""
    if kind == "str":
        return sql
    if kind == "term" and isinstance(sql, Pick):
        return sql.each(as_str)
    if kind == "term":
        if (value := folded(sql, "str")) is not None:
            return value
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
        if isinstance(sql, Number) and sql.value == int(sql.value) and abs(sql.value) < 9.2e18:
            return Const(Literal(str(int(sql.value)), datatype=XSD.integer))
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


def _ill_typed(sql: str) -> str:
    """SQL: the term is a numeric or xsd:date literal whose lexical form has no value (RDF 1.1
    3.3: an ill-typed literal; SPARQL's ``=`` on it is an error, not false). Read for a stored
    term; a constant or computed term is taken as well-typed."""
    if not isinstance(sql, Ref):
        return "FALSE"
    typed = ", ".join(quote(n) for n in (*NUMERIC, DATE))
    return (
        f"({datatype(sql)} IN ({typed}) AND {as_num('term', sql)} IS NULL AND {as_date('term', sql)} IS NULL)"
    )


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
        f"WHEN {_ill_typed(a)} OR {_ill_typed(b)} THEN NULL "
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
