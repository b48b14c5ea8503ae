"""OWL reasoning with HermiT (through owlready2): consistency, classification of the defined
classes, and the inferred types of patients.

The reasoner reads the merged ontology (TBox, guideline knowledge, article statements; their
``owl:imports`` removed, since all three are merged) plus patient records, prepared so that an
OWL 2 DL reasoner accepts them:

- **Dates become plain strings.** ``xsd:date`` is not in the OWL 2 datatype map and HermiT
  rejects it, so every literal whose datatype is outside the map (``xsd:date``, ``xsd:time``,
  ``xsd:gYear`` and the other Gregorian types, ``xsd:duration``) is replaced by an
  ``xsd:string`` literal with the same lexical form. The TBox gives the date properties the
  range ``rdfs:Literal``, so the record stays consistent; no defined class reads a date.
- **Blank-node records become IRIs.** Findings and procedures written as ``[ ... ]`` get an
  IRI under ``csfr:blank/`` (see :func:`skolem_iri`), so that every individual has a name the
  reasoner reports types for.

Nothing here decides a recommendation: the defined classes are in ``ontology/csfkg.ttl``
(section "Defined classes for reasoning"), and the SPARQL derivation stays the source of next
steps. tests/test_reasoning.py checks that the two agree.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from csfkg.model.errors import CsfkgError, InputError
from csfkg.model.knowledge import knowledge_graph, ontology_graph
from csfkg.model.vocab import CSF, CSFR, PREFIXES, prefixed_name

OWL_THING = str(OWL.Thing)

NON_OWL_DATATYPES: frozenset[URIRef] = frozenset(
    {
        XSD.date,
        XSD.time,
        XSD.gYear,
        XSD.gYearMonth,
        XSD.gMonth,
        XSD.gMonthDay,
        XSD.gDay,
        XSD.duration,
        XSD.dayTimeDuration,
        XSD.yearMonthDuration,
    }
)
"""XML Schema datatypes that are not in the OWL 2 datatype map (OWL 2 Structural Specification,
section 4): a DL reasoner rejects literals of these types."""


OWL2_DATATYPE_MAP: frozenset[URIRef] = frozenset(
    [OWL.real, OWL.rational, RDF.PlainLiteral, RDF.XMLLiteral, RDFS.Literal, RDF.langString]
    + [
        XSD[name]
        for name in (
            "decimal",
            "integer",
            "nonNegativeInteger",
            "nonPositiveInteger",
            "positiveInteger",
            "negativeInteger",
            "long",
            "int",
            "short",
            "byte",
            "unsignedLong",
            "unsignedInt",
            "unsignedShort",
            "unsignedByte",
            "double",
            "float",
            "string",
            "normalizedString",
            "token",
            "language",
            "Name",
            "NCName",
            "NMTOKEN",
            "boolean",
            "hexBinary",
            "base64Binary",
            "anyURI",
            "dateTime",
            "dateTimeStamp",
        )
    ]
)
"""The datatypes of the OWL 2 datatype map, which an OWL 2 DL reasoner must support."""


class ReasonerError(CsfkgError):
    """HermiT cannot run: Java is missing, or the Java process failed."""


# ---------------------------------------------------------------------------------------------
# Input preparation
# ---------------------------------------------------------------------------------------------
def owl_compatible(graph: Graph) -> Graph:
    """A copy of ``graph`` that an OWL 2 DL reasoner accepts: literals of datatypes outside the
    OWL 2 datatype map become ``xsd:string`` literals with the same lexical form, and blank
    nodes that are individuals (subjects typed with a class) become skolem IRIs."""
    individuals = {
        s
        for s, o in graph.subject_objects(RDF.type)
        if isinstance(s, BNode) and isinstance(o, URIRef) and not _is_owl_vocabulary(o)
    }
    names = {node: skolem_iri(node) for node in individuals}
    result = Graph()
    for prefix, namespace in graph.namespaces():
        result.bind(prefix, namespace, override=True)
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype in NON_OWL_DATATYPES:
            o = Literal(str(o), datatype=XSD.string)
        result.add((names.get(s, s), p, names.get(o, o)))  # type: ignore[arg-type]
    return result


def skolem_iri(node: BNode) -> URIRef:
    """The IRI a blank-node individual gets for the reasoner. Not rdflib's ``/.well-known/genid/``
    form: the OWL API, which HermiT uses, reads IRIs containing ``genid`` as blank nodes again,
    and HermiT reports no types for those."""
    return CSFR[f"blank/{node}"]


def check_datatypes(graph: Graph) -> None:
    """Fail early, in one sentence, on a literal HermiT cannot read (after :func:`owl_compatible`).

    Raises:
        InputError: a literal's datatype is outside the OWL 2 datatype map.
    """
    for subject, predicate, obj in graph:
        if isinstance(obj, Literal) and obj.datatype is not None and obj.datatype not in OWL2_DATATYPE_MAP:
            raise InputError(
                f"The value {obj.n3()} of {predicate.n3()} for {subject.n3()} has a datatype outside the OWL 2 datatype map, which HermiT cannot read."
            )


def _is_owl_vocabulary(term: URIRef) -> bool:
    return str(term).startswith((str(OWL), str(RDF), str(RDFS)))


def reasoning_input(patients: Graph | None = None) -> Graph:
    """The merged ontology (TBox, guideline, article; imports removed) plus ``patients``
    prepared by :func:`owl_compatible`."""
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    graph += knowledge_graph()
    if patients is not None:
        graph += owl_compatible(patients)
    graph.remove((None, OWL.imports, None))
    return graph


def defined_classes(graph: Graph | None = None) -> list[URIRef]:
    """The named classes of the csf: namespace that carry an ``owl:equivalentClass`` axiom,
    sorted by IRI (default: read from the TBox)."""
    graph = graph if graph is not None else ontology_graph()
    namespace = str(CSF._NS)
    found = {
        s
        for s in graph.subjects(OWL.equivalentClass, None)
        if isinstance(s, URIRef) and str(s).startswith(namespace)
    }
    return sorted(found, key=str)


# ---------------------------------------------------------------------------------------------
# Running HermiT
# ---------------------------------------------------------------------------------------------
@dataclass
class Inferences:
    """What HermiT entails for the named entities: the named superclasses of every class
    (itself included), the named types of every individual, the unsatisfiable classes."""

    class_ancestors: dict[str, set[str]]
    individual_types: dict[str, set[str]]
    unsatisfiable: set[str]

    def equivalents(self, iri: str) -> set[str]:
        """The named classes equivalent to ``iri`` (``iri`` excluded)."""
        return {
            a
            for a in self.class_ancestors.get(iri, set())
            if a != iri and iri in self.class_ancestors.get(a, set())
        }

    def direct_superclasses(self, iri: str) -> set[str]:
        """The most specific named strict superclasses of a class (``owl:Thing`` left out)."""
        strict = self.class_ancestors.get(iri, set()) - {iri, OWL_THING} - self.equivalents(iri)
        return _most_specific(strict, self.class_ancestors)

    def direct_types(self, iri: str) -> set[str]:
        """The most specific named types of an individual (``owl:Thing`` left out)."""
        return _most_specific(self.individual_types.get(iri, set()) - {OWL_THING}, self.class_ancestors)


def _most_specific(classes: set[str], ancestors: dict[str, set[str]]) -> set[str]:
    keep = set()
    for candidate in classes:
        below = [
            other
            for other in classes
            if other != candidate
            and candidate in ancestors.get(other, set())
            and other not in ancestors.get(candidate, set())
        ]
        if not below:
            keep.add(candidate)
    return keep


def _named_individuals(graph: Graph) -> set[str]:
    """IRIs typed ``owl:NamedIndividual`` or typed with a class that is not OWL, RDF or RDFS
    vocabulary (owlready2 lists only the first kind as individuals)."""
    found = set()
    for subject, kind in graph.subject_objects(RDF.type):
        if isinstance(subject, URIRef) and isinstance(kind, URIRef):
            if kind == OWL.NamedIndividual or not _is_owl_vocabulary(kind):
                found.add(str(subject))
    return found


def _java_reason(output: str) -> str:
    """The first line of the exception message in a Java error output, without the exception's
    class name (HermiT prints a stack trace)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    named = [line for line in lines if "Exception" in line or "Error:" in line]
    chosen = (named or lines or ["no message"])[0]
    head, _, message = chosen.rpartition("Exception: ")
    return " ".join((message if head else chosen).split()).rstrip(".")[:300]


