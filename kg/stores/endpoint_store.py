"""Any SPARQL 1.1 server (GraphDB, Virtuoso, Neptune, Fuseki, Oxigraph server): queries over the
SPARQL Protocol, updates to the update URL, data through the Graph Store Protocol.

The transport is urllib's (one POST a request, a timeout, HTTP errors as one sentence); results
are parsed by rdflib's own SPARQL JSON results parser and N-Triples parser. rdflib's
``SPARQLUpdateStore`` is not used: it offers no Graph Store Protocol upload (a cohort file
would go as INSERT DATA text) and binds parameters the same way (a VALUES block)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from rdflib import Graph
from rdflib.query import Result

from csfkg.model.errors import InputError
from csfkg.stores.protocol import Closing, QueryResult, SelectResult
from csfkg.stores.sparql_text import Bindings, as_update, query_form, with_values


class EndpointStore(Closing):
    """A SPARQL 1.1 server. Parameters are bound by a VALUES block of ``n3()`` terms (the endpoint
    cannot pre-bind)."""

    compiled_validation = "sparql"

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        store_url: str | None = None,
        timeout: float = 600.0,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.store_url = store_url
        self.timeout = timeout

    def _post(self, url: str, body: bytes, content_type: str, accept: str | None = None) -> bytes:
        import urllib.error
        import urllib.request

        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace").strip().splitlines()[:1]
            raise InputError(
                f"The SPARQL endpoint {url} answered {error.code}: {' '.join(detail)[:200]}."
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise InputError(f"Cannot reach the SPARQL endpoint {url}: {reason}.") from None

    def query(self, text: str, bindings: Bindings | None = None) -> QueryResult:
        if bindings:
            text = with_values(text, bindings)
        form = query_form(text)
        if form in ("SELECT", "ASK"):
            raw = self._post(
                self.query_url,
                text.encode("utf-8"),
                "application/sparql-query",
                "application/sparql-results+json",
            )
            result = Result.parse(io.BytesIO(raw), format="json")
            if form == "ASK":
                return bool(result.askAnswer)
            variables = [str(v) for v in result.vars or []]
            return SelectResult(variables, [tuple(row) for row in result])  # type: ignore[misc]
        raw = self._post(
            self.query_url, text.encode("utf-8"), "application/sparql-query", "application/n-triples"
        )
        graph = Graph()
        graph.parse(data=raw.decode("utf-8"), format="nt")
        return graph

    def update(self, text: str, bindings: Bindings | None = None) -> None:
        if bindings:
            text = with_values(text, bindings)
        self._post(self.update_url, text.encode("utf-8"), "application/sparql-update")

    def insert(self, construct: str) -> None:
        self.update(as_update(construct))

    def load(self, data: bytes, format: str, *, base_iri: str | None = None) -> None:
        graph = Graph()
        graph.parse(data=data, format=format, publicID=base_iri)
        self.add_graph(graph)

    def load_file(self, path: Path, format: str) -> None:
        from csfkg.stores.loading import parse_with_rdflib

        self.add_graph(parse_with_rdflib(path, format))

    def add_graph(self, graph: Graph) -> None:
        data = graph.serialize(format="nt").encode("utf-8")
        if self.store_url:
            self._post(
                self.store_url + ("&" if "?" in self.store_url else "?") + "default",
                data,
                "application/n-triples",
            )
        else:
            self.update("INSERT DATA {\n" + data.decode("utf-8") + "\n}")

    def dump(self, stream: BinaryIO, query: str, bindings: Bindings | None = None) -> None:
        result = self.query(query, bindings)
        assert isinstance(result, Graph)
        result.serialize(stream, format="nt", encoding="utf-8")

    def __len__(self) -> int:
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert isinstance(result, SelectResult)
        return int(result.rows[0][0])  # type: ignore[arg-type]
