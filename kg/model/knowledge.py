"""The packaged knowledge: ontology (TBox), guideline knowledge and article statements, and
the SHACL shapes. Each graph is parsed once per process (cached with
:func:`csfkg.model.resources.knowledge_cache`, which ``forget_knowledge`` clears)."""

from __future__ import annotations

from rdflib import Graph

from csfkg.model.resources import ONTOLOGY_FILES, SHAPE_FILES, knowledge_cache, ontology_dir, shapes_dir
from csfkg.model.vocab import PREFIXES


def _parse(files: tuple[str, ...], folder) -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    for name in files:
        graph.parse(data=folder.joinpath(name).read_text(encoding="utf-8"), format="turtle")
    return graph


@knowledge_cache
def ontology_graph() -> Graph:
    """The TBox only (``ontology/csfkg.ttl``)."""
    return _parse(ONTOLOGY_FILES[:1], ontology_dir())


@knowledge_cache
def rules_graph() -> Graph:
    """TBox + guideline knowledge: what validation and derivation read besides the patient."""
    return _parse(ONTOLOGY_FILES[:2], ontology_dir())


def add_rules(store: object) -> None:
    """Add the TBox and the guideline knowledge (what validation and derivation read besides the
    patient) to a store, through its ``load`` (an embedded Oxigraph store parses the Turtle files
    itself, many times faster than rdflib's parser and the conversion of its terms)."""
    for name in ONTOLOGY_FILES[:2]:
        store.load(ontology_dir().joinpath(name).read_bytes(), "turtle")  # type: ignore[attr-defined]


@knowledge_cache
def knowledge_graph() -> Graph:
    """Everything: TBox, guideline knowledge and the article's statements."""
    return _parse(ONTOLOGY_FILES, ontology_dir())


@knowledge_cache
def knowledge_ntriples() -> bytes:
    """:func:`knowledge_graph` as N-Triples, for stores that load it from bytes (fast, no rdflib
    term conversion)."""
    return knowledge_graph().serialize(format="nt", encoding="utf-8")


@knowledge_cache
def shapes_graph() -> Graph:
    """All SHACL shapes (patient data, protocol conformance, safety)."""
    return _parse(SHAPE_FILES, shapes_dir())
