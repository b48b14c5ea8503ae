"""rdflib's in-memory graph: the reference engine."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from rdflib import Graph
from rdflib.term import Variable

from csfkg.stores.protocol import Closing, QueryResult, SelectResult
from csfkg.stores.sparql_text import Bindings, with_values


@lru_cache(maxsize=512)
def _prepared(text: str) -> Any:
    from rdflib.plugins.sparql import prepareQuery

    return prepareQuery(text)


class RdflibStore(Closing):
    """rdflib's in-memory graph: the reference engine, and the API the library exposes."""

    compiled_validation = None

    def __init__(self, graph: Graph | None = None) -> None:
        self.graph = graph if graph is not None else Graph()

    def query(self, text: str, bindings: Bindings | None = None) -> QueryResult:
        init = {Variable(k): v for k, v in (bindings or {}).items()}
        result = self.graph.query(_prepared(text), initBindings=init)
        if result.type == "SELECT":
            variables = [str(v) for v in result.vars or []]
            return SelectResult(variables, [tuple(row) for row in result])  # type: ignore[misc]
        if result.type == "ASK":
            return bool(result.askAnswer)
        graph = Graph()
        for triple in result:
            graph.add(triple)  # type: ignore[arg-type]
        return graph

    def update(self, text: str, bindings: Bindings | None = None) -> None:
        self.graph.update(with_values(text, bindings) if bindings else text)

    def insert(self, construct: str) -> None:
        # rdflib evaluates an Update's WHERE clause far slower than the same CONSTRUCT query
        # (the derivation's sub-selects with aggregates: minutes, against seconds)
        result = self.query(construct)
        assert isinstance(result, Graph)
        self.graph += result

    def load(self, data: bytes, format: str, *, base_iri: str | None = None) -> None:
        self.graph.parse(data=data, format=format, publicID=base_iri)

    def load_file(self, path: Path, format: str) -> None:
        from csfkg.stores.loading import parse_with_rdflib

        self.add_graph(parse_with_rdflib(path, format))

    def add_graph(self, graph: Graph) -> None:
        self.graph += graph

    def dump(self, stream: BinaryIO, query: str, bindings: Bindings | None = None) -> None:
        result = self.query(query, bindings)
        assert isinstance(result, Graph)
        result.serialize(stream, format="nt", encoding="utf-8")

    def __len__(self) -> int:
        return len(self.graph)
