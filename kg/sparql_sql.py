"""SPARQL translated to SQL over one table of triples, for a vectorised engine (DuckDB).

EXPERIMENTAL, not used by any command yet (issue 4: 1M patients in 120 s is below what Oxigraph
reaches with these queries on two cores; bench/README.md). It translates rdflib's algebra of a
query into one SQL statement over ``triples(s, p, o, st, pt, ot)``: ``s``, ``p``, ``o`` a
term's 64-bit id (:func:`id_of`), ``st``, ``pt``, ``ot`` its N-Triples text (``<iri>``,
``"lexical"^^<datatype>``, ``_:b``). A solution is a row with two columns a variable, its id
(``"v_name"``: joins, groups, DISTINCT and EXISTS compare ids) and its text (``"t_name"``: what
expressions read), both NULL where the variable is unbound; DuckDB drops the text columns a
statement never reads.

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
it is not constrained. tests/test_sparql_sql.py holds what is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from rdflib import BNode, Literal, URIRef, Variable
from rdflib.namespace import RDF, XSD
from rdflib.paths import AlternativePath, MulPath, Path, SequencePath
from rdflib.plugins.sparql.parserutils import CompValue

__all__ = ["UnsupportedQuery", "Relation", "Layout", "TableLayout", "id_of", "query_constants", "translate_pattern", "construct_statements", "select_sql"]

NUMERIC = tuple(f"<{XSD[name]}>" for name in ("integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"))
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
    return f"({month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND {last})"


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
    """The column of a variable's typed value (:attr:`Relation.typed`)."""
    return f'"k_{name}"'


def col(name: str) -> str:
    """The column of a variable's term id (a 64-bit hash of its N-Triples text)."""
    return f'"v_{name}"'


def tcol(name: str) -> str:
    """The column of a variable's N-Triples text."""
    return f'"t_{name}"'


def id_of(text_sql: str) -> str:
    """The id of a term given as N-Triples text (not NULL): 64 bits from two of DuckDB's hashes.

    One of them alone is not enough: ``hash()`` maps ``<.../p95/brain-mri/seq-4>`` and
    ``<.../p99/brain-mri/seq-0>`` to one number (3 such pairs among the 848,559 terms of 100,000
    synthetic patients); the two together gave none there. A collision would merge two terms, so
    :func:`csfkg.duckdb_store.check_ids` looks for one in every table before its results are
    used, and refuses it."""
    return f"xor(hash({text_sql}), hash(chr(1) || {text_sql}))"


def term_id(text_sql: str) -> str:
    """:func:`id_of`, NULL for NULL (the hash of NULL is a number)."""
    return f"(CASE WHEN {text_sql} IS NOT NULL THEN {id_of(text_sql)} END)"


def const_id(term: object) -> str:
    return id_of(quote(term_text(term)))


def both(v: str, id_sql: str, text_sql: str) -> str:
    return f"{id_sql} AS {col(v)}, {text_sql} AS {tcol(v)}"


def null_both(v: str) -> str:
    return f"CAST(NULL AS UBIGINT) AS {col(v)}, CAST(NULL AS VARCHAR) AS {tcol(v)}"


@dataclass
class Relation:
    """SQL for a solution sequence: its variables, and those that may be unbound (NULL)."""

    sql: str
    variables: list[str]
    maybe_null: set[str] = field(default_factory=set)
    typed: dict[str, str] = field(default_factory=dict)
    """Variables bound by an expression of a known kind ("num", "date", "str", "bool"), with a
    column of that value beside the term (:func:`kcol`): read as it is, not parsed again from
    the term's text."""


# --- expressions: each becomes (kind, sql); kind is "term", "str", "num", "bool" or "date"

def lexical(t: str) -> str:
    """A literal's lexical form: between the first and the last double quote (string functions,
    not a regular expression: this runs once a row)."""
    return f"substr({t}, 2, length({t}) - strpos(reverse({t}), '\"') - 1)"


def datatype(t: str) -> str:
    """A literal's datatype IRI as N-Triples text; NULL for an IRI or a blank node."""
    after_quote = f"substr({t}, length({t}) - strpos(reverse({t}), '\"') + 2, 1)"
    return (f"CASE WHEN starts_with({t}, '\"') THEN CASE WHEN ends_with({t}, '>') THEN substr({t}, length({t}) - strpos(reverse({t}), '<') + 1) "
            f"WHEN {after_quote} = '@' THEN '<{RDF.langString}>' "
            f"ELSE '<{XSD.string}>' END END")


