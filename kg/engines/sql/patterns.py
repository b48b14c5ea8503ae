"""SPARQL graph patterns translated to SQL relations: BGPs, joins, OPTIONAL, FILTER, BIND, UNION,
MINUS, projection, VALUES, sub-SELECTs and aggregates (:mod:`csfkg.engines.sql.translate`
describes the engine)."""

from __future__ import annotations

from itertools import count

from rdflib import URIRef, Variable
from rdflib.paths import Path, SequencePath
from rdflib.plugins.sparql.parserutils import CompValue

from csfkg.engines.sql.expressions import (
    Expressions,
)
from csfkg.engines.sql.paths import (
    PathSteps,
)
from csfkg.engines.sql.terms import (
    LITERAL_KIND,
    TERM_COLUMNS,
    Env,
    Layout,
    Ref,
    Relation,
    UnsupportedQuery,
    as_str,
    as_term,
    col,
    const_id,
    is_kind,
    kcol,
    quote,
    rcol,
    term_id,
    term_str,
    term_text,
)


class Translator(PathSteps, Expressions):
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

    def p_Slice(self, node: CompValue) -> Relation:
        """LIMIT and OFFSET of an unordered solution sequence (any of its solutions is the
        answer); under an ORDER BY, which is sorted after the SQL, refused."""
        below = node.p
        while below.name in ("Project", "Distinct", "ToMultiSet"):
            below = below.p
        if below.name == "OrderBy":
            raise UnsupportedQuery("LIMIT or OFFSET after ORDER BY")
        inner = self.pattern(node.p)
        limit = "" if node.length is None else f" LIMIT {int(node.length)}"
        offset = f" OFFSET {int(node.start)}" if node.start else ""
        return Relation(
            f"SELECT * FROM ({inner.sql}){limit}{offset}",
            inner.variables,
            inner.maybe_null,
            dict(inner.typed),
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
