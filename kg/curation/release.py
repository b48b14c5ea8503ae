"""The merged release: the TBox, the guideline knowledge and the article statements in one
ontology document, for Protege, ROBOT, the OWL API and triple stores.

As ODK builds its release artefacts, the three source ontologies are merged and their
``owl:imports`` removed (every import is part of the merge); the three headers give way to one
header with its own ontology IRI and version IRI, ``dcterms`` metadata copied from the TBox,
and ``dcterms:source`` pointing to the version IRI of each merged source. Two variants, named
after ODK's, have their own IRIs so that one version IRI never names two documents:

- ``merged`` (``https://w3id.org/csfkg/merged``): the asserted axioms;
- ``full`` (``https://w3id.org/csfkg/full``, ``reasoned=True``): plus what HermiT infers - the
  direct named superclasses and the direct types of named individuals that are not asserted -
  each inferred axiom annotated ``oboInOwl:is_inferred "true"``, as ROBOT's
  ``reason --annotate-inferred-axioms`` does.
"""

from __future__ import annotations

from typing import Literal as Choice

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS, VANN

from csfkg.io.formats import REGISTRY
from csfkg.model.errors import CsfkgError
from csfkg.model.knowledge import knowledge_graph
from csfkg.model.vocab import (
    ARTICLE_IRI,
    FULL_IRI,
    GUIDELINE_IRI,
    MERGED_IRI,
    OBO_IN_OWL,
    ONTOLOGY_IRI,
    PREFIXES,
    RELEASE_BASE,
    release_version_iri,
)

ReleaseFormat = Choice["ttl", "owl", "jsonld", "nt"]
RELEASE_FORMATS: tuple[ReleaseFormat, ...] = ("ttl", "owl", "jsonld", "nt")
"""The formats of the release, by their names in :mod:`csfkg.io.formats`."""

COMPONENT_IRIS: tuple[URIRef, ...] = (ONTOLOGY_IRI, GUIDELINE_IRI, ARTICLE_IRI)


# Header annotations copied from the TBox header to the release header.
_COPIED = (
    DCTERMS.license,
    DCTERMS.created,
    OWL.versionInfo,
    RDFS.comment,
    VANN.preferredNamespacePrefix,
    VANN.preferredNamespaceUri,
)


class InconsistentReleaseError(CsfkgError):
    """HermiT finds the merged release inconsistent: a defect of the shipped ontology files."""


def _version(tbox_header: dict[URIRef, object]) -> str:
    return str(tbox_header.get(OWL.versionInfo, "unversioned"))


def release_graph(*, reasoned: bool = False) -> Graph:
    """The merged release as one graph.

    With ``reasoned``, HermiT runs on the merge and its inferences are added.

    Raises:
        csfkg.curation.reasoning.ReasonerError: ``reasoned`` and Java is missing or HermiT fails.
        InconsistentReleaseError: ``reasoned`` and HermiT finds the merge inconsistent.
    """
    source = knowledge_graph()
    graph = Graph(bind_namespaces="core")

    tbox_header = {p: o for p, o in source.predicate_objects(ONTOLOGY_IRI)}
    versions = [source.value(c, OWL.versionIRI) for c in COMPONENT_IRIS]
    for triple in source:
        subject, predicate, _ = triple
        if subject in COMPONENT_IRIS or predicate == OWL.imports:
            continue
        graph.add(triple)

    iri = FULL_IRI if reasoned else MERGED_IRI
    version = _version(tbox_header)  # type: ignore[arg-type]
    variant = "full" if reasoned else "merged"
    graph.add((iri, RDF.type, OWL.Ontology))
    graph.add((iri, OWL.versionIRI, release_version_iri(version, variant)))
    for predicate in _COPIED:
        value = tbox_header.get(predicate)
        if value is not None:
            graph.add((iri, predicate, value))  # type: ignore[arg-type]
    graph.add(
        (
            iri,
            DCTERMS.title,
            Literal(
                f"csfkg {variant} release: ontology, guideline knowledge and article statements", lang="en"
            ),
        )
    )
    description = (
        "The csfkg ontology (TBox), the guideline knowledge (MRI protocols, management algorithm, "
        "evidence with source and confidence tier) and every statement of the source article, merged "
        "into one OWL 2 DL document; the imports between them are removed because all three are merged."
    )
    if reasoned:
        description += (
            " Includes the direct superclasses and the direct types of named individuals that HermiT infers "
            "and that are not asserted, each annotated oboInOwl:is_inferred."
        )
    graph.add((iri, DCTERMS.description, Literal(description, lang="en")))
    for component_version in versions:
        if component_version is not None:
            graph.add((iri, DCTERMS.source, component_version))

    if reasoned:
        _add_inferences(graph)
    _bind_used_prefixes(graph, source)
    return graph


