"""Oxigraph, embedded: in memory, or persistent in a folder (RocksDB)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from csfkg.model.errors import InputError
from csfkg.model.vocab import NUMERIC_DATATYPES
from csfkg.stores.protocol import Closing, QueryResult, SelectResult
from csfkg.stores.sparql_text import Bindings, Term, as_update, with_values

_FORMATS = {
    "nt": "N_TRIPLES",
    "nquads": "N_QUADS",
    "turtle": "TURTLE",
    "n3": "N3",
    "xml": "RDF_XML",
    "json-ld": "JSON_LD",
}


def ox_format(name: str) -> Any:
    """pyoxigraph's RdfFormat for one of rdflib's format names."""
    import pyoxigraph

    return getattr(pyoxigraph.RdfFormat, _FORMATS[name])


_VALUE_TYPES = frozenset((*NUMERIC_DATATYPES, str(XSD.boolean)))
"""The datatypes whose valid literals Oxigraph stores in canonical form."""


def refuse_merged_values(triples: Iterable[tuple[Term, Term, Term]], where: str) -> None:
    """Refuse triples that give one subject and property two lexical forms of one number or
    boolean ("0.9" and "0.900"^^xsd:decimal). In RDF 1.1 they are two literals, so two values
    (sh:maxCount 1 fails, as pySHACL and the SQL engine find); Oxigraph stores each in canonical
    form and keeps one, so a check on its store cannot see the second: the default engine refuses
    rather than answer as if there were one.

    Raises:
        InputError: naming the subject, the property and the two forms.
    """
    forms: dict[tuple[Term, Term, str], set[str]] = {}
    for s, p, o in triples:
        if isinstance(o, Literal) and o.datatype is not None and str(o.datatype) in _VALUE_TYPES:
            forms.setdefault((s, p, str(o.datatype)), set()).add(str(o))
    for (s, p, datatype), written in forms.items():
        if len(written) < 2:
            continue
        stored: dict[str, str] = {}
        for form in sorted(written):
            other = stored.setdefault(_stored_form(form, datatype), form)
            if other != form:
                raise InputError(
                    f"{where} gives {s.n3()} two lexical forms of one value for {p.n3()} "
                    f'("{other}" and "{form}"): two values in RDF, one in the default engine\'s store '
                    "(Oxigraph keeps numbers and booleans in canonical form), so it cannot check them; write the value "
                    "once, or use --engine sql."
                )


def _stored_form(form: str, datatype: str) -> str:
    """The lexical form Oxigraph keeps for a literal: canonical when valid, as written if not."""
    import pyoxigraph

    store = pyoxigraph.Store()
    node = pyoxigraph.NamedNode("urn:csfkg:form")
    store.add(pyoxigraph.Quad(node, node, pyoxigraph.Literal(form, datatype=pyoxigraph.NamedNode(datatype))))
    return next(iter(store)).object.value


class OxigraphStore(Closing):
    """Oxigraph, embedded: in memory, or persistent in a folder (RocksDB) when ``path`` is given.

    Parameters are bound by ``substitutions`` (SEP-0007), or by a VALUES block of terms for a
    variable the query does not project."""

    compiled_validation = "oxigraph"

    def __init__(self, path: str | None = None) -> None:
        import pyoxigraph

        self._ox = pyoxigraph
        self.store = pyoxigraph.Store(path) if path else pyoxigraph.Store()

    # --- term conversion -------------------------------------------------------------
    def to_ox(self, term: Identifier) -> Any:
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

    def from_ox(self, term: Any) -> Term | None:
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

    # --- the protocol ------------------------------------------------------------------
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
            graph.add(
                (self.from_ox(triple.subject), self.from_ox(triple.predicate), self.from_ox(triple.object))
            )  # type: ignore[arg-type]
        return graph

    def update(self, text: str, bindings: Bindings | None = None) -> None:
        self.store.update(with_values(text, bindings) if bindings else text)

    def insert(self, construct: str) -> None:
        self.update(as_update(construct))

    def load(self, data: bytes, format: str, *, base_iri: str | None = None) -> None:
        self.store.load(data, format=ox_format(format), base_iri=base_iri)

    def load_file(self, path: Path, format: str) -> None:
        try:
            self.store.bulk_load(path=str(path), format=ox_format(format), base_iri=path.resolve().as_uri())
        except (SyntaxError, ValueError) as error:
            raise InputError(
                f"{path} is not valid RDF: {' '.join(str(error).split())[:200].rstrip('. ')}."
            ) from None
        except OSError as error:
            raise InputError(
                f"{path} could not be loaded: {' '.join(str(error).split())[:200].rstrip('. ')}."
            ) from None

    def add_graph(self, graph: Graph) -> None:
        """Raises: InputError (:func:`refuse_merged_values`)."""
        refuse_merged_values(graph, "The data")  # type: ignore[arg-type]
        self.add_triples(graph)  # type: ignore[arg-type]

    def add_triples(self, triples: Iterable[tuple[Term, Term, Term]]) -> None:
        ox = self._ox
        self.store.extend(ox.Quad(self.to_ox(s), self.to_ox(p), self.to_ox(o)) for s, p, o in triples)

    def dump(self, stream: BinaryIO, query: str, bindings: Bindings | None = None) -> None:
        # serialized by Oxigraph itself: no triple becomes a Python object (rdflib's path costs
        # about 30 us a triple, and a cohort derives some 76 triples a patient), and each
        # literal keeps its lexical form (rdflib would rewrite some ill-typed ones)
        ox = self._ox
        substitutions = {ox.Variable(k): self.to_ox(v) for k, v in (bindings or {}).items()}
        result = self.store.query(query, substitutions=substitutions or None)
        result.serialize(stream, format=ox.RdfFormat.N_TRIPLES)

    def flush(self) -> None:
        """Write what the store holds in memory to its folder (a persistent store)."""
        self.store.flush()

    def backup(self, folder: str) -> None:
        """A copy of a persistent store in ``folder`` (a RocksDB checkpoint: hard links)."""
        self.store.backup(folder)

    def close(self) -> None:
        """Drop the store now (a persistent store's lock with it), whoever still holds this object."""
        self.store = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self.store)
