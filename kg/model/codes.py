"""The kebab-case codes (``csf:code``) by which command-line users name classes and
individuals of the ontology, read from the ontology itself: the one source of the code lists
(red flags, symptoms, imaging findings, spinal procedures, brain measurements) that the command line accepts, the
synthetic cohort draws from and the tests enumerate. A class added to the ontology below one
of these parents, with its ``csf:code``, is accepted everywhere without another file changed.

The command line reads the code lists for its choices at every start, so this module does not
import rdflib (120 ms) and reads the TBox with Oxigraph's parser (8 ms, against 60 ms for
rdflib's); the parents are given as IRIs (an rdflib ``URIRef`` from :mod:`csfkg.model.vocab`, or
its text).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import pyoxigraph

from csfkg.model import namespaces
from csfkg.model.errors import UsageError
from csfkg.model.resources import ONTOLOGY_FILES, knowledge_cache, ontology_dir

if TYPE_CHECKING:
    from rdflib import URIRef

_CSF = namespaces.CSF
_SUBCLASS_OF = namespaces.RDFS + "subClassOf"
_SUBPROPERTY_OF = namespaces.RDFS + "subPropertyOf"
_TYPE = namespaces.RDF + "type"
RED_FLAG = _CSF + "RedFlagSign"
"""Parent of the red-flag signs (a finding typed with it itself, absent, is a negative screen)."""
SYMPTOM = _CSF + "Symptom"
IMAGING_FINDING = _CSF + "ImagingFinding"
BRAIN_MRI_FINDING = _CSF + "BrainMRIFinding"
SPINE_MRI_FINDING = _CSF + "SpineMRIFinding"
SPINAL_PROCEDURE = _CSF + "SpinalProcedure"
MYELOGRAPHY_OUTCOME = _CSF + "MyelographyOutcome"
"""Class of the myelography outcomes (individuals: leak localised, no leak found)."""
BRAIN_MEASUREMENT = _CSF + "brainMeasurementMm"
"""Parent property of the brain MRI measurements in mm (the Bern score's cisterns and distance)."""


@knowledge_cache
def _codes_by_ancestor() -> dict[str, dict[str, str]]:
    """For each class (or property), the codes of the classes below it by rdfs:subClassOf (of the
    properties below it by rdfs:subPropertyOf; of the individuals typed with it), transitively:
    ancestor IRI -> code -> IRI."""
    parents: dict[str, set[str]] = defaultdict(set)
    codes: dict[str, str] = {}
    below, code_of = (_SUBCLASS_OF, _SUBPROPERTY_OF, _TYPE), _CSF + "code"
    tbox = ontology_dir().joinpath(ONTOLOGY_FILES[0]).read_bytes()
    for triple in pyoxigraph.parse(tbox, format=pyoxigraph.RdfFormat.TURTLE):
        subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
        if not isinstance(subject, pyoxigraph.NamedNode):
            continue
        if predicate in below and isinstance(obj, pyoxigraph.NamedNode):
            parents[subject.value].add(obj.value)
        elif predicate == code_of and isinstance(obj, pyoxigraph.Literal):
            codes[subject.value] = obj.value
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for cls, code in codes.items():
        seen: set[str] = set()
        todo = list(parents.get(cls, ()))
        while todo:
            ancestor = todo.pop()
            if ancestor in seen or ancestor == cls:
                continue
            seen.add(ancestor)
            found[ancestor][code] = cls
            todo.extend(parents.get(ancestor, ()))
    return dict(found)


def code_list(parent: str) -> tuple[str, ...]:
    """The codes of the classes below the class ``parent`` (transitively, ``parent`` itself
    excluded), sorted: e.g. the red-flag signs for :data:`RED_FLAG`; for a property, the codes
    of its subproperties (the measurements of :data:`BRAIN_MEASUREMENT`)."""
    return tuple(sorted(_codes_by_ancestor().get(str(parent), {})))


def codes_under(parent: str) -> dict[str, URIRef]:
    """:func:`code_list` with the class of each code, sorted by code."""
    from rdflib import URIRef

    table = _codes_by_ancestor().get(str(parent), {})
    return {code: URIRef(table[code]) for code in sorted(table)}


def class_for(code: str, parent: str, what: str) -> URIRef:
    """The class below ``parent`` whose code is ``code``.

    Raises:
        UsageError: no such code; the message lists the accepted ones.
    """
    table = codes_under(parent)
    try:
        return table[code]
    except KeyError:
        raise UsageError(f"Unknown {what} {code!r}; accepted: {', '.join(table)}.") from None
