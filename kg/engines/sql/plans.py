"""Whole queries and updates as SQL statements: SELECT, the solutions of a pattern as term texts
or values, and the plans of CONSTRUCT and DELETE/INSERT (what they insert into and delete from
the store's tables) (:mod:`csfkg.engines.sql.translate` describes the engine)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rdflib import Literal, URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql.parserutils import CompValue

from csfkg.engines.sql.patterns import (
    Translator,
)
from csfkg.engines.sql.terms import (
    BLANK_KIND,
    IRI_KIND,
    LITERAL_KIND,
    Layout,
    Relation,
    UnsupportedQuery,
    _text_lexical,
    _unescape,
    as_term,
    col,
    const_id,
    is_kind,
    kcol,
    term_str,
    term_text,
)


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
    template = written_triples(algebra, read)
    if not template:
        return None
    pattern = algebra.p if read is None else without_unread_optionals(algebra.p, _variables(template))
    return _plan(Translator(layout).pattern(pattern), template, [], layout)


def written_triples(algebra: CompValue, read: frozenset[str] | None) -> list:
    """The triples of a CONSTRUCT query's template that are written where only the predicates
    ``read`` (N-Triples texts; None: any) are read later."""
    return [
        triple
        for triple in algebra.template
        if read is None or isinstance(triple[1], Variable) or term_text(triple[1]) in read
    ]


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
