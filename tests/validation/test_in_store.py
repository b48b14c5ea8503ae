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


TWO_LITERALS = """
@prefix csf: <https://w3id.org/csfkg/ontology#> .
@prefix ex: <https://example.org/p/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a a csf:Patient ; csf:hasFinding "2026-12-07" , ex:ghost .
ex:b a csf:Patient ; csf:hasFinding "2026-12-07"^^xsd:date .
"""


def test_two_literal_findings_with_one_text_are_blamed_each_on_its_own_patient() -> None:
    """Found by the long fuzz run (tests/fuzz, CSFKG_FUZZ_SCALE=12): a result names its focus
    node by text, and "2026-12-07" (a string) and "2026-12-07"^^xsd:date are two RDF terms in
    two records. Both went to the patient of whichever was looked up last (a with 3 'finding
    status' results, b with none) on the default engine; the SQL engine had it right."""
    store = OxigraphStore()
    store.add_graph(Graph().parse(data=TWO_LITERALS, format="turtle"))
    add_knowledge(store)
    set_assessment_dates(store, date(2026, 12, 7))
    patients = patients_of(store)

    def status(found: dict) -> dict[str, list[str]]:
        return {p: sorted(r.focus for r in rs if r.name == "finding status") for p, rs in found.items()}

    expected = {
        "https://example.org/p/a": ["2026-12-07", "https://example.org/p/ghost"],
        "https://example.org/p/b": ["2026-12-07"],
    }
    assert status(validate_store(store, patients)) == expected
    assert status(validate_store_pyshacl(store, patients)) == expected
    assert status(validate_store_pyshacl(store, patients, batch=1)) == expected


def test_a_sparql_server_runs_the_compiled_checks_and_finds_what_embedded_oxigraph_finds(
    tmp_path, oxigraph_server: str
) -> None:
    """On an endpoint the checks run on the server (compiled_validation "sparql": each result's
    patients joined in by the same query), not pySHACL on pulled records; the results by patient
    are embedded Oxigraph's, violations included."""
    from csfkg.cohort.run import load_files
    from csfkg.cohort.synth import write_cohort_file
    from csfkg.stores import EndpointStore

    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=300, seed=2)
    with cohort.open("a", encoding="utf-8") as stream:  # a violation: two onset dates
        for onset in ("2026-11-30", "2026-11-29"):
            stream.write(
                "<https://example.org/csfkg/synthetic/p7> <https://w3id.org/csfkg/ontology#symptomOnsetDate> "
                f'"{onset}"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
            )
    server = EndpointStore(
        oxigraph_server + "/query",
        update_url=oxigraph_server + "/update",
        store_url=oxigraph_server + "/store",
    )
    assert server.compiled_validation == "sparql"
    found = {}
    for name, store in (("embedded", OxigraphStore()), ("server", server)):
        load_files(store, [cohort])
        add_knowledge(store)
        set_assessment_dates(store, date(2026, 12, 7))
        found[name] = validate_store(store, patients_of(store))
    assert found["server"] == found["embedded"]
    assert sum(len(v) for v in found["embedded"].values()) > 100
    assert "https://example.org/csfkg/synthetic/p7" in _violations(found["embedded"])  # the planted one