def java_available() -> bool:
    """Whether the Java runtime that owlready2 calls is on the PATH."""
    import owlready2

    return shutil.which(owlready2.JAVA_EXE) is not None


def run_hermit(graph: Graph) -> Inferences | None:
    """Classify ``graph`` (an OWL 2 DL ontology with individuals) with HermiT.

    Returns ``None`` when HermiT finds the ontology inconsistent.

    Raises:
        ReasonerError: Java is not installed, or HermiT failed for another reason.
    """
    import owlready2
    from owlready2 import Thing, ThingClass, World, sync_reasoner
    from owlready2.base import OwlReadyInconsistentOntologyError, OwlReadyJavaError

    if not java_available():
        raise ReasonerError(
            f"HermiT needs Java, and no {owlready2.JAVA_EXE!r} command was found on the PATH: install a Java runtime (e.g. apt-get install default-jre-headless)."
        )
    with tempfile.TemporaryDirectory(prefix="csfkg-reason-") as folder:
        path = Path(folder) / "merged.nt"
        graph.serialize(path, format="nt", encoding="utf-8")
        world = World()
        try:
            world.get_ontology(path.as_uri()).load()
            try:
                sync_reasoner(world, infer_property_values=False, debug=0)
            except OwlReadyInconsistentOntologyError:
                return None
            except OwlReadyJavaError as error:
                raise ReasonerError(f"HermiT failed: {_java_reason(str(error))}.") from None
            except (OSError, subprocess.SubprocessError) as error:
                raise ReasonerError(f"HermiT could not be started: {error}.") from None

            ancestors: dict[str, set[str]] = {}
            for cls in world.classes():
                named = {a.iri for a in cls.ancestors() if isinstance(a, ThingClass)}
                named |= {e.iri for e in cls.equivalent_to if isinstance(e, ThingClass)}
                ancestors[cls.iri] = named | {cls.iri}
            types: dict[str, set[str]] = {}
            for iri in _named_individuals(graph):
                individual = world[iri]
                if isinstance(individual, Thing):
                    types[iri] = {t.iri for t in individual.INDIRECT_is_a if isinstance(t, ThingClass)}
            unsatisfiable = {c.iri for c in world.inconsistent_classes() if isinstance(c, ThingClass)}
            return Inferences(class_ancestors=ancestors, individual_types=types, unsatisfiable=unsatisfiable)
        finally:
            world.close()


