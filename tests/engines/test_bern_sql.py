"""The Bern score queries (derive-bern-score, derive-bern-missing-elements,
derive-criterion-bern-high) translated to SQL: DuckDB derives the triples Oxigraph derives on
brain MRI records with signs present and absent, measurements on both sides of each threshold and
elements missing. The synthetic cohort has shown signs only, no measurement and no absent sign."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import sql_readings
from rdflib import Graph, URIRef

from csfkg.cohort.run import add_knowledge
from csfkg.engines.sql import loading as sql_loading
from csfkg.engines.sql import store as duckdb_store
from csfkg.pipeline.derive import derive_in
from csfkg.stores import OxigraphStore

from conftest import REPO

BERN = "https://w3id.org/csfkg/ontology#"
SIGNS = ("PachymeningealEnhancement", "VenousSinusEngorgement", "SubduralFluidCollection")
MEASURES = ("suprasellarCisternMm", "prepontineCisternMm", "mamillopontineDistanceMm")


def _patients() -> str:
    """Brain MRI records: each sign present, absent or unrecorded, each measurement 3.9, 5.0,
    6.6 mm or unrecorded, in combinations that reach every class and both complete and
    incomplete records (and the example patient)."""
    lines = ["@prefix csf: <https://w3id.org/csfkg/ontology#> .", "@prefix ex: <https://example.org/bern/> ."]
    states = ("present", "absent", None)
    values = ("3.9", "5.0", "6.6", None)
    for n in range(36):
        node = f"ex:s{n}"
        lines.append(f"ex:p{n} a csf:Patient ; csf:hasImagingStudy {node} .")
        lines.append(f"{node} a csf:BrainMRI ; csf:studyResult csf:leakSignsResult .")
        for index, sign in enumerate(SIGNS):
            state = states[(n // (index + 1)) % 3]
            if state == "present":
                lines.append(f"{node} csf:showsFinding ex:s{n}-{index} . ex:s{n}-{index} a csf:{sign} .")
            elif state == "absent":
                lines.append(
                    f"{node} csf:assessedAbsentFinding ex:s{n}-{index} . ex:s{n}-{index} a csf:{sign} ."
                )
        for index, measure in enumerate(MEASURES):
            value = values[(n + index * 2) % 4]
            if value is not None:
                lines.append(f"{node} csf:{measure} {value} .")
    graph = Graph().parse(data="\n".join(lines), format="turtle")
    graph.parse(REPO / "examples" / "bern-score-patient.ttl")
    return graph.serialize(format="nt")


def test_the_bern_score_in_duckdb_is_the_bern_score_in_oxigraph(tmp_path: Path) -> None:
    cohort = tmp_path / "bern.nt"
    cohort.write_text(_patients(), encoding="utf-8")

    store = OxigraphStore()
    store.store.load(path=str(cohort), format=pyoxigraph.RdfFormat.N_TRIPLES)
    add_knowledge(store)
    before = set(store.store)
    derive_in(store)
    oxigraph = {(q.subject, q.predicate, q.object) for q in store.store if q not in before}

    connection = duckdb_store.new_connection()
    sql_loading.load_ntriples(connection, cohort)
    add_knowledge(connection)
    loaded = sql_readings.row_counts(connection)
    derive_in(connection)
    derived = Graph().parse(data=sql_readings.derived_ntriples(connection, loaded), format="nt")
    as_oxigraph = Graph().parse(data="".join(f"{s} {p} {o} .\n" for s, p, o in oxigraph), format="nt")
    assert set(derived) == set(as_oxigraph)

    # the records reach every class, complete and incomplete scores and the high criterion
    classes = {str(o) for o in derived.objects(None, URIRef(BERN + "bernClass"))}
    assert {c.rsplit("#", 1)[-1] for c in classes} == {"bern-low", "bern-intermediate", "bern-high"}
    scored = set(derived.subjects(URIRef(BERN + "bernScore"), None))
    incomplete = set(derived.subjects(URIRef(BERN + "bernMissingElement"), None))
    assert incomplete and scored - incomplete
    assert (
        URIRef("https://example.org/csfkg/patient/bern"),
        URIRef(BERN + "meetsCriterion"),
        URIRef("https://w3id.org/csfkg/guideline#crit-bern-high"),
    ) in derived
