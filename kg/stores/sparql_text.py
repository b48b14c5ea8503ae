"""SPARQL text helpers for stores that cannot pre-bind: the form of a query, a ``VALUES`` block
of RDF terms at the head of its WHERE clause, and a CONSTRUCT query as the Update that inserts
its triples. Terms are serialised with ``n3()``, never user text spliced into a query."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rdflib import BNode, Literal, URIRef

Term = URIRef | BNode | Literal
Bindings = Mapping[str, Term]

_FORM = re.compile(r"\b(SELECT|CONSTRUCT|ASK|DESCRIBE)\b", re.IGNORECASE)
STRIP = re.compile(r"#[^\n]*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|<[^>\s]*>")
"""Comments, strings and IRIs: masked before a keyword is looked for."""
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_CONSTRUCT = re.compile(r"\bCONSTRUCT\b", re.IGNORECASE)


def query_form(text: str) -> str:
    """``SELECT``, ``CONSTRUCT``, ``ASK`` or ``DESCRIBE``: the form of a SPARQL query.

    Raises:
        ValueError: the text has none of the four.
    """
    match = _FORM.search(STRIP.sub(" ", text))
    if match is None:
        raise ValueError("not a SPARQL query: no SELECT, CONSTRUCT, ASK or DESCRIBE")
    return match.group(1).upper()


def with_values(text: str, bindings: Bindings) -> str:
    """The query with a ``VALUES`` block binding ``bindings`` at the head of its WHERE clause:
    how parameters reach engines without pre-binding (a remote endpoint, an Update, Oxigraph for
    unprojected variables).

    Raises:
        ValueError: the query has no WHERE clause.
    """
    names = list(bindings)
    block = (
        " VALUES ("
        + " ".join(f"?{n}" for n in names)
        + ") { ("
        + " ".join(bindings[n].n3() for n in names)
        + ") } "
    )
    return _insert_after_where(text, block)


def with_values_rows(text: str, variable: str, terms: list[Term]) -> str:
    """The query with ``VALUES ?variable { t1 t2 ... }`` at the head of its WHERE clause: one
    query for a batch of patients.

    Raises:
        ValueError: the query has no WHERE clause.
    """
    block = f" VALUES ?{variable} {{ " + " ".join(t.n3() for t in terms) + " } "
    return _insert_after_where(text, block)


def _insert_after_where(text: str, block: str) -> str:
    masked = STRIP.sub(lambda m: " " * len(m.group(0)), text)  # not inside comments, strings, IRIs
    match = _WHERE.search(masked)
    if match is None:
        raise ValueError("cannot bind parameters: the query has no WHERE clause")
    return text[: match.end()] + block + text[match.end() :]


def as_update(text: str) -> str:
    """A CONSTRUCT query (``derive-*.rq``) as the SPARQL Update that inserts the same triples.

    Raises:
        ValueError: the text is not a CONSTRUCT query.
    """
    masked = STRIP.sub(lambda m: " " * len(m.group(0)), text)
    match = _CONSTRUCT.search(masked)
    if match is None:
        raise ValueError("not a CONSTRUCT query")
    return text[: match.start()] + "INSERT" + text[match.end() :]
