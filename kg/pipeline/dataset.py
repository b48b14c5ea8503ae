"""The dataset of ``csfkg query`` and ``csfkg explain``: a store holding the knowledge graph, the
patient records and what the pipeline derived for them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rdflib import Graph, URIRef

from csfkg.pipeline.dates import set_assessment_dates
from csfkg.pipeline.results import PatientResult
from csfkg.stores import RdflibStore, Store


@dataclass
class QueryDataset:
    """A store holding the knowledge graph, the patient records and what was derived for them;
    ``results`` has one entry per patient assessed (violations included)."""

    store: Store
    results: list[PatientResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What reading the inputs ignored (FHIR: resources and codes not understood), one sentence each."""

    @property
    def patients(self) -> list[str]:
        return [r.patient for r in self.results]

    @property
    def non_conforming(self) -> list[str]:
        """Patients whose data violates a shape: nothing was derived for them."""
        return [r.patient for r in self.results if not r.validation.conforms]

    def result_for(self, patient: str) -> PatientResult:
        return next(r for r in self.results if r.patient == patient)


def assessed_dataset(
    records: Sequence[tuple[Graph, list[URIRef]]], *, today: date | None = None, store: Store | None = None
) -> QueryDataset:
    """Validate and derive each record's patients (:func:`csfkg.pipeline.assess.assess`), then load the
    knowledge graph, the records and the derived graphs into ``store`` (default: a new rdflib
    store). Records are assessed one by one: validation costs more than linearly in the size of
    the graph it checks."""
    from csfkg.model.knowledge import knowledge_graph
    from csfkg.pipeline.assess import assess

    store = store if store is not None else RdflibStore()
    store.add_graph(knowledge_graph())
    results: list[PatientResult] = []
    for graph, patients in records:
        run = assess(graph, patients, today=today)
        store.add_graph(graph)
        store.add_graph(run.derived)
        results.extend(run.results)
    set_assessment_dates(store, today)  # as the runs set them, for the queries that read them
    return QueryDataset(store=store, results=results)


def build_dataset(
    patient_files: Sequence[Path], *, today: date | None = None, store: Store | None = None
) -> QueryDataset:
    """The dataset of ``csfkg query``: knowledge graph + every patient of the files + derivation.

    Raises:
        InputError: a file is missing, unreadable, not valid RDF or holds no patient.
        PatientSelectionError: the files hold more than
            :data:`~csfkg.io.patient_files.MAX_PATIENTS_PER_RUN` patients in all.
    """
    from csfkg.fhir.inputs import read_patient_input
    from csfkg.io.patient_files import check_patient_count, patients_in

    inputs = [read_patient_input(path) for path in patient_files]
    records = [(found.graph, patients_in(found.graph)) for found in inputs]
    check_patient_count(
        sorted({p for _, patients in records for p in patients}, key=str),
        holder="The file holds" if len(patient_files) == 1 else "The files hold",
        advice="split the file, or load the cohort into a store with `csfkg load` and assess it with `csfkg cohort`",
    )
    dataset = assessed_dataset(records, today=today, store=store)
    dataset.notes = [found.note for found in inputs if found.note]
    return dataset
