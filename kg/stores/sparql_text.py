"""SPARQL text helpers for stores that cannot pre-bind: the form of a query, a ``VALUES`` block
of RDF terms at the head of its WHERE clause, and a CONSTRUCT query as the Update that inserts
its triples. Terms are serialised with ``n3()``, never user text spliced into a query."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rdflib import BNode, Literal, URIRef

from csfkg.model.vocab import NUMERIC_DATATYPES

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
    """The query (or Update) with ``bindings`` bound: how parameters reach engines without
    pre-binding (a remote endpoint, the SQL engine, an Update, Oxigraph for unprojected variables).

    Each top-level WHERE clause gets both

    - the bound terms written in place of the variables inside it (outside strings, IRIs and
      comments; ``BOUND(?name)`` becomes ``true``), so that a nested group, a BIND or a
      sub-query sees them: a VALUES block at the head of WHERE joins with a nested group only
      after that group is evaluated, where ``BIND (LCASE(?text) AS ?needle)`` found ``?text``
      unbound (the ``lookup`` query answered no row on a server);
    - a ``VALUES`` block of the same terms at its head, so that the projection, GROUP BY, ORDER BY
      and a CONSTRUCT or INSERT template still see the variables bound.

    Variables are left in place where a constant cannot stand: after ``AS``, in a sub-query's
    projection, in GROUP BY and ORDER BY, in a VALUES header.

    Raises:
        ValueError: the query has no WHERE clause, or a binding is a blank node (a blank node in
            query text is a new variable, not that node).
    """
    for name, term in bindings.items():
        if isinstance(term, BNode):
            raise ValueError(f"cannot bind ?{name} to a blank node in query text")
    names = list(bindings)
    block = (
        " VALUES ("
        + " ".join(f"?{n}" for n in names)
        + ") { ("
        + " ".join(bindings[n].n3() for n in names)
        + ") } "
    )
    masked = STRIP.sub(lambda m: " " * len(m.group(0)), text)
    clauses = _top_level_where(masked)
    if not clauses:
        raise ValueError("cannot bind parameters: the query has no WHERE clause")
    pieces: list[str] = []
    done = 0
    for opening, closing in clauses:
        body = _substitute(text[opening + 1 : closing], masked[opening + 1 : closing], bindings)
        pieces += [text[done : opening + 1], block, body]
        done = closing
    pieces.append(text[done:])
    return "".join(pieces)


_VARIABLE = re.compile(r"[?$]([\w\u00B7\u0300-\u036F\u203F\u2040]+)")
_KEEP = re.compile(
    r"\bAS\s+[?$][\w\u00B7\u0300-\u036F\u203F\u2040]+"  # BIND (... AS ?x), (... AS ?x)
    r"|\bSELECT\b[^{]*?(?=\bWHERE\b|\{)"  # a sub-query's projection
    r"|\b(?:GROUP|ORDER)\s+BY\b.*?(?=\}|\bHAVING\b|\bLIMIT\b|\bOFFSET\b|\bORDER\b|\bVALUES\b)"
    r"|\bVALUES\s*(?:\([^)]*\)|[?$][\w\u00B7\u0300-\u036F\u203F\u2040]+)",  # a VALUES header
    re.IGNORECASE | re.DOTALL,
)
_BOUND = re.compile(r"\bBOUND\s*\(\s*[?$]([\w\u00B7\u0300-\u036F\u203F\u2040]+)\s*\)", re.IGNORECASE)


def _top_level_where(masked: str) -> list[tuple[int, int]]:
    """The braces that open and close each WHERE clause at nesting depth 0 (one in a query, one
    per operation in an Update)."""
    found: list[tuple[int, int]] = []
    depth = 0
    position = 0
    while True:
        match = _WHERE.search(masked, position)
        if match is None:
            return found
        depth += masked.count("{", position, match.start()) - masked.count("}", position, match.start())
        opening = match.end() - 1
        closing = matching_brace(masked, opening)
        if depth == 0:
            found.append((opening, closing))
            position = closing + 1
        else:
            position = match.end()
            depth += 1


def matching_brace(masked: str, opening: int, what: str = "cannot bind parameters: a WHERE clause") -> int:
    """The index of the brace that closes the one at ``opening`` in a query whose strings and
    comments are masked (:data:`STRIP`).

    Raises:
        ValueError: it is never closed (``what`` names the clause in the message).
    """
    depth = 0
    for index in range(opening, len(masked)):
        if masked[index] == "{":
            depth += 1
        elif masked[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"{what} has no closing brace")


def _substitute(body: str, masked: str, bindings: Bindings) -> str:
    """``body`` with each bound variable written as its term where a constant can stand."""
    kept = [False] * len(masked)
    for match in _KEEP.finditer(masked):
        kept[match.start() : match.end()] = [True] * (match.end() - match.start())
    edits: list[tuple[int, int, str]] = []
    for match in _BOUND.finditer(masked):
        if match.group(1) in bindings and not kept[match.start()]:
            edits.append((match.start(), match.end(), "true"))
    taken = [False] * len(masked)
    for start, end, _ in edits:
        taken[start:end] = [True] * (end - start)
    for match in _VARIABLE.finditer(masked):
        name = match.group(1)
        if name in bindings and not kept[match.start()] and not taken[match.start()]:
            edits.append((match.start(), match.end(), f" {bindings[name].n3()} "))
    out: list[str] = []
    done = 0
    for start, end, replacement in sorted(edits):
        out += [body[done:start], replacement]
        done = end
    out.append(body[done:])
    return "".join(out)


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


_NUMERIC = frozenset(NUMERIC_DATATYPES)


def truth(term: Term | None) -> bool:
    """The truth of a computed boolean as a server returns it: ``xsd:boolean`` by its value
    (whatever its lexical form, "1" as "true"), a number by being non-zero, a plain literal
    "true"/"1" as true (Virtuoso returns computed booleans as "1"/"0"); unbound, anything else, false."""
    if not isinstance(term, Literal):
        return False
    lexical = str(term).strip()
    if term.datatype is not None and str(term.datatype) in _NUMERIC:
        try:
            return float(lexical) != 0
        except ValueError:
            return False
    return lexical in ("true", "1")
