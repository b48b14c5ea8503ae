"""SHACL validation on the experimental SQL path (kg/shacl_sql.py): the compiled checks,
translated to SQL and run in DuckDB, give the results Oxigraph gives, attributed to the same
patients."""

from __future__ import annotations

from pathlib import Path

from csfkg import duckdb_store, shacl_sql
from csfkg.cohort import add_knowledge
from csfkg.shacl_compiled import results_by_patient
from csfkg.stores import OxigraphStore
from csfkg.synth import write_cohort_file

SEED = 2


def test_validation_in_sql_reports_what_oxigraph_reports_for_each_patient(tmp_path: Path) -> None:
    import pyoxigraph

    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=1_000, seed=SEED)
    oxigraph = OxigraphStore()
    oxigraph.store.load(path=str(cohort), format=pyoxigraph.RdfFormat.N_TRIPLES)
    add_knowledge(oxigraph)
    expected = results_by_patient(oxigraph)

    store = duckdb_store.new_connection()
    duckdb_store.load_ntriples(store, cohort)
    duckdb_store.add_knowledge(store, tmp_path)
    got = shacl_sql.results_by_patient(store)
    assert got == expected
    # the cohort holds violations of two shapes and many warnings
    violations = [r for results in got.values() for r in results if r.is_violation]
    assert len({r.name for r in violations}) >= 2
    assert sum(len(results) for results in got.values()) > 500


def test_a_result_on_a_node_of_no_record_is_left_out_and_one_in_a_record_is_kept(tmp_path: Path) -> None:
    """Two procedures with a date that is no date: one in a patient's record, one of a subject
    that is no patient (a focus node of the shape, in no record)."""
    data = tmp_path / "data.nt"
    csf = "https://w3id.org/csfkg/ontology#"
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    data.write_text(
        f"<http://e/p1> {rdf_type} <{csf}Patient> .\n"
        f"<http://e/p1> <{csf}hasProcedure> <http://e/proc1> .\n"
        f'<http://e/proc1> <{csf}procedureDate> "not a date"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
        f"<http://e/x> <{csf}hasProcedure> <http://e/proc2> .\n"
        f'<http://e/proc2> <{csf}procedureDate> "not a date either"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
    )
    store = duckdb_store.new_connection()
    duckdb_store.load_ntriples(store, data)
    duckdb_store.add_knowledge(store, tmp_path)
    focus_ids: dict[str, int] = {}
    found = [f for check in shacl_sql.compiled_validation_queries() for f in shacl_sql.run_check(store, check, focus_ids)]
    dates = {f.result.focus for f in found if f.result.value in ("not a date", "not a date either")}
    assert dates == {"http://e/proc1", "http://e/proc2"}
    owners = shacl_sql.owners_of(store, focus_ids)
    assert owners["http://e/proc1"] == {"http://e/p1"} and owners["http://e/proc2"] == set()
    by_patient = shacl_sql.results_by_patient(store)
    assert {r.focus for r in by_patient["http://e/p1"] if r.value == "not a date"} == {"http://e/proc1"}
    assert not any(r.focus == "http://e/proc2" for results in by_patient.values() for r in results)