# ---------------------------------------------------------------------------------------------
# The report of `csfkg reason`
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """An IRI with its label and prefixed name, for display."""

    iri: str
    label: str
    curie: str

    def as_dict(self) -> dict[str, str]:
        return {"iri": self.iri, "curie": self.curie, "label": self.label}


@dataclass
class ClassPlacement:
    """A defined class and its place in the inferred hierarchy."""

    term: Term
    superclasses: list[Term]
    equivalents: list[Term]

    def as_dict(self) -> dict[str, object]:
        return {
            **self.term.as_dict(),
            "inferred_superclasses": [t.as_dict() for t in self.superclasses],
            "equivalent_classes": [t.as_dict() for t in self.equivalents],
        }


@dataclass
class PatientTypes:
    """The defined classes a patient belongs to: the most specific ones and all of them."""

    patient: Term
    source: str | None
    most_specific: list[Term]
    defined_types: list[Term]

    def as_dict(self) -> dict[str, object]:
        return {
            **self.patient.as_dict(),
            "source": self.source,
            "most_specific": [t.as_dict() for t in self.most_specific],
            "defined_types": [t.as_dict() for t in self.defined_types],
        }


@dataclass
class ReasoningReport:
    """What ``csfkg reason`` shows. When the input is inconsistent, ``classification`` and
    ``patients`` are empty and ``inconsistent_patients`` names the patients whose record alone
    makes the ontology inconsistent (``ontology_inconsistent``: the ontology is, without any
    patient)."""

    consistent: bool
    ontology_inconsistent: bool = False
    inconsistent_patients: list[PatientTypes] = field(default_factory=list)
    unsatisfiable: list[Term] = field(default_factory=list)
    classification: list[ClassPlacement] = field(default_factory=list)
    patients: list[PatientTypes] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        """Consistent, and every class satisfiable."""
        return self.consistent and not self.unsatisfiable

    def as_dict(self) -> dict[str, object]:
        return {
            "reasoner": "HermiT (owlready2)",
            "consistent": self.consistent,
            "ontology_inconsistent": self.ontology_inconsistent,
            "inconsistent_patients": [p.as_dict() for p in self.inconsistent_patients],
            "unsatisfiable_classes": [t.as_dict() for t in self.unsatisfiable],
            "classification": [c.as_dict() for c in self.classification],
            "patients": [p.as_dict() for p in self.patients],
        }