def as_num(kind: str, sql: str) -> str:
    if kind == "num":
        return sql
    if kind == "term":
        return f"(CASE WHEN {datatype(sql)} IN ({', '.join(quote(n) for n in NUMERIC)}) THEN TRY_CAST({lexical(sql)} AS DOUBLE) END)"
    return "NULL"


def as_date(kind: str, sql: str) -> str:
    if kind == "date":
        return sql
    if kind == "term":
        return f"(CASE WHEN {datatype(sql)} = {quote(DATE)} THEN TRY_CAST({lexical(sql)} AS DATE) END)"
    return "NULL"


def as_str(kind: str, sql: str) -> str:
    """STR(): an IRI's text, a literal's lexical form."""
    if kind == "str":
        return sql
    if kind == "term":
        return f"(CASE WHEN starts_with({sql}, '<') THEN substr({sql}, 2, length({sql}) - 2) WHEN starts_with({sql}, '\"') THEN {lexical(sql)} END)"
    if kind == "num":
        return f"CAST({sql} AS VARCHAR)"
    if kind == "bool":
        return f"(CASE WHEN {sql} THEN 'true' WHEN NOT {sql} THEN 'false' END)"
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
        return (f"(CASE WHEN {datatype(sql)} = {quote(BOOLEAN)} THEN {lexical(sql)} IN ('true', '1') "
                f"WHEN {datatype(sql)} IN ({', '.join(quote(n) for n in NUMERIC)}) THEN TRY_CAST({lexical(sql)} AS DOUBLE) <> 0 "
                f"WHEN {datatype(sql)} = '<{XSD.string}>' THEN length({lexical(sql)}) > 0 END)")
    return "NULL"


def as_term(kind: str, sql: str) -> str:
    if kind == "term":
        return sql
    if kind == "str":
        return f"('\"' || replace(replace({sql}, '\\', '\\\\'), '\"', '\\\"') || '\"')"
    if kind == "num":
        # integers stay xsd:integer (COUNT, arithmetic on integers); others xsd:decimal
        return (f"(CASE WHEN {sql} = floor({sql}) THEN '\"' || CAST(CAST({sql} AS BIGINT) AS VARCHAR) || '\"^^{INTEGER}' "
                f"ELSE '\"' || CAST({sql} AS VARCHAR) || '\"^^{DECIMAL}' END)")
    if kind == "bool":
        return f"(CASE WHEN {sql} THEN '\"true\"^^{BOOLEAN}' WHEN NOT {sql} THEN '\"false\"^^{BOOLEAN}' END)"
    if kind == "date":
        return f"('\"' || strftime({sql}, '%Y-%m-%d') || '\"^^{DATE}')"
    raise UnsupportedQuery(kind)


class Env(dict):
    """Variable name -> SQL of its N-Triples text in the current row; ``ids``: the SQL of its
    term id; ``nullable``: those that may be unbound (NULL) there. Equality on a variable that is
    never NULL is a plain equality of ids, which the engine can hash-join; only the others need
    SPARQL's compatibility test."""

    def __init__(self, items: dict[str, str], nullable: set[str], ids: dict[str, str] | None = None, typed: dict[str, tuple[str, str]] | None = None) -> None:
        super().__init__(items)
        self.ids = dict(ids or {})
        self.nullable = set(nullable) & set(items)
        self.typed = dict(typed or {})

    @classmethod
    def of(cls, alias: str, relation: "Relation") -> "Env":
        return cls({v: f"{alias}.{tcol(v)}" for v in relation.variables}, relation.maybe_null, {v: f"{alias}.{col(v)}" for v in relation.variables},
                   {v: (kind, f"{alias}.{kcol(v)}") for v, kind in relation.typed.items()})


def typed_columns(env: "Env", variables: list[str]) -> str:
    """``, value AS k_v`` for each of ``variables`` with a typed value in ``env``."""
    return "".join(f", {env.typed[v][1]} AS {kcol(v)}" for v in variables if v in env.typed)


