"""Validation of the patients a store holds: each result goes to every patient whose record holds
its focus node (the record query walked back), on the compiled path and on pySHACL's."""

from __future__ import annotations

from datetime import date

from rdflib import Graph, URIRef

from csfkg.cohort.run import add_knowledge, patients_of
from csfkg.pipeline.dates import set_assessment_dates
from csfkg.stores import OxigraphStore
from csfkg.validation.in_store import validate_store, validate_store_pyshacl

SHARED = """
@prefix csf: <https://w3id.org/csfkg/ontology#> .
@prefix ex: <https://example.org/p/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a a csf:Patient ; csf:hasProcedure ex:block .
ex:b a csf:Patient ; csf:hasProcedure ex:block .
ex:c a csf:Patient ; csf:hasProcedure ex:other .
ex:block a csf:MedialBranchBlock ; csf:procedureStatus csf:completed ;
    csf:procedureDate "2026-01-02"^^xsd:date , "2026-01-03"^^xsd:date .
ex:other a csf:MedialBranchBlock ; csf:procedureStatus csf:completed .
"""


def _violations(found: dict) -> dict[str, set[tuple[str, str]]]:
    return {
        patient: {(r.name, r.focus) for r in results if r.is_violation}
        for patient, results in found.items()
        if any(r.is_violation for r in results)
    }


def test_a_node_two_records_share_is_blamed_on_both_patients_by_each_engine() -> None:
    store = OxigraphStore()
    store.add_graph(Graph().parse(data=SHARED, format="turtle"))
    add_knowledge(store)
    set_assessment_dates(store, date(2026, 12, 7))
    patients = patients_of(store)
    assert patients == [URIRef(f"https://example.org/p/{x}") for x in "abc"]
    block = {("procedure date", "https://example.org/p/block")}
    expected = {"https://example.org/p/a": block, "https://example.org/p/b": block}
    assert _violations(validate_store(store, patients)) == expected
    # in one batch and in batches of one patient each
    assert _violations(validate_store_pyshacl(store, patients)) == expected
    assert _violations(validate_store_pyshacl(store, patients, batch=1)) == expected
