"""The one Store protocol: what every place where SPARQL runs offers (rdflib in memory, embedded
Oxigraph, a SPARQL 1.1 endpoint). Parameters are always bound as RDF terms, never formatted into
the query text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from rdflib import Graph

from csfkg.stores.sparql_text import Bindings, Term


@dataclass
class SelectResult:
    """Variables in projection order and rows of rdflib terms (None for unbound)."""

    variables: list[str]
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)

    def dicts(self) -> list[dict[str, Term | None]]:
        return [dict(zip(self.variables, row, strict=True)) for row in self.rows]


QueryResult = SelectResult | Graph | bool

RDF_FORMATS = ("nt", "nquads", "turtle", "n3", "xml", "json-ld")
"""The formats :meth:`Store.load` and :meth:`Store.load_file` take, by rdflib's names."""


@runtime_checkable
class Store(Protocol):
    """A place where SPARQL 1.1 runs over ontology + guideline + patient data."""

    compiled_validation: str | None
    """Where the compiled SHACL checks run: ``"oxigraph"``, in this store, read in Oxigraph's own
    terms (embedded Oxigraph: the fast path); ``"sparql"``, in this store through :meth:`query`,
    each result's patients joined in by the same query (a SPARQL server: nothing but the results
    leaves it); None, nowhere: pySHACL validates records pulled from the store."""

    def query(self, text: str, bindings: Bindings | None = None) -> QueryResult:
        """Run a query; SELECT gives a :class:`SelectResult`, CONSTRUCT/DESCRIBE a graph, ASK a bool."""
        ...

    def update(self, text: str, bindings: Bindings | None = None) -> None:
        """Run a SPARQL 1.1 Update, ``bindings`` given as a VALUES block of RDF terms."""
        ...

    def insert(self, construct: str) -> None:
        """Add the triples of a CONSTRUCT query to the store (inside the store, as the SPARQL
        Update that inserts the same template, where that is the faster way)."""
        ...

    def load(self, data: bytes, format: str, *, base_iri: str | None = None) -> None:
        """Add the triples of RDF ``data`` in ``format`` (one of :data:`RDF_FORMATS`)."""
        ...

    def load_file(self, path: Path, format: str) -> None:
        """Add the triples of an RDF file (checked by :func:`csfkg.stores.loading.check_load_file`),
        streamed where the store can; relative IRIs resolve against the file's URI.

        Raises:
            InputError: the file is not valid RDF.
        """
        ...

    def add_graph(self, graph: Graph) -> None:
        """Add every triple of ``graph``."""
        ...

    def dump(self, stream: BinaryIO, query: str, bindings: Bindings | None = None) -> None:
        """Write the triples of a CONSTRUCT ``query`` to ``stream`` as N-Triples, each literal
        with the lexical form the store holds (no round trip through rdflib's terms)."""
        ...

    def close(self) -> None:
        """Release the store (a persistent store's lock); the store is not used after."""
        ...

    def keep_for_readers(self, readers: Iterable[str]) -> None:
        """A hint before derivation: only ``readers`` (query texts) and the derivation queries
        will read what it makes, so a store may leave out the triples none of them reads (the
        SQL engine does; the others make every triple)."""
        ...

    def __len__(self) -> int: ...


class Closing:
    """What every store shares: ``with store:`` closes it at the end of the block."""

    def close(self) -> None:
        """Nothing to release (a store in memory, an endpoint)."""

    def keep_for_readers(self, readers: Iterable[str]) -> None:
        """Every triple is made: the hint is not used."""

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