def reason(patients: Graph | None = None, *, sources: dict[URIRef, str] | None = None) -> ReasoningReport:
    """Run HermiT on the merged ontology plus the patient records in ``patients``.

    ``sources`` maps a patient IRI to the file it came from (shown in the report). When the
    whole input is inconsistent, HermiT is run again on the ontology alone and on each
    patient's record alone, to name the culprits (HermiT itself gives no explanation).

    Raises:
        InputError: a patient literal has a datatype HermiT cannot read.
        ReasonerError: Java is missing or HermiT failed.
    """
    from csfkg.io.patient_files import patients_in
    from csfkg.sparql.records import patient_records
    from csfkg.stores import RdflibStore

    patient_list = patients_in(patients) if patients is not None else []
    sources = sources or {}

    def name(patient: URIRef | BNode) -> str:
        return str(skolem_iri(patient)) if isinstance(patient, BNode) else str(patient)

    if patients is not None:
        check_datatypes(owl_compatible(patients))
    merged = reasoning_input(patients)
    display = _Display(merged)
    inferred = run_hermit(merged)
    if inferred is None:
        report = ReasoningReport(consistent=False)
        if run_hermit(reasoning_input(None)) is None:
            report.ontology_inconsistent = True
        else:
            for patient in patient_list:
                assert patients is not None
                if run_hermit(reasoning_input(patient_records(RdflibStore(patients), [patient]))) is None:
                    report.inconsistent_patients.append(
                        PatientTypes(display.term(name(patient)), sources.get(patient), [], [])
                    )
        return report

    defined = [str(c) for c in defined_classes()]
    classification = [
        ClassPlacement(
            term=display.term(iri),
            superclasses=display.terms(inferred.direct_superclasses(iri)),
            equivalents=display.terms(inferred.equivalents(iri)),
        )
        for iri in defined
    ]
    patient_types = []
    for patient in patient_list:
        iri = name(patient)
        member_of = inferred.individual_types.get(iri, set()) & set(defined)
        patient_types.append(
            PatientTypes(
                patient=display.term(iri),
                source=sources.get(patient),
                most_specific=display.terms(_most_specific(member_of, inferred.class_ancestors)),
                defined_types=display.terms(member_of),
            )
        )
    return ReasoningReport(
        consistent=True,
        unsatisfiable=display.terms(inferred.unsatisfiable),
        classification=classification,
        patients=patient_types,
    )


def reason_over_files(paths: list[Path]) -> ReasoningReport:
    """:func:`reason` over the patients of ``paths`` (merged; none: the ontology alone).

    Raises:
        InputError: a file is missing or not valid RDF, holds no patient, or has a literal HermiT
            cannot read.
        ReasonerError: Java is missing or HermiT failed.
    """
    from csfkg.fhir.inputs import read_patient_input
    from csfkg.io.patient_files import patients_in

    if not paths:
        return reason(None)
    merged = Graph()
    sources: dict[URIRef, str] = {}
    for path in paths:
        graph = read_patient_input(path).graph
        for patient in patients_in(graph):
            sources.setdefault(patient, str(path))
        merged += graph
    return reason(merged, sources=sources)


