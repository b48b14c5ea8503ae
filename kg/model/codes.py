"""The kebab-case codes (``csf:code``) by which command-line users name classes and
individuals of the ontology, read from the ontology itself."""

from __future__ import annotations

from functools import cache

from rdflib import RDFS, Literal, URIRef

from csfkg.model.errors import UsageError
from csfkg.model.knowledge import rules_graph
from csfkg.model.vocab import CSF


@cache
def codes_under(parent: URIRef) -> dict[str, URIRef]:
    """Codes of the classes below ``parent`` (transitively), e.g. the red flag signs."""
    graph = rules_graph()
    found: dict[str, URIRef] = {}
    for cls in graph.transitive_subjects(RDFS.subClassOf, parent):
        code = graph.value(cls, CSF.code)
        if cls != parent and isinstance(code, Literal) and isinstance(cls, URIRef):
            found[str(code)] = cls
    return dict(sorted(found.items()))


def class_for(code: str, parent: URIRef, what: str) -> URIRef:
    """The class below ``parent`` whose code is ``code``.

    Raises:
        UsageError: no such code; the message lists the accepted ones.
    """
    table = codes_under(parent)
    try:
        return table[code]
    except KeyError:
        raise UsageError(f"Unknown {what} {code!r}; accepted: {', '.join(table)}.") from None
