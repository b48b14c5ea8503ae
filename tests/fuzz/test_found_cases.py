"""Cases the long fuzz runs found, each with the file of its falsifying example: a regression test
once it is decided by the specifications and fixed; a strict xfail naming the disagreement while
it is not, so that a fix (or a change of answer) is noticed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from csfkg.cohort.parts import run_cohort_file
from csfkg.cohort.sql_engine import run_cohort_sql

FOUND = Path(__file__).resolve().parent / "found"


def test_both_engines_blame_the_same_patients_for_findings_without_a_status() -> None:
    """Found 2026-12-07 by CSFKG_FUZZ_SCALE=12 (806 s): p3's finding "2026-12-07" (a string) and
    p4's "2026-12-07"^^xsd:date are two RDF terms; the default engine looked owners up by the
    result's text and blamed p3 for both (4 'finding status' results, p4 1); the SQL engine's 3
    and 2 are right. Decided by RDF 1.1 (a literal is its lexical form and datatype) and fixed:
    owners by focus node (tests/validation/test_in_store.py has the small case)."""
    path = FOUND / "2026-12-07-status-attribution.nt"
    default = run_cohort_file(path, today=date(2026, 12, 7))
    sql = run_cohort_sql(path, today=date(2026, 12, 7))
    assert {r.patient: r.problems for r in default.rows} == {r.patient: r.problems for r in sql.rows}
    p3 = next(r for r in default.rows if r.patient.endswith("/p3"))
    assert p3.problems.count("A finding needs exactly one status") == 3


def test_both_validators_find_that_a_date_meets_no_slice_thickness_maximum() -> None:
    """Found 2026-12-07 by CSFKG_FUZZ_SCALE=40 (seed 101, and again with seed 303 as
    "daily"^^rdf:langString for a voxel size): a normal spine MRI whose only sagittal T2 sequence
    has the slice thickness "2026-03-01"^^xsd:date. The compiled checks warned that no sequence
    meets "sagittal T2-weighted sequence at 4 mm or thinner"; pySHACL did not, because rdflib
    orders literals of two datatypes by the datatype IRIs (date <= 4.0 was true) and so also
    missed sh:maxInclusive. Decided by SPARQL 1.1, 17.3 (no operator mapping for xsd:date and
    xsd:decimal: a type error, so the FILTER is not true) and SHACL 4.4 (a comparison that does
    not return true is a result): fixed in the pySHACL path, which now compares as SPARQL does
    (csfkg.validation.report.sparql_literal_comparison)."""
    from collections import Counter

    from rdflib import Graph

    from csfkg.validation.compiled import validate_graph
    from csfkg.validation.report import validate

    graph = Graph().parse(FOUND / "2026-12-07-date-as-slice-thickness.nt", format="nt")

    def kinds(report) -> Counter:
        return Counter((r.focus, r.name, r.severity, r.message) for r in report.results)

    compiled, pyshacl = kinds(validate_graph(graph)), kinds(validate(graph))
    assert compiled == pyshacl
    assert sum(n for (_, name, _, _), n in compiled.items() if name == "slice thickness") == 3
    assert any(
        '"sagittal T2-weighted sequence at 4 mm or thinner"' in message for _, _, _, message in compiled
    )


def test_an_ill_typed_study_date_is_not_after_the_assessment_date() -> None:
    """Found 2026-12-07 by CSFKG_FUZZ_EXAMPLES=1500 (seed 505): a study dated "infinity"^^xsd:date
    (a vignette's brain MRI; "2026-13-45" and "2026/01/05" do the same). pySHACL reported "imaging
    study not in the future", the compiled checks nothing: rdflib compares an ill-typed literal
    by its lexical form ("infinity" > "2026-04-10"). Decided by RDF 1.1, 3.3 (an ill-typed
    literal has no value) and SPARQL 1.1, 17.3 (``?date > ?assessment`` is then a type error, so
    the FILTER is not true): no such result; the study date's own sh:datatype result stays. Fixed
    in the pySHACL path: ill-typed literals reach it under a datatype of no standard
    (csfkg.validation.report._ill_typed)."""
    from rdflib import Graph

    from csfkg.validation.compiled import validate_graph
    from csfkg.validation.report import validate

    graph = Graph().parse(FOUND / "2026-12-07-study-dated-infinity.nt", format="nt")
    compiled, pyshacl = validate_graph(graph).results, validate(graph).results
    assert sorted((r.focus, r.name, r.value or "") for r in compiled) == sorted(
        (r.focus, r.name, r.value or "") for r in pyshacl
    )
    assert "imaging study not in the future" not in {r.name for r in pyshacl}
    assert ("https://example.org/csfkg/synthetic/p1/brain-mri", "study date", "infinity") in {
        (r.focus, r.name, r.value) for r in pyshacl
    }


def test_yes_is_no_boolean_for_either_validator_when_read_as_written() -> None:
    """Found 2026-12-07 by CSFKG_FUZZ_EXAMPLES=1500 (seed 808): a sequence with
    csf:fatSuppressed "yes"^^xsd:boolean. pySHACL reported sh:datatype, the compiled checks did
    not, because the property parsed the file with plain rdflib, which rewrites the literal into
    "false"^^xsd:boolean (flagged ill-typed): the compiled checks were handed a value the file
    never held. Decided by RDF 1.1, 3.3 (a literal is its lexical form and datatype; "yes" is not
    in xsd:boolean's lexical space) and SHACL 4.1.1 (an ill-typed literal fails sh:datatype): both
    validators report it when the file is read as csfkg reads files (io.patient_files.rdflib_reading,
    which the property now uses)."""
    from rdflib import Graph

    from csfkg.io.patient_files import rdflib_reading
    from csfkg.validation.compiled import validate_graph
    from csfkg.validation.report import validate

    with rdflib_reading():
        graph = Graph().parse(FOUND / "2026-12-07-yes-as-a-boolean.nt", format="nt")
    for report in (validate_graph(graph), validate(graph)):
        assert ("fat suppression", "yes") in {(r.name, r.value) for r in report.results}


def test_two_forms_of_one_boolean_are_refused_by_the_cohort_as_by_recommend(cli, tmp_path: Path) -> None:
    """Found 2026-12-07 by CSFKG_FUZZ_SCALE=150: "0"^^xsd:boolean and "false"^^xsd:boolean on one
    property are two values in RDF and one in Oxigraph's store. ``recommend`` refused the record;
    the default engine's cohort ran it, because rdflib turned "0" into "false" before the check
    compared the two forms."""
    boolean = "<http://www.w3.org/2001/XMLSchema#boolean>"
    patient = "<https://example.org/csfkg/synthetic/p0>"
    path = tmp_path / "two-forms.nt"
    path.write_text(
        f"{patient} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/csfkg/ontology#Patient> .\n"
        f'{patient} <https://w3id.org/csfkg/ontology#assessmentDate> "0"^^{boolean} .\n'
        f'{patient} <https://w3id.org/csfkg/ontology#assessmentDate> "false"^^{boolean} .\n',
        encoding="utf-8",
    )
    out = tmp_path / "rows.csv"
    for command in (["recommend", str(path)], ["cohort", str(path), "-o", str(out)]):
        result = cli(*command)
        assert result.code == 2, (command, result.out, result.err)
        assert '("0" and "false")' in result.err and result.err.count("\n") == 1, result.err
    assert not out.exists()
