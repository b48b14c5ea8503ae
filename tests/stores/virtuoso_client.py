"""A small SPARQL 1.1 protocol client for the Virtuoso tests, apart from the project's endpoint
store: queries and updates as URL-encoded form POSTs (Virtuoso never answers a POST of
``application/sparql-query``), every query with ``default-graph-uri`` naming one graph and every
update operation with ``WITH`` that graph (never the server's default graph, which on Virtuoso is
the union of all graphs), data uploaded in chunks through the Graph Store protocol (``?graph=``).

What comes back is read into rdflib terms, so that it compares with what the embedded store gives;
the response headers are kept, so that a test can see ``X-SPARQL-MaxRows``.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from rdflib import BNode, Literal, URIRef

from csfkg.stores.sparql_text import STRIP

Term = URIRef | BNode | Literal
Triple = tuple[Term, Term, Term]

_OPERATION = re.compile(r"(?:^|;)\s*(DELETE|INSERT)\b", re.IGNORECASE)
_PROLOGUE_END = re.compile(r"\b(DELETE|INSERT)\b", re.IGNORECASE)


class ServerError(Exception):
    """The server refused a request; the message holds its reason (the response body)."""


@dataclass(frozen=True)
class Answer:
    """A SELECT's solutions (variable -> term, absent where unbound) and the response headers."""

    variables: list[str]
    solutions: list[dict[str, Term]]
    headers: Mapping[str, str]


def term_of(value: Mapping[str, str]) -> Term:
    """An rdflib term from a SPARQL JSON results binding."""
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if "xml:lang" in value:
        return Literal(value["value"], lang=value["xml:lang"])
    datatype = value.get("datatype")
    return Literal(value["value"], datatype=URIRef(datatype) if datatype else None)


def with_graph(update: str, graph: str) -> str:
    """Every operation of an Update (``DELETE``/``INSERT`` ... ``WHERE``) with ``WITH <graph>``
    before it: the operation reads and writes that graph alone."""
    masked = STRIP.sub(lambda m: " " * len(m.group(0)), update)
    first = _PROLOGUE_END.search(masked)
    assert first is not None, "not an update with DELETE or INSERT"
    starts = {first.start()} | {m.start(1) for m in _OPERATION.finditer(masked)}
    text = update
    for start in sorted(starts, reverse=True):
        text = text[:start] + f"WITH <{graph}> " + text[start:]
    return text


class SparqlClient:
    """One SPARQL endpoint (``http://host:port/sparql``) and its Graph Store protocol
    (``/sparql-graph-crud``), read and written in one named graph."""

    def __init__(self, endpoint: str, graph: str, *, timeout: float = 300) -> None:
        self.endpoint = endpoint
        self.graph_store = endpoint.rsplit("/", 1)[0] + "/sparql-graph-crud"
        self.graph = graph
        self.timeout = timeout

    def _post(self, url: str, data: bytes, content_type: str, accept: str) -> tuple[bytes, Mapping[str, str]]:
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": content_type, "Accept": accept}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:  # the server's reason is in the body
            reason = error.read().decode(errors="replace")[:2000]
            raise ServerError(f"HTTP {error.code} from {url}: {reason}") from None

    def select(self, query: str) -> Answer:
        """A SELECT query over the graph."""
        form = urllib.parse.urlencode({"query": query, "default-graph-uri": self.graph}).encode()
        body, headers = self._post(
            self.endpoint, form, "application/x-www-form-urlencoded", "application/sparql-results+json"
        )
        results = json.loads(body)
        return Answer(
            variables=results["head"]["vars"],
            solutions=[
                {name: term_of(value) for name, value in binding.items()}
                for binding in results["results"]["bindings"]
            ],
            headers=headers,
        )

    def update(self, update: str) -> None:
        """An Update whose operations all read and write the graph (:func:`with_graph`)."""
        form = urllib.parse.urlencode({"update": with_graph(update, self.graph)}).encode()
        self._post(self.endpoint, form, "application/x-www-form-urlencoded", "*/*")

    def upload(self, ntriples: str, *, chunk: int = 5000) -> None:
        """N-Triples added to the graph through the Graph Store protocol, ``chunk`` lines a request;
        the lines with blank nodes all in one request, so that a label names one node."""
        lines = [line for line in ntriples.splitlines() if line.strip() and not line.startswith("#")]
        with_blank = [line for line in lines if "_:" in line]
        plain = [line for line in lines if "_:" not in line]
        parts = [with_blank] + [plain[i : i + chunk] for i in range(0, len(plain), chunk)]
        url = self.graph_store + "?" + urllib.parse.urlencode({"graph": self.graph})
        for part in parts:
            if part:
                self._post(url, ("\n".join(part) + "\n").encode(), "application/n-triples", "*/*")

    def triples(self, graph: str | None = None) -> set[Triple]:
        """Every triple of the graph (or of ``graph``)."""
        answer = SparqlClient(self.endpoint, graph or self.graph, timeout=self.timeout).select(
            "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
        )
        return {(row["s"], row["p"], row["o"]) for row in answer.solutions}

    def drop(self, graph: str | None = None) -> None:
        """The graph (or ``graph``) removed, if it exists."""
        form = urllib.parse.urlencode({"update": f"DROP SILENT GRAPH <{graph or self.graph}>"}).encode()
        self._post(self.endpoint, form, "application/x-www-form-urlencoded", "*/*")