def _bind_used_prefixes(graph: Graph, source: Graph) -> None:
    """Bind the house prefixes and those of the source files that the release uses, and no
    others (rdflib binds dozens of well-known prefixes by default)."""
    used = {str(term) for triple in graph for term in triple if isinstance(term, URIRef)}
    candidates = [(p, str(n)) for p, n in PREFIXES.items()] + [(p, str(n)) for p, n in source.namespaces()]
    candidates += [("dcterms", str(DCTERMS)), ("vann", str(VANN)), ("oboInOwl", str(OBO_IN_OWL))]
    bound: set[str] = {str(n) for _, n in graph.namespaces()}
    for prefix, namespace in candidates:
        if namespace in bound or not any(term.startswith(namespace) for term in used):
            continue
        graph.bind(prefix, namespace, override=False)
        bound.add(namespace)


def _add_inferences(graph: Graph) -> None:
    from csfkg.curation.reasoning import run_hermit

    inferred = run_hermit(graph)
    if inferred is None:
        raise InconsistentReleaseError(
            "HermiT finds the merged release inconsistent, so no reasoned release can be written; `csfkg reason` without patients shows it."
        )
    ours = RELEASE_BASE
    graph.add((OBO_IN_OWL.is_inferred, RDF.type, OWL.AnnotationProperty))
    graph.add((OBO_IN_OWL.is_inferred, RDFS.label, Literal("is inferred")))
    graph.add(
        (
            OBO_IN_OWL.is_inferred,
            SKOS.definition,
            Literal(
                "an annotation property that marks an axiom as added by a reasoner rather than asserted by an editor"
            ),
        )
    )

    named_classes = {str(c) for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    for cls in sorted(c for c in named_classes if c.startswith(ours)):
        for parent in sorted(inferred.direct_superclasses(cls)):
            _add_inferred(graph, URIRef(cls), RDFS.subClassOf, URIRef(parent))
    for individual in sorted(i for i in inferred.individual_types if i.startswith(ours)):
        for kind in sorted(inferred.direct_types(individual)):
            if kind in named_classes:
                _add_inferred(graph, URIRef(individual), RDF.type, URIRef(kind))


def _add_inferred(graph: Graph, subject: URIRef, predicate: URIRef, obj: URIRef) -> None:
    """Add ``subject predicate obj`` unless asserted, with an ``oboInOwl:is_inferred`` axiom
    annotation (an ``owl:Axiom`` node, the OWL 2 RDF mapping of an annotated axiom)."""
    if (subject, predicate, obj) in graph:
        return
    graph.add((subject, predicate, obj))
    axiom = BNode()
    graph.add((axiom, RDF.type, OWL.Axiom))
    graph.add((axiom, OWL.annotatedSource, subject))
    graph.add((axiom, OWL.annotatedProperty, predicate))
    graph.add((axiom, OWL.annotatedTarget, obj))
    graph.add((axiom, OBO_IN_OWL.is_inferred, Literal("true")))


def serialize_release(graph: Graph, fmt: ReleaseFormat) -> str:
    """The release in ``fmt``: Turtle, RDF/XML (``owl``, what Protege opens), JSON-LD or N-Triples."""
    if fmt == "jsonld":
        context = {prefix: str(namespace) for prefix, namespace in graph.namespaces() if prefix}
        return graph.serialize(format="json-ld", context=context, indent=2)
    return graph.serialize(format=REGISTRY[fmt].rdflib)