class Layout:
    """Where a translated query finds its triples: one table of them (``s, p, o, st, pt, ot``),
    which :meth:`predicate` filters on the predicate's id."""

    def __init__(self, table: str = "triples") -> None:
        self.table = table

    def all(self) -> str:
        """SQL naming a relation of every triple: columns ``s, p, o, st, pt, ot``."""
        return self.table

    def predicate(self, text: str) -> str:
        """SQL of a relation of the triples with the predicate of N-Triples ``text``: columns
        ``s, o, st, ot``."""
        return f"(SELECT s, o, st, ot FROM {self.table} WHERE p = {id_of(quote(text))})"


class Translator:
    def __init__(self, table: "str | Layout" = "triples") -> None:
        self.layout = table if isinstance(table, Layout) else Layout(table)
        self.table = self.layout.all()
        self.names = count(1)

    def alias(self, stem: str = "r") -> str:
        return f"{stem}{next(self.names)}"

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
        for s, p, o in self.join_order(node.triples):
            a = self.alias("t")
            if isinstance(p, Path):
                froms.append(f"({self.path(p)}) {a}")
                positions = (("s", s), ("o", o))
            elif not isinstance(p, Variable):
                froms.append(f"{self.layout.predicate(term_text(p))} {a}")
                positions = (("s", s), ("o", o))
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
                else:
                    conditions.append(f"{ref} = {const_id(term)}")
        if not froms:
            return Relation("SELECT 1 AS __unit", [])
        # a variable's text is the text column beside its id column (s -> st)
        select = ", ".join(both(v, ref, ref + "t") for v, ref in bound.items()) or "1 AS __unit"
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return Relation(f"SELECT {select} FROM {', '.join(froms)}{where}", list(bound))

    @staticmethod
    def join_order(triples: list) -> list:
        """The triple patterns in an order that joins each to those before it where it can
        (rdflib lists them in its own order; a triples table gives the engine no statistics to
        choose with, and its guess crossed 10,000 patients with 9 classes)."""

        def constants(triple: tuple) -> int:
            return sum(not isinstance(term, Variable) for term in triple) + (0 if isinstance(triple[1], Path) else 1)

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

    def path(self, path: Path) -> str:
        """SQL with columns s, o for a property path (a set, as SPARQL's path operators give)."""
        if isinstance(path, URIRef):
            return f"SELECT s, o, st, ot FROM {self.layout.predicate(term_text(path))}"
        if isinstance(path, AlternativePath):
            return " UNION ".join(f"({self.path(arg)})" for arg in path.args)
        if isinstance(path, SequencePath):
            steps = list(path.args)
            left = self.path_step(steps[0], None)
            for step in steps[1:]:
                left = self.path_step(step, left)
            return left
        if isinstance(path, MulPath) and path.mod == "+":
            return self.plus(path.path)
        if isinstance(path, MulPath) and path.mod in ("*", "?"):
            # zero steps: every term of the graph to itself (SPARQL's zero-length path)
            inner = self.plus(path.path) if path.mod == "*" else self.path(path.path)
            return f"SELECT DISTINCT s, o, st, ot FROM (({inner}) UNION ({self.nodes()}))"
        raise UnsupportedQuery(f"property path {path!r}")

    def nodes(self) -> str:
        """Every subject and object of the graph, paired with itself (columns s, o, st, ot)."""
        return (f"SELECT DISTINCT s, s AS o, st, st AS ot FROM (SELECT s, st FROM {self.table} UNION SELECT o, ot FROM {self.table})")

    def path_step(self, step: Path, left: str | None) -> str:
        if left is None:
            return self.path(step)
        a, b = self.alias("l"), self.alias("m")
        if isinstance(step, MulPath) and step.mod in ("*", "?"):
            inner = self.plus(step.path) if step.mod == "*" else self.path(step.path)
            # zero steps: the left pairs themselves; one or more: joined with the closure
            return f"SELECT DISTINCT s, o, st, ot FROM (SELECT s, o, st, ot FROM ({left}) {a} UNION SELECT {a}.s, {b}.o, {a}.st, {b}.ot FROM ({left}) {a} JOIN ({inner}) {b} ON {a}.o = {b}.s)"
        return f"SELECT DISTINCT {a}.s, {b}.o, {a}.st, {b}.ot FROM ({left}) {a} JOIN ({self.path(step)}) {b} ON {a}.o = {b}.s"

    def plus(self, step: Path) -> str:
        name = self.alias("closure")
        base = self.path(step)
        return (f"WITH RECURSIVE {name}(s, o, st, ot) AS (SELECT s, o, st, ot FROM ({base}) UNION SELECT {name}.s, x.o, {name}.st, x.ot FROM {name} JOIN ({base}) x ON {name}.o = x.s) "
                f"SELECT s, o, st, ot FROM {name}")

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

    def join(self, left: Relation, right: Relation, condition: str | None = None, kind: str = "JOIN") -> Relation:
        a, b = self.alias("a"), self.alias("b")
        shared = [v for v in left.variables if v in right.variables]
        conditions = []
        for v in shared:
            if v in left.maybe_null or v in right.maybe_null:
                conditions.append(f"({a}.{col(v)} = {b}.{col(v)} OR {a}.{col(v)} IS NULL OR {b}.{col(v)} IS NULL)")
            else:
                conditions.append(f"{a}.{col(v)} = {b}.{col(v)}")
        variables = left.variables + [v for v in right.variables if v not in left.variables]
        env = self.env_for(left, right, a, b)
        if condition is not None:
            conditions.append(condition(env) if callable(condition) else condition)
        select = (", ".join(both(v, env.ids[v], env[v]) for v in variables) or "1 AS __unit") + typed_columns(env, variables)
        on = " AND ".join(conditions) or "TRUE"
        if kind == "LEFT JOIN":
            maybe = left.maybe_null | set(v for v in right.variables if v not in left.variables) | (right.maybe_null & set(left.maybe_null))
        else:
            maybe = (left.maybe_null - set(right.variables)) | (right.maybe_null - set(left.variables)) | (left.maybe_null & right.maybe_null)
        return Relation(f"SELECT {select} FROM ({left.sql}) {a} {kind} ({right.sql}) {b} ON {on}", variables, maybe,
                        {v: env.typed[v][0] for v in variables if v in env.typed})

    def env_for(self, left: Relation, right: Relation, a: str, b: str) -> Env:
        env: dict[str, str] = {}
        ids: dict[str, str] = {}
        for v in left.variables:
            if v in right.variables and (v in left.maybe_null or v in right.maybe_null):
                env[v] = f"COALESCE({a}.{tcol(v)}, {b}.{tcol(v)})"
                ids[v] = f"COALESCE({a}.{col(v)}, {b}.{col(v)})"
            else:
                env[v] = f"{a}.{tcol(v)}"
                ids[v] = f"{a}.{col(v)}"
        for v in right.variables:
            env.setdefault(v, f"{b}.{tcol(v)}")
            ids.setdefault(v, f"{b}.{col(v)}")
        nullable = (left.maybe_null - set(right.variables)) | (right.maybe_null - set(left.variables)) | (left.maybe_null & right.maybe_null)
        # a typed value goes with its side's term: kept where the term is that side's
        typed: dict[str, tuple[str, str]] = {}
        for v, kind in left.typed.items():
            if v not in right.variables or (v not in left.maybe_null and v not in right.maybe_null):
                typed[v] = (kind, f"{a}.{kcol(v)}")
        for v, kind in right.typed.items():
            if v not in left.variables or (v not in left.maybe_null and v not in right.maybe_null and v not in typed):
                typed.setdefault(v, (kind, f"{b}.{kcol(v)}"))
        return Env(env, nullable, ids, typed)

    def p_LeftJoin(self, node: CompValue) -> Relation:
        left, right = self.pattern(node.p1), self.pattern(node.p2)
        expr = node.expr
        condition = None
        if expr is not None and getattr(expr, "name", None) != "TrueFilter":
            condition = lambda env: self.boolean(expr, env)  # noqa: E731
        return self.join(left, right, condition, "LEFT JOIN")

    def p_Filter(self, node: CompValue) -> Relation:
        inner = self.pattern(node.p)
        f = self.alias("f")
        env = Env.of(f, inner)
        return Relation(f"SELECT * FROM ({inner.sql}) {f} WHERE {self.boolean(node.expr, env)}", inner.variables, inner.maybe_null, dict(inner.typed))

    def p_Extend(self, node: CompValue) -> Relation:
        inner = self.pattern(node.p)
        f = self.alias("e")
        env = Env.of(f, inner)
        var = str(node.var)
        if var in inner.variables:
            raise UnsupportedQuery(f"BIND to ?{var}, which is already bound")
        kind, sql = self.expr(node.expr, env)
        columns = ", ".join(f"{f}.{col(v)}, {f}.{tcol(v)}" for v in inner.variables) + typed_columns(env, inner.variables)
        columns = f"{columns}, " if columns else ""
        # a copy of a variable that is always bound is always bound; any other expression may err
        nullable = not (isinstance(node.expr, Variable) and str(node.expr) in inner.variables and str(node.expr) not in inner.maybe_null)
        if isinstance(node.expr, Variable) and str(node.expr) in env:
            value = f"{env.ids[str(node.expr)]} AS {col(var)}, {env[str(node.expr)]} AS {tcol(var)}"
            typed = dict(inner.typed)
            if str(node.expr) in env.typed:
                value += f", {env.typed[str(node.expr)][1]} AS {kcol(var)}"
                typed[var] = env.typed[str(node.expr)][0]
            return Relation(f"SELECT {columns}{value} FROM ({inner.sql}) {f}", inner.variables + [var], inner.maybe_null | ({var} if nullable else set()), typed)
        # the text first, its id from it in a query around (the expression is evaluated once)
        x = self.alias("x")
        typed = dict(inner.typed)
        if kind in ("num", "date", "str", "bool"):
            # the value as computed, beside its term: what later expressions read
            text = f"SELECT {columns}{sql} AS {kcol(var)} FROM ({inner.sql}) {f}"
            y = self.alias("y")
            text = f"SELECT *, {as_term(kind, f'{y}.{kcol(var)}')} AS {tcol(var)} FROM ({text}) {y}"
            typed[var] = kind
        else:
            text = f"SELECT {columns}{as_term(kind, sql)} AS {tcol(var)} FROM ({inner.sql}) {f}"
        return Relation(f"SELECT *, {term_id(f'{x}.{tcol(var)}')} AS {col(var)} FROM ({text}) {x}", inner.variables + [var],
                        inner.maybe_null | ({var} if nullable else set()), typed)

    def p_Union(self, node: CompValue) -> Relation:
        left, right = self.pattern(node.p1), self.pattern(node.p2)
        variables = left.variables + [v for v in right.variables if v not in left.variables]
        maybe = left.maybe_null | right.maybe_null | (set(left.variables) ^ set(right.variables))
        typed = {v: k for v, k in left.typed.items() if right.typed.get(v) == k}
        return Relation(f"SELECT * FROM ({left.sql}) UNION ALL BY NAME SELECT * FROM ({right.sql})", variables, maybe, typed)

    def p_Project(self, node: CompValue) -> Relation:
        inner = self.pattern(node.p)
        f = self.alias("pr")
        names = [str(v) for v in node.PV]
        select = ", ".join(f"{f}.{col(v)}, {f}.{tcol(v)}" if v in inner.variables else null_both(v) for v in names) or "1 AS __unit"
        select += "".join(f", {f}.{kcol(v)}" for v in names if v in inner.typed)
        maybe = {v for v in names if v not in inner.variables or v in inner.maybe_null}
        return Relation(f"SELECT {select} FROM ({inner.sql}) {f}", names, maybe, {v: k for v, k in inner.typed.items() if v in names})

    def p_Minus(self, node: CompValue) -> Relation:
        """SPARQL's MINUS: a row goes when some row of the right side is compatible with it and
        shares a bound variable with it (no shared variable: nothing goes)."""
        left, right = self.pattern(node.p1), self.pattern(node.p2)
        shared = [v for v in left.variables if v in right.variables]
        if not shared:
            return left
        a, b = self.alias("a"), self.alias("b")
        compatible, sharing = [], []
        for v in shared:
            if v in left.maybe_null or v in right.maybe_null:
                compatible.append(f"({a}.{col(v)} IS NULL OR {b}.{col(v)} IS NULL OR {a}.{col(v)} = {b}.{col(v)})")
                sharing.append(f"({a}.{col(v)} IS NOT NULL AND {b}.{col(v)} IS NOT NULL)")
            else:
                compatible.append(f"{a}.{col(v)} = {b}.{col(v)}")
                sharing.append("TRUE")
        where = " AND ".join(compatible + ["(" + " OR ".join(sharing) + ")"])
        return Relation(f"SELECT * FROM ({left.sql}) {a} WHERE NOT EXISTS (SELECT 1 FROM ({right.sql}) {b} WHERE {where})", left.variables, left.maybe_null, dict(left.typed))

    def p_Distinct(self, node: CompValue) -> Relation:
        inner = self.pattern(node.p)
        return Relation(f"SELECT DISTINCT * FROM ({inner.sql})", inner.variables, inner.maybe_null, dict(inner.typed))

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
            lines.append("(" + ", ".join(f"{const_id(values[n])}, {quote(term_text(values[n]))}" if n in values else "CAST(NULL AS UBIGINT), CAST(NULL AS VARCHAR)" for n in names) + ")")
        maybe = {n for n in names if any(n not in {str(k) for k in row} for row in rows)}
        columns = ", ".join(f"{col(n)}, {tcol(n)}" for n in names)
        return Relation(f"SELECT * FROM (VALUES {', '.join(lines)}) AS vals({columns})", names, maybe)

    def p_AggregateJoin(self, node: CompValue) -> Relation:
        group = node.p
        if group.name != "Group":
            raise UnsupportedQuery("aggregates without a group")
        inner = self.pattern(group.p)
        f = self.alias("g")
        env = Env.of(f, inner)
        keys: list[str] = []
        for expr in group.expr or []:
            if not isinstance(expr, Variable):
                raise UnsupportedQuery("GROUP BY an expression")
            keys.append(str(expr))
        # rdflib's algebra binds the group keys again from SAMPLE aggregates (Extend over this),
        # so the rows hold the aggregates only
        select: list[str] = []
        names: list[str] = []
        nullable: set[str] = set()
        typed: dict[str, str] = {}
        for aggregate in node.A:
            res = str(aggregate.res)
            if aggregate.name == "Aggregate_Count":
                # a count is a number: kept as one beside its term (typed)
                count_sql = self.count(aggregate, env)
                select.append(f"{count_sql} AS {kcol(res)}, {as_term('num', count_sql)} AS {tcol(res)}")
                typed[res] = "num"
            else:
                select.append(f"{self.aggregate(aggregate, env)} AS {tcol(res)}")
            names.append(res)
            # COUNT and GROUP_CONCAT are always bound; SAMPLE, MIN, MAX of a variable that is
            # bound in every row are bound
            if aggregate.name in ("Aggregate_Sample", "Aggregate_Min", "Aggregate_Max"):
                if not (isinstance(aggregate.vars, Variable) and str(aggregate.vars) in inner.variables and str(aggregate.vars) not in inner.maybe_null):
                    nullable.add(res)
        group_by = f" GROUP BY {', '.join(env.ids[k] for k in keys if k in env)}" if keys else ""
        sql = f"SELECT {', '.join(select) or '1 AS __unit'} FROM ({inner.sql}) {f}{group_by}"
        x = self.alias("x")
        ids = ", ".join(f"{term_id(f'{x}.{tcol(n)}')} AS {col(n)}" for n in names)
        return Relation(f"SELECT *{', ' + ids if ids else ''} FROM ({sql}) {x}", names, nullable, typed)

    def count(self, aggregate: CompValue, env: Env) -> str:
        """COUNT as a number; of a variable, its bound terms counted by id."""
        distinct = "DISTINCT " if aggregate.distinct else ""
        if aggregate.vars == "*":
            return "CAST(COUNT(*) AS DOUBLE)"
        if isinstance(aggregate.vars, Variable) and str(aggregate.vars) in env:
            return f"CAST(COUNT({distinct}{env.ids[str(aggregate.vars)]}) AS DOUBLE)"
        kind, sql = self.expr(aggregate.vars, env)
        return f"CAST(COUNT({distinct}{as_term(kind, sql)}) AS DOUBLE)"

    def aggregate(self, aggregate: CompValue, env: dict[str, str]) -> str:
        distinct = "DISTINCT " if aggregate.distinct else ""
        name = aggregate.name
        if name == "Aggregate_Count":
            if aggregate.vars == "*":
                return as_term("num", "COUNT(*)")
            kind, sql = self.expr(aggregate.vars, env)
            return as_term("num", f"COUNT({distinct}{as_term(kind, sql)})")
        kind, sql = self.expr(aggregate.vars, env)
        term = as_term(kind, sql)
        if name == "Aggregate_Sample":
            return f"ANY_VALUE({term})"
        if name in ("Aggregate_Min", "Aggregate_Max"):
            # numeric order for numbers (what the queries aggregate), text order otherwise
            pick = "arg_min" if name == "Aggregate_Min" else "arg_max"
            return f"COALESCE({pick}({term}, {as_num('term', term)}), {'MIN' if name == 'Aggregate_Min' else 'MAX'}({term}))"
        if name == "Aggregate_GroupConcat":
            separator = aggregate.separator if aggregate.separator is not None else " "
            return as_term("str", f"COALESCE(string_agg({distinct}{as_str('term', term)}, {quote(separator)}), '')")
        raise UnsupportedQuery(f"aggregate {name}")

    # --- expressions

    def boolean(self, expr: object, env: dict[str, str]) -> str:
        kind, sql = self.expr(expr, env)
        return f"COALESCE({as_bool(kind, sql)}, FALSE)"

    def expr(self, expr: object, env: Env) -> tuple[str, str]:
        if isinstance(expr, Variable):
            if str(expr) not in env:
                return "term", "CAST(NULL AS VARCHAR)"
            if str(expr) in env.typed:
                return env.typed[str(expr)]
            return "term", env[str(expr)]
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
            return "term", f"(CASE WHEN starts_with({sql}, '<') THEN {sql} ELSE '<' || {as_str(kind, sql)} || '>' END)"
        return "term", f"('<' || {as_str(kind, sql)} || '>')"

    def e_Builtin_COALESCE(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        """The first argument that is bound and not an error (both are NULL here)."""
        args = [self.expr(arg, env) for arg in e.arg]
        kinds = {kind for kind, _ in args}
        if len(kinds) == 1:
            return args[0][0], "COALESCE(" + ", ".join(sql for _, sql in args) + ")"
        return "term", "COALESCE(" + ", ".join(as_term(kind, sql) for kind, sql in args) + ")"

    def e_Builtin_sameTerm(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        return "bool", f"({as_term(*self.expr(e.arg1, env))} = {as_term(*self.expr(e.arg2, env))})"

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
        if not (isinstance(pattern, Literal) and (flags is None or (isinstance(flags, Literal) and str(flags) in ("", "i")))):
            raise UnsupportedQuery("REGEX with a pattern that is not a constant, or flags other than i")
        text = ("(?i)" if flags is not None and str(flags) == "i" else "") + str(pattern)
        if any(c in str(pattern) for c in "\\&"):  # XPath and RE2 escapes and classes differ beyond the simple
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
        return "term", f"(CASE WHEN {valid} THEN '\"' || {text} || '\"^^<{target}>' END)"

    def e_Builtin_BOUND(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        name = str(e.arg)
        return "bool", f"({env.ids[name]} IS NOT NULL)" if name in env else "FALSE"

    def e_Builtin_IF(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        condition = as_bool(*self.expr(e.arg1, env))
        then = as_term(*self.expr(e.arg2, env))
        other = as_term(*self.expr(e.arg3, env))
        return "term", f"(CASE WHEN {condition} THEN {then} WHEN NOT {condition} THEN {other} END)"

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
        for op, other in zip(e.op, e.other):
            sql = f"({sql} {op} {as_num(*self.expr(other, env))})"
        return "num", sql

    def e_MultiplicativeExpression(self, e: CompValue, env: dict[str, str]) -> tuple[str, str]:
        sql = as_num(*self.expr(e.expr, env))
        for op, other in zip(e.op, e.other):
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
            # a variable with a typed value compares as the term it is bound to (RDF term
            # equality, as when its value is read from the term)
            # (two values of one kind compare as values: numbers and dates as SPARQL's = does)
            typed = env.typed
            both_typed = all(isinstance(x, Variable) and str(x) in typed for x in (e.expr, e.other)) and left[0] == right[0]
            if not both_typed:
                if isinstance(e.expr, Variable) and str(e.expr) in typed:
                    left = ("term", env[str(e.expr)])
                if isinstance(e.other, Variable) and str(e.other) in typed:
                    right = ("term", env[str(e.other)])
            if left[0] == right[0] and left[0] in ("term", "str"):
                # same term, or equal numbers / dates written differently
                a, b = left[1], right[1]
                if left[0] == "term":
                    equal = f"({a} = {b} OR {as_num('term', a)} = {as_num('term', b)} OR {as_date('term', a)} = {as_date('term', b)})"
                    # two different literals that are not both numbers or dates: SPARQL errs; IRIs: false
                    equal = f"(CASE WHEN {a} = {b} THEN TRUE WHEN {a} IS NULL OR {b} IS NULL THEN NULL WHEN NOT (starts_with({a}, '\"') AND starts_with({b}, '\"')) THEN FALSE WHEN {as_num('term', a)} IS NOT NULL AND {as_num('term', b)} IS NOT NULL THEN {as_num('term', a)} = {as_num('term', b)} WHEN {as_date('term', a)} IS NOT NULL AND {as_date('term', b)} IS NOT NULL THEN {as_date('term', a)} = {as_date('term', b)} WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE FALSE END)"
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
        inner = self.pattern(graph)
        x = self.alias("x")
        conditions = []
        for v in inner.variables:
            if v in env:
                outer_may_be_unbound = v in env.nullable
                outer = env.ids[v]
                if outer_may_be_unbound or v in inner.maybe_null:
                    conditions.append(f"({outer} IS NULL OR {x}.{col(v)} IS NULL OR {x}.{col(v)} = {outer})")
                else:
                    conditions.append(f"{x}.{col(v)} = {outer}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"EXISTS (SELECT 1 FROM ({inner.sql}) {x}{where})"


def query_constants(algebra: object) -> set[str]:
    """The IRIs and literals a query's algebra names, as N-Triples text."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, (URIRef, Literal)):
            found.add(term_text(node))
        elif isinstance(node, Path):
            for attribute in ("args", "path"):
                value = getattr(node, attribute, None)
                if isinstance(value, list):
                    for item in value:
                        walk(item)
                elif value is not None:
                    walk(value)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple, set)):
            for value in node:
                walk(value)

    walk(algebra)
    return found


def translate_pattern(algebra: CompValue, table: "str | Layout" = "triples") -> Relation:
    """The WHERE clause of a prepared query (its algebra, under the query form) as SQL."""
    return Translator(table).pattern(algebra.p)


def select_sql(algebra: CompValue, table: "str | Layout" = "triples") -> Relation:
    """A SELECT query (its algebra) as SQL."""
    translator = Translator(table)
    relation = translator.pattern(algebra.p)
    return relation


def construct_statements(algebra: CompValue, layout: "TableLayout") -> list[str]:
    """A CONSTRUCT query as SQL statements over a table per predicate: its solutions into a
    temporary table once, then each predicate's new triples (the template's, with every variable
    bound, less those the table holds) into that predicate's table."""
    if algebra.name != "ConstructQuery":
        raise UnsupportedQuery("not a CONSTRUCT query")
    relation = Translator(layout).pattern(algebra.p)
    by_predicate: dict[str, list[str]] = {}
    for s, p, o in algebra.template:
        if isinstance(p, Variable):
            raise UnsupportedQuery("a variable predicate in a CONSTRUCT template")
        ids: list[str] = []
        texts: list[str] = []
        conditions = []
        for term in (s, o):
            if isinstance(term, Variable):
                if str(term) not in relation.variables:
                    ids = []
                    break
                ids.append(f"w.{col(str(term))}")
                texts.append(f"w.{tcol(str(term))}")
                conditions.append(f"w.{col(str(term))} IS NOT NULL")
            else:
                ids.append(const_id(term))
                texts.append(quote(term_text(term)))
        if not ids:
            continue
        # a literal in the subject position is no triple
        conditions.append(f"NOT starts_with({texts[0]}, '\"')")
        by_predicate.setdefault(term_text(p), []).append(
            f"SELECT {ids[0]} AS s, {ids[1]} AS o, {texts[0]} AS st, {texts[1]} AS ot FROM {SOLUTIONS} w WHERE {' AND '.join(conditions)}")
    if not by_predicate:
        return []
    statements = [f"CREATE OR REPLACE TEMPORARY TABLE {SOLUTIONS} AS {relation.sql}"]
    for predicate, parts in by_predicate.items():
        table = layout.target(predicate)
        new = " UNION ALL ".join(parts)
        # set semantics on the ids (a term's text follows from its id)
        statements.append(
            f"INSERT INTO {table} WITH fresh AS (SELECT s, o, any_value(st) AS st, any_value(ot) AS ot FROM ({new}) GROUP BY s, o) "
            f"SELECT f.s, f.o, f.st, f.ot FROM fresh f ANTI JOIN (SELECT s, o FROM {table} WHERE s IN (SELECT s FROM fresh)) e ON e.s = f.s AND e.o = f.o")
    statements.append(f"DROP TABLE {SOLUTIONS}")
    return statements


SOLUTIONS = "__solutions"


class TableLayout(Layout):
    """A table per predicate (columns ``s, o, st, ot``): what :func:`construct_statements`
    writes to. :meth:`target` names the table of a predicate, creating it if need be."""

    def target(self, text: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError
