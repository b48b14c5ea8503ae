"""Where SPARQL runs: one small interface over rdflib's in-memory graph and Oxigraph (embedded,
in memory or persistent), so that every named query and the derivation run unchanged on either.

Parameters are always bound as RDF terms: ``initBindings`` on rdflib, ``substitutions`` (SEP-0007)
on Oxigraph - never formatted into the query text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier, Variable

Term = URIRef | BNode | Literal
Bindings = Mapping[str, Term]

_FORM = re.compile(r"^\s*(SELECT|CONSTRUCT|ASK|DESCRIBE)\b", re.IGNORECASE | re.MULTILINE)
_STRIP = re.compile(r"#[^\n]*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|<[^>\s]*>")


def query_form(text: str) -> str:
    """``SELECT``, ``CONSTRUCT``, ``ASK`` or ``DESCRIBE``: the form of a SPARQL query."""
    match = _FORM.search(_STRIP.sub(" ", text))
    if match is None:
        raise ValueError("not a SPARQL query: no SELECT, CONSTRUCT, ASK or DESCRIBE")
    return match.group(1).upper()


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def with_values(text: str, bindings: Bindings) -> str:
    """The query with a ``VALUES`` block binding ``bindings`` at the head of its WHERE clause.

    The values are RDF terms serialised with ``n3()`` (IRIs and typed literals, escaped by
    rdflib), never user text spliced into the query: this is how parameters reach engines
    without pre-binding (a remote endpoint, or Oxigraph for unprojected variables).

    Raises:
        ValueError: the query has no WHERE clause.
    """
    names = list(bindings)
    block = " VALUES (" + " ".join(f"?{n}" for n in names) + ") { (" + " ".join(bindings[n].n3() for n in names) + ") } "
    return _insert_after_where(text, block)


def with_values_rows(text: str, variable: str, terms: list[Term]) -> str:
    """The query with ``VALUES ?variable { t1 t2 ... }`` (``n3()`` terms) at the head of its WHERE
    clause: one query for a batch of patients.

    Raises:
        ValueError: the query has no WHERE clause.
    """
    block = f" VALUES ?{variable} {{ " + " ".join(t.n3() for t in terms) + " } "
    return _insert_after_where(text, block)


def _insert_after_where(text: str, block: str) -> str:
    masked = _STRIP.sub(lambda m: " " * len(m.group(0)), text)  # not inside comments, strings, IRIs
    match = _WHERE.search(masked)
    if match is None:
        raise ValueError("cannot bind parameters: the query has no WHERE clause")
    return text[: match.end()] + block + text[match.end() :]


@dataclass
class SelectResult:
    """Variables in projection order and rows of rdflib terms (None for unbound)."""

    variables: list[str]
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)

    def dicts(self) -> list[dict[str, Term | None]]:
        return [dict(zip(self.variables, row)) for row in self.rows]


QueryResult = SelectResult | Graph | bool


class Store:
    """A place where SPARQL 1.1 queries run over ontology + guideline + patient data."""

    def query(self, text: str, bindings: Bindings | None = None) -> QueryResult:
        """Run a query; SELECT gives a :class:`SelectResult`, CONSTRUCT/DESCRIBE a graph, ASK a bool."""
        raise NotImplementedError

    def add_graph(self, graph: Graph) -> None:
        """Add every triple of ``graph``."""
        raise NotImplementedError

    def add_triples(self, triples: Iterable[tuple[Term, Term, Term]]) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


@lru_cache(maxsize=512)
def _prepared(text: str):  # noqa: ANN202 - rdflib's Query
    from rdflib.plugins.sparql import prepareQuery

    return prepareQuery(text)


class RdflibStore(Store):
    """rdflib's in-memory graph: the reference engine, and the API the library exposes."""

    def __init__(self, graph: Graph | None = None) -> None:
        self.graph = graph if graph is not None else Graph()

    def query(self, text: str, bindings: Bindings | None = None) -> QueryResult:
        init = {Variable(k): v for k, v in (bindings or {}).items()}
        result = self.graph.query(_prepared(text), initBindings=init)
        if result.type == "SELECT":
            variables = [str(v) for v in result.vars or []]
            return SelectResult(variables, [tuple(row) for row in result])  # type: ignore[arg-type]
        if result.type == "ASK":
            return bool(result.askAnswer)
        graph = Graph()
        for triple in result:
            graph.add(triple)  # type: ignore[arg-type]
        return graph

    def add_graph(self, graph: Graph) -> None:
        self.graph += graph

    def add_triples(self, triples: Iterable[tuple[Term, Term, Term]]) -> None:
        for triple in triples:
            self.graph.add(triple)

    def __len__(self) -> int:
        return len(self.graph)


class OxigraphStore(Store):
    """Oxigraph, embedded: in memory, or persistent in a folder (RocksDB) when ``path`` is given."""

    def __init__(self, path: str | None = None) -> None:
        import pyoxigraph

        self._ox = pyoxigraph
        self.store = pyoxigraph.Store(path) if path else pyoxigraph.Store()

    # --- term conversion -------------------------------------------------------------
    def to_ox(self, term: Identifier):  # noqa: ANN201 - pyoxigraph term
        ox = self._ox
        if isinstance(term, URIRef):
            return ox.NamedNode(str(term))
        if isinstance(term, BNode):
            return ox.BlankNode(str(term))
        if isinstance(term, Literal):
            if term.language:
                return ox.Literal(str(term), language=term.language)
            if term.datatype:
                return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
            return ox.Literal(str(term))
        raise TypeError(f"cannot convert {term!r} to an Oxigraph term")

    def from_ox(self, term) -> Term | None:  # noqa: ANN001
        ox = self._ox
        if term is None:
            return None
        if isinstance(term, ox.NamedNode):
            return URIRef(term.value)
        if isinstance(term, ox.BlankNode):
            return BNode(term.value)
        if isinstance(term, ox.Literal):
            if term.language:
                return Literal(term.value, lang=term.language)
            datatype = term.datatype.value
            if datatype == str(XSD.string):
                return Literal(term.value)
            return Literal(term.value, datatype=URIRef(datatype))
        raise TypeError(f"cannot convert {term!r} to an rdflib term")

    # --- queries -----------------------------------------------------------------------
    def query(self, text: str, bindings: Bindings | None = None) -> QueryResult:
        ox = self._ox
        substitutions = {ox.Variable(k): self.to_ox(v) for k, v in (bindings or {}).items()}
        try:
            result = self.store.query(text, substitutions=substitutions or None)
        except RuntimeError as error:
            # Oxigraph substitutes only projected variables (SEP-0007); bind the others with a
            # VALUES block of RDF terms at the head of the WHERE clause.
            if not bindings or "projection" not in str(error):
                raise
            result = self.store.query(with_values(text, bindings))
        if isinstance(result, (bool, ox.QueryBoolean)):
            return bool(result)
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            rows = [tuple(self.from_ox(solution[i]) for i in range(len(variables))) for solution in result]
            return SelectResult(variables, rows)
        graph = Graph()
        for triple in result:
            graph.add((self.from_ox(triple.subject), self.from_ox(triple.predicate), self.from_ox(triple.object)))  # type: ignore[arg-type]
        return graph

    def add_graph(self, graph: Graph) -> None:
        self.add_triples(graph)  # type: ignore[arg-type]

    def add_triples(self, triples: Iterable[tuple[Term, Term, Term]]) -> None:
        ox = self._ox
        self.store.extend(ox.Quad(self.to_ox(s), self.to_ox(p), self.to_ox(o)) for s, p, o in triples)

    def __len__(self) -> int:
        return len(self.store)


class EndpointStore(Store):
    """Any SPARQL 1.1 server (GraphDB, Virtuoso, Neptune, Fuseki, Oxigraph server): queries over
    the SPARQL Protocol, updates to the update URL, data through the Graph Store Protocol.

    Parameters are bound by a VALUES block of ``n3()`` terms (the endpoint cannot pre-bind).
    """

    def __init__(self, query_url: str, *, update_url: str | None = None, store_url: str | None = None, timeout: float = 600.0) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.store_url = store_url
        self.timeout = timeout

    def _post(self, url: str, body: bytes, content_type: str, accept: str | None = None) -> bytes:
        import urllib.error
        import urllib.request

        from .errors import InputError

        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - the user's endpoint
                return response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace").strip().splitlines()[:1]
            raise InputError(f"The SPARQL endpoint {url} answered {error.code}: {' '.join(detail)[:200]}.") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise InputError(f"Cannot reach the SPARQL endpoint {url}: {reason}.") from None

    def query(self, text: str, bindings: Bindings | None = None) -> QueryResult:
        import json

        if bindings:
            text = with_values(text, bindings)
        form = query_form(text)
        if form in ("SELECT", "ASK"):
            raw = self._post(self.query_url, text.encode("utf-8"), "application/sparql-query", "application/sparql-results+json")
            data = json.loads(raw)
            if form == "ASK":
                return bool(data["boolean"])
            variables = list(data["head"]["vars"])
            rows = [tuple(_json_term(b.get(v)) for v in variables) for b in data["results"]["bindings"]]
            return SelectResult(variables, rows)
        raw = self._post(self.query_url, text.encode("utf-8"), "application/sparql-query", "application/n-triples")
        graph = Graph()
        graph.parse(data=raw.decode("utf-8"), format="nt")
        return graph

    def update(self, text: str) -> None:
        """Run a SPARQL 1.1 Update on the server."""
        self._post(self.update_url, text.encode("utf-8"), "application/sparql-update")

    def add_graph(self, graph: Graph) -> None:
        data = graph.serialize(format="nt").encode("utf-8")
        if self.store_url:
            self._post(self.store_url + ("&" if "?" in self.store_url else "?") + "default", data, "application/n-triples")
        else:
            self.update("INSERT DATA {\n" + data.decode("utf-8") + "\n}")

    def add_triples(self, triples: Iterable[tuple[Term, Term, Term]]) -> None:
        graph = Graph()
        for triple in triples:
            graph.add(triple)
        self.add_graph(graph)

    def __len__(self) -> int:
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert isinstance(result, SelectResult)
        return int(result.rows[0][0])  # type: ignore[arg-type]


def _json_term(value: dict | None) -> Term | None:
    """A term of the SPARQL 1.1 Query Results JSON format, as an rdflib term."""
    if value is None:
        return None
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if "xml:lang" in value:
        return Literal(value["value"], lang=value["xml:lang"])
    datatype = value.get("datatype")
    if datatype and datatype != str(XSD.string):
        return Literal(value["value"], datatype=URIRef(datatype))
    return Literal(value["value"])
