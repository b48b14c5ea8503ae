"""The one-way pipeline for a set of patients: patient data -> SHACL validation -> SPARQL
derivation -> result graph -> plain results for the renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from rdflib import Graph, URIRef

from csfkg.io.patient_files import patients_in
from csfkg.model.knowledge import add_rules
from csfkg.pipeline.dates import assessment_dates, set_assessment_dates
from csfkg.pipeline.derive import derive_in, derived_graph
from csfkg.pipeline.results import PatientResult, read_patient, read_source_status
from csfkg.sparql.records import patient_records
from csfkg.stores import OxigraphStore, Store
from csfkg.validation.compiled import new_validation_store
from csfkg.validation.in_store import validate_store
from csfkg.validation.report import ValidationReport


@dataclass
class AssessmentRun:
    """Results in the order the patients were given, and the store the patients whose data
    conforms were derived in."""

    results: list[PatientResult]
    store: Store

    @cached_property
    def derived(self) -> Graph:
        """The derived result graph of the patients whose data conforms (read when asked: the
        text and JSON renderers do not need it)."""
        return derived_graph(self.store)

    @property
    def conforms(self) -> bool:
        return all(r.validation.conforms for r in self.results)


def assess(graph: Graph, patients: list[URIRef], *, today: date | None = None) -> AssessmentRun:
    """Validate and derive the next step of each of ``patients`` (all in ``graph``): the stages
    of every run (assessment date -> validate -> derive -> read results), on the patients'
    records as ``queries/cohort-patient-records.rq`` defines them.

    Patients whose data violates a shape are reported with their violations and get no
    recommendation; the others are derived together.
    """
    # the file's graph in an in-memory store (Oxigraph: it parses SPARQL in Rust, where rdflib's
    # pure-Python parser costs a third of a command); ``graph`` itself is not changed
    in_file = OxigraphStore()
    in_file.add_graph(graph)
    set_assessment_dates(in_file, today)
    # the compiled checks on Oxigraph over every patient's record in the file, each result given
    # to the patients whose records hold its focus node, as `csfkg cohort` validates the file: a
    # node two patients share is validated in both records' context, whichever patient is asked
    everyone = patients_in(graph)
    checking = new_validation_store()
    checking.add_graph(patient_records(in_file, everyone))
    found = validate_store(checking, patients)
    per_patient = {patient: ValidationReport(found.get(str(patient), [])) for patient in patients}

    # derived in a store of the conforming records only: the validation store itself when every
    # record conforms (the common case), else a new one
    valid = [patient for patient in patients if per_patient[patient].conforms]
    store: Store = checking
    if len(valid) < len(patients) or len(everyone) > len(patients):
        checking.close()
        store = OxigraphStore()
        add_rules(store)
        store.add_graph(patient_records(in_file, valid))
    derive_in(store)
    dates = assessment_dates(in_file)

    results: list[PatientResult] = []
    for patient in patients:
        assessment_date = dates.get(patient)
        result = PatientResult(
            patient=str(patient),
            assessment_date=None if assessment_date is None else str(assessment_date),
            validation=per_patient[patient],
        )
        if per_patient[patient].conforms:
            read_patient(store, result)
        else:
            result.source_status = read_source_status(store)
        results.append(result)
    return AssessmentRun(results=results, store=store)
