"""A patient's record, defined once: ``queries/cohort-patient-records.rq``, everything reachable
from the patient through the record properties of the ontology (findings, procedures, imaging
studies, sequences, shown signs). Validation, recommend, the cohort path and the reasoner all
take a record from here."""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import Graph

from csfkg.io.patient_files import rdflib_reading
from csfkg.model.vocab import PREFIXES
from csfkg.sparql.library import get_query
from csfkg.stores import Store, Term, with_values_rows

RECORD_QUERY = "cohort-patient-records"


def patient_records(store: Store, patients: Iterable[Term]) -> Graph:
    """The records of ``patients`` (IRIs or, in a file's graph, blank nodes) in ``store``, as one
    graph. IRIs are bound all at once (a VALUES block); a blank node, which a VALUES block cannot
    hold, is bound as a parameter of its own query."""
    records = Graph()
    for prefix, namespace in PREFIXES.items():
        records.bind(prefix, namespace)
    text = get_query(RECORD_QUERY).text
    chosen = list(patients)
    named = [p for p in chosen if not _is_blank(p)]
    # each literal as the store holds it: rdflib would rewrite some ill-typed ones into valid ones
    # (" true"^^xsd:boolean into "false"), and validation must see what the data holds
    with rdflib_reading():
        parts = [store.query(with_values_rows(text, "patient", named))] if named else []
        parts += [store.query(text, {"patient": p}) for p in chosen if _is_blank(p)]
    for part in parts:
        assert isinstance(part, Graph)
        records += part
    return records


def _is_blank(term: Term) -> bool:
    from rdflib import BNode

    return isinstance(term, BNode)
