"""Queries answered from the SQL store (:mod:`csfkg.engines.sql.store`) as the Store protocol
answers them: a SELECT's solutions as rdflib terms, an ASK's boolean, a CONSTRUCT's triples
(as a graph, or written as N-Triples with each term's text as the store holds it).

A term comes back from its N-Triples text: an IRI and a blank node as they are (a blank node
keeps its label, so it can be found again in the same store), a literal unescaped with its
datatype or language tag, its lexical form kept (rdflib's normalisation is off while reading, as
for a file)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node, Variable

from csfkg.engines.sql.store import SqlStore, add_constants, algebra_of
from csfkg.engines.sql.translate import (
    Translator,
    UnsupportedQuery,
    query_constants,
    select_sql,
    solution_texts,
)
from csfkg.io.patient_files import rdflib_reading
from csfkg.stores.protocol import QueryResult, SelectResult

__all__ = ["answer", "construct_texts", "dump_construct", "term_of_text"]

_LITERAL = re.compile(
    r'"(?P<lexical>(?:[^"\\]|\\.)*)"(?:\^\^<(?P<datatype>[^>]*)>|@(?P<language>[A-Za-z0-9-]+))?'
)
_UNESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(match: re.Match[str]) -> str:
    short, long, simple = match.groups()
    if short or long:
        return chr(int(short or long, 16))
    return _SIMPLE.get(simple, simple)


def term_of_text(text: str) -> Node:
    """The rdflib term of an N-Triples term's text (as the store holds it).

    Raises:
        UnsupportedQuery: the text is not one N-Triples term.
    """
    if text.startswith("<") and text.endswith(">"):
        return URIRef(text[1:-1])
    if text.startswith("_:"):
        return BNode(text[2:])
    match = _LITERAL.fullmatch(text)
    if match is None:
        raise UnsupportedQuery(f"not a term: {text[:80]!r}")
    lexical = _UNESCAPE.sub(_unescape, match["lexical"])
    if match["language"]:
        return Literal(lexical, lang=match["language"])
    datatype = match["datatype"]
    return Literal(lexical, datatype=URIRef(datatype) if datatype else None)


def answer(store: SqlStore, text: str) -> QueryResult:
    """A SELECT, ASK or CONSTRUCT query, translated and run in the store.

    Raises:
        UnsupportedQuery: another query form, or what the translation does not cover.
    """
    algebra = algebra_of(text)
    add_constants(store, query_constants(algebra))
    if algebra.name == "SelectQuery":
        names = [str(v) for v in algebra["PV"]]
        order = _order(algebra.p, names)
        relation = select_sql(algebra, store, unordered=bool(order))
        rows = store.execute(solution_texts(relation, names, store.terms)).fetchall()
        with rdflib_reading():
            terms = [tuple(None if t is None else term_of_text(t) for t in row) for row in rows]
        for position, descending in reversed(order):
            terms.sort(key=lambda row, i=position: _order_key(row[i]), reverse=descending)
        return SelectResult(names, terms)
    if algebra.name == "AskQuery":
        relation = Translator(store).pattern(algebra.p)
        return store.execute(f"SELECT 1 FROM ({relation.sql}) s0 LIMIT 1").fetchone() is not None
    if algebra.name == "ConstructQuery":
        graph = Graph()
        with rdflib_reading():
            for triple in construct_texts(store, text):
                graph.add(tuple(term_of_text(t) for t in triple))  # type: ignore[arg-type]
        return graph
    raise UnsupportedQuery(f"{algebra.name}: the SQL store answers SELECT, ASK and CONSTRUCT")


def _order(node: object, names: list[str]) -> list[tuple[int, bool]]:
    """A SELECT's ORDER BY as (position of a projected variable, descending), for a sort of the
    decoded rows (SQL orders ids, not terms); none where the query has no ORDER BY.

    Raises:
        UnsupportedQuery: an ORDER BY on an expression or an unprojected variable, or under a
            LIMIT / OFFSET (which must apply after the order).
    """
    sliced = False
    while getattr(node, "name", None) in ("Slice", "Distinct", "Reduced", "Project"):
        sliced = sliced or node.name == "Slice"  # type: ignore[attr-defined]
        node = node.p  # type: ignore[attr-defined]
    if getattr(node, "name", None) != "OrderBy":
        return []
    if sliced:
        raise UnsupportedQuery("ORDER BY with LIMIT or OFFSET")
    order: list[tuple[int, bool]] = []
    for condition in node.expr:  # type: ignore[attr-defined]
        expression = getattr(condition, "expr", condition)
        if not isinstance(expression, Variable) or str(expression) not in names:
            raise UnsupportedQuery("ORDER BY on what is not a projected variable")
        order.append((names.index(str(expression)), getattr(condition, "order", None) == "DESC"))
    return order


def _order_key(term: Node | None) -> tuple[Any, ...]:
    """SPARQL's order of terms (15.1): unbound, blank nodes, IRIs, literals; literals of a type
    by value where Python compares them (numbers, dates), else by their text."""
    if term is None:
        return (0, "", "")
    if isinstance(term, BNode):
        return (1, "", str(term))
    if isinstance(term, URIRef):
        return (2, "", str(term))
    assert isinstance(term, Literal)
    value = term.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (3, float(value), str(term))
    return (4, str(term.datatype or ""), str(term))


def construct_texts(store: SqlStore, text: str) -> Iterator[tuple[str, str, str]]:
    """The triples of a CONSTRUCT query as N-Triples texts, each once: the template instantiated
    with every solution of its pattern; a triple with an unbound variable, a literal subject or a
    predicate that is no IRI is left out, and a blank node of the template is a new node for
    each solution (SPARQL 1.1, 16.2).

    Raises:
        UnsupportedQuery: not a CONSTRUCT query, or what the translation does not cover.
    """
    from csfkg.engines.sql.terms import term_text

    algebra = algebra_of(text)
    if algebra.name != "ConstructQuery":
        raise UnsupportedQuery("not a CONSTRUCT query")
    add_constants(store, query_constants(algebra))
    template = list(algebra.template)
    names = sorted({str(t) for triple in template for t in triple if isinstance(t, Variable)})
    relation = Translator(store).pattern(algebra.p)
    rows = store.execute(solution_texts(relation, names, store.terms)).fetchall()
    position = {name: i for i, name in enumerate(names)}
    seen: set[tuple[str, str, str]] = set()
    for number, row in enumerate(rows):
        for triple in template:
            texts: list[str | None] = []
            for term in triple:
                if isinstance(term, Variable):
                    texts.append(row[position[str(term)]])
                elif isinstance(term, BNode):
                    texts.append(f"_:c{number}x{term}")
                else:
                    texts.append(term_text(term))
            s, p, o = texts
            if s is None or p is None or o is None or s.startswith('"') or not p.startswith("<"):
                continue
            found = (s, p, o)
            if found not in seen:
                seen.add(found)
                yield found


def dump_construct(store: SqlStore, stream: BinaryIO, text: str) -> None:
    """A CONSTRUCT query's triples written to ``stream`` as N-Triples, each term's text as the
    store holds it."""
    lines: Iterable[str] = (f"{s} {p} {o} .\n" for s, p, o in construct_texts(store, text))
    stream.writelines(line.encode("utf-8") for line in lines)