class _Display:
    """Labels and prefixed names for IRIs, read from the reasoning input."""

    def __init__(self, graph: Graph) -> None:
        self._graph = graph

    def term(self, iri: str) -> Term:
        label = self._graph.value(URIRef(iri), RDFS.label)
        curie = prefixed_name(iri)
        return Term(iri=iri, label=str(label) if label is not None else curie, curie=curie)

    def terms(self, iris: set[str]) -> list[Term]:
        return sorted((self.term(i) for i in iris), key=lambda t: (t.label, t.iri))


# ---------------------------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------------------------
def render_json(report: ReasoningReport) -> str:
    """The report as JSON (one object)."""
    import json

    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"


def render_text(report: ReasoningReport) -> str:
    """The report for a person at a terminal: consistency, the inferred hierarchy of the
    defined classes as a tree, and each patient's inferred types."""
    lines = [
        "HermiT (through owlready2) on the merged ontology: TBox, guideline knowledge, article statements."
    ]
    if not report.consistent:
        lines.append("Consistency: INCONSISTENT.")
        if report.ontology_inconsistent:
            lines.append("  The ontology is inconsistent without any patient record.")
        elif report.inconsistent_patients:
            lines.append(
                "  The ontology is consistent alone; each of these patient records makes it inconsistent:"
            )
            for p in report.inconsistent_patients:
                where = f" ({p.source})" if p.source else ""
                lines.append(f"    {p.patient.curie}{where}")
            lines.append(
                "  HermiT gives no explanation; `csfkg recommend FILE` names the SHACL shapes the record violates, if any."
            )
        else:
            lines.append(
                "  Each patient record is consistent with the ontology alone: the records contradict each other."
            )
        return "\n".join(lines) + "\n"

    lines.append("Consistency: consistent.")
    if report.unsatisfiable:
        lines.append(
            f"Unsatisfiable classes ({len(report.unsatisfiable)}): "
            + ", ".join(t.curie for t in report.unsatisfiable)
        )
    else:
        lines.append("Unsatisfiable classes: none.")
    lines.append("")
    lines.append(
        f"Classification: the inferred hierarchy of the {len(report.classification)} defined classes"
    )
    lines.extend(_tree(report.classification))
    lines.append("")
    if not report.patients:
        lines.append("No patient records were given.")
    for p in report.patients:
        where = f" ({p.source})" if p.source else ""
        lines.append(f"Patient {p.patient.curie}{where}")
        if not p.defined_types:
            lines.append("  inferred types: none of the defined classes")
            continue
        lines.append("  most specific inferred types:")
        lines.extend(f"    {t.label} ({t.curie})" for t in p.most_specific)
        lines.append("  all inferred defined types:")
        lines.extend(f"    {t.label} ({t.curie})" for t in p.defined_types)
    return "\n".join(lines) + "\n"


def _tree(placements: list[ClassPlacement]) -> list[str]:
    """An indented tree, roots first; a class under several parents shows under each."""
    children: dict[str, list[Term]] = {}
    terms: dict[str, Term] = {}
    for placement in placements:
        terms[placement.term.iri] = placement.term
        for parent in placement.superclasses:
            terms.setdefault(parent.iri, parent)
            children.setdefault(parent.iri, []).append(placement.term)
    defined = {p.term.iri for p in placements}
    roots = sorted(
        {s.iri for p in placements for s in p.superclasses if s.iri not in defined}
        | {p.term.iri for p in placements if not p.superclasses},
        key=lambda iri: terms[iri].label,
    )
    lines: list[str] = []

    def walk(iri: str, depth: int) -> None:
        term = terms[iri]
        lines.append(f"{'  ' * (depth + 1)}{term.label} ({term.curie})")
        for child in sorted(children.get(iri, []), key=lambda t: t.label):
            walk(child.iri, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines
