"""SHACL validation on the experimental SQL path (kg/engines/sql/validation.py): the compiled checks,
translated to SQL and run in DuckDB, give the results Oxigraph gives, attributed to the same
patients."""

from __future__ import annotations

from pathlib import Path

import sql_readings

from csfkg.cohort.run import add_knowledge
from csfkg.cohort.synth import write_cohort_file
from csfkg.engines.sql import loading as sql_loading
from csfkg.engines.sql import store as duckdb_store
from csfkg.engines.sql import validation as shacl_sql
from csfkg.stores import OxigraphStore
from csfkg.validation.compiled import results_by_patient

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
    sql_loading.load_ntriples(store, cohort)
    add_knowledge(store)
    got = sql_readings.results_by_patient(store)
    assert got == expected
    # the CSV's violations column, made in the store, is the one write_csv makes of Oxigraph's
    problems = shacl_sql.problems_by_patient(store)
    rows = store.execute(
        f"SELECT t.str, p.problems, p.blocked FROM {problems} p JOIN terms t ON t.id = p.patient"
    ).fetchall()
    assert {patient: (text, blocked) for patient, text, blocked in rows} == {
        patient: (
            "; ".join(f"{r.severity}: {r.name}: {r.message}" for r in results),
            any(r.is_violation for r in results),
        )
        for patient, results in expected.items()
    }
    # the cohort holds violations of two shapes and many warnings
    violations = [r for results in got.values() for r in results if r.is_violation]
    assert len({r.name for r in violations}) >= 2
    assert sum(len(results) for results in got.values()) > 500
    # and patients with several results, of more than one severity, whose order is checked
    assert any(len({r.severity for r in results}) > 1 for results in got.values())


def test_a_result_on_a_node_of_no_record_is_left_out_and_one_in_a_record_is_kept(tmp_path: Path) -> None:
    """Two procedures with a date that is no date: one in a patient's record, one of a subject
    that is no patient (a focus node of the shape, in no record). The first is also in a second
    patient's record, reached through a cycle (the walk back from the node ends)."""
    data = tmp_path / "data.nt"
    csf = "https://w3id.org/csfkg/ontology#"
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    data.write_text(
        f"<http://e/p1> {rdf_type} <{csf}Patient> .\n"
        f"<http://e/p1> <{csf}hasProcedure> <http://e/proc1> .\n"
        f'<http://e/proc1> <{csf}procedureDate> "not a date"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
        f"<http://e/x> <{csf}hasProcedure> <http://e/proc2> .\n"
        f'<http://e/proc2> <{csf}procedureDate> "not a date either"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
        f"<http://e/p2> {rdf_type} <{csf}Patient> .\n"
        f"<http://e/p2> <{csf}hasImagingStudy> <http://e/s1> .\n"
        f"<http://e/s1> <{csf}showsFinding> <http://e/s2> .\n"
        f"<http://e/s2> <{csf}showsFinding> <http://e/s1> .\n"
        f"<http://e/s2> <{csf}hasProcedure> <http://e/proc1> .\n"
    )
    store = duckdb_store.new_connection()
    sql_loading.load_ntriples(store, data)
    add_knowledge(store)
    dates = {
        result.focus: (result, owners)
        for result, owners in sql_readings.validation_results(store)
        if result.value in ("not a date", "not a date either")
    }
    assert {focus: owners for focus, (_, owners) in dates.items()} == {
        "http://e/proc1": {"http://e/p1", "http://e/p2"},
        "http://e/proc2": set(),
    }
    # in the CSV's column: p1 (and p2) with its date's result, once; no row for the node of no
    # record
    problems = shacl_sql.problems_by_patient(store)
    rows = store.execute(
        f"SELECT t.str, p.problems, p.blocked FROM {problems} p JOIN terms t ON t.id = p.patient ORDER BY 1"
    ).fetchall()
    assert [(patient, blocked) for patient, _, blocked in rows] == [
        ("http://e/p1", True),
        ("http://e/p2", True),
    ]
    result = dates["http://e/proc1"][0]
    assert rows[0][1].split("; ").count(f"{result.severity}: {result.name}: {result.message}") == 1
