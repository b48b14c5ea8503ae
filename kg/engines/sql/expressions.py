"""SPARQL expressions translated to SQL: each becomes ``(kind, sql)``, kind one of term, str,
num, bool or date (:mod:`csfkg.engines.sql.translate` describes the engine)."""

from __future__ import annotations

from rdflib import Literal, URIRef, Variable
from rdflib.namespace import XSD
from rdflib.plugins.sparql.parserutils import CompValue

from csfkg.engines.sql.terms import (
    BLANK_KIND,
    BOOLEAN,
    CAST_FORMS,
    DATE,
    IRI_KIND,
    LITERAL_KIND,
    Cast,
    Const,
    Env,
    Number,
    Pick,
    Ref,
    UnsupportedQuery,
    _valid_day,
    as_bool,
    as_date,
    as_num,
    as_str,
    as_term,
    col,
    datatype,
    folded,
    is_kind,
    lexical,
    quote,
    term_equal,
    term_id,
)


class Expressions:
    """The expressions of a pattern: FILTER, BIND, aggregates and EXISTS, each as SQL of one of
    SPARQL's value kinds (a mixin of :class:`~csfkg.engines.sql.patterns.Translator`)."""

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
            return "term", Const(expr)
        if isinstance(expr, Literal):
            if expr.datatype in (XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.int, XSD.long):
                # a number in the integer or decimal form; any other form is read from its text
                # (an exponent, INF, NaN as numbers; an ill-typed literal as no number)
                constant = Const(expr)
                if folded(constant, "num") is None:
                    return "term", constant
                return "num", Number(float(str(expr)))
            if expr.datatype == XSD.boolean:
                return "bool", "TRUE" if expr.toPython() else "FALSE"
            if expr.datatype is None and expr.language is None:
                return "str", quote(str(expr))
            return "term", Const(expr)
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
        if len(kinds) == 1 and kinds != {"term"}:
            return args[0][0], "COALESCE(" + ", ".join(sql for _, sql in args) + ")"
        return "term", Pick(
            lambda read: (
                "(CASE "
                + " ".join(f"WHEN {sql} IS NOT NULL THEN {read(kind, sql)}" for kind, sql in args)
                + " END)"
            )
        )

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
        return "term", Pick(
            lambda read: f"(CASE {condition} WHEN TRUE THEN {read(*then)} WHEN FALSE THEN {read(*other)} END)"
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
