"""The one-way pipeline for a set of patients: patient data -> SHACL validation -> SPARQL
derivation -> result graph -> plain results for the renderers."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date

from rdflib import BNode, Graph, Literal, URIRef

from csfkg.model.vocab import CSF, PREFIXES
from csfkg.pipeline.dates import set_assessment_dates
from csfkg.pipeline.derive import derive
from csfkg.pipeline.results import PatientResult, read_result
from csfkg.stores import RdflibStore
from csfkg.validation.compiled import canonical_texts, validate_graph
from csfkg.validation.report import ValidationReport


@dataclass
class AssessmentRun:
    """Results in the order the patients were given, and the derived result graph of the
    patients whose data conforms."""

    results: list[PatientResult]
    derived: Graph

    @property
    def conforms(self) -> bool:
        return all(r.validation.conforms for r in self.results)


def patient_subgraph(graph: Graph, patient: URIRef) -> Graph:
    """The patient's record: every triple reachable from the patient through nodes that are
    not other patients."""
    sub = Graph()
    for prefix, namespace in PREFIXES.items():
        sub.bind(prefix, namespace)
    seen = {patient}
    queue: deque = deque([patient])
    while queue:
        node = queue.popleft()
        for predicate, obj in graph.predicate_objects(node):
            sub.add((node, predicate, obj))
            if isinstance(obj, (URIRef, BNode)) and obj not in seen and (obj, None, None) in graph:
                if (obj, CSF.assessmentDate, None) in graph or obj == patient:
                    continue
                seen.add(obj)
                queue.append(obj)
    return sub


def assess(graph: Graph, patients: list[URIRef], *, today: date | None = None) -> AssessmentRun:
    """Validate and derive the next step of each of ``patients`` (all in ``graph``).

    Patients whose data violates a shape are reported with their violations and get no
    recommendation; the others are derived together.
    """
    set_assessment_dates(RdflibStore(graph), today)  # the file's graph, in memory: nothing stored
    records = {patient: patient_subgraph(graph, patient) for patient in patients}
    selected = Graph()
    for record in records.values():
        selected += record
    # the compiled checks on Oxigraph, as `csfkg cohort` validates: one engine for both commands
    report = validate_graph(selected)

    per_patient: dict[URIRef, ValidationReport] = {}
    for patient, record in records.items():
        # the record's nodes, and its literals: a literal can be a focus node (the object of
        # csf:hasFinding, for one), and a violation on it must block the patient's derivation;
        # the validator reports a literal as Oxigraph holds it ("1.0"^^xsd:decimal reads 1)
        literals = [o for o in record.objects() if isinstance(o, Literal)]
        nodes = (
            {str(s) for s in record.subjects()}
            | {str(o) for o in literals}
            | set(canonical_texts(literals).values())
        )
        per_patient[patient] = ValidationReport([r for r in report.results if r.focus in nodes])

    valid = Graph()
    for patient, record in records.items():
        if per_patient[patient].conforms:
            valid += record
    derivation = derive(valid)

    results: list[PatientResult] = []
    for patient in patients:
        assessment_date = graph.value(patient, CSF.assessmentDate)
        result = PatientResult(
            patient=str(patient),
            assessment_date=None if assessment_date is None else str(assessment_date),
            validation=per_patient[patient],
        )
        if per_patient[patient].conforms:
            result.recommendations, result.missing_data = read_result(derivation.store, patient)
        results.append(result)
    return AssessmentRun(results=results, derived=derivation.derived)
