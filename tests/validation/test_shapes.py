"""SHACL shapes against conforming and non-conforming fixtures: each fixture must be caught by
the shape it was written for, on the focus node it was written for."""

from __future__ import annotations

import pytest
from rdflib import Graph

from csfkg.io.patient_files import read_patient_file
from csfkg.validation.report import validate

from conftest import DATA, SEED

SHAPES = DATA / "shapes"
SH = "https://w3id.org/csfkg/shapes#"
P = "https://example.org/csfkg/patient/"

CASES = [
    # file, source shape or constraint, focus, severity
    ("onset-after-assessment.ttl", "OnsetNotAfterAssessmentConstraint", "p", "Violation"),
    ("finding-onset-after-assessment.ttl", "OnsetNotAfterAssessmentConstraint", "p", "Violation"),
    ("finding-present-and-absent.ttl", "FindingPresentAndAbsentConstraint", "p", "Violation"),
    ("planned-procedure-in-past.ttl", "PlannedProcedureNotInPastConstraint", "p", "Violation"),
    ("completed-procedure-in-future.ttl", "CompletedProcedureNotInFutureConstraint", "p", "Violation"),
    ("study-in-future.ttl", "StudyNotInFutureConstraint", "p", "Violation"),
    ("normal-study-with-finding.ttl", "NormalStudyWithFindingConstraint", "p-brain", "Violation"),
    ("study-without-result.ttl", "StudyResultPresentShape", "p-brain", "Warning"),
    ("finding-status-not-in-value-set.ttl", "FindingStatusShape", "p-oh", "Violation"),
    ("onset-wrong-datatype.ttl", "PatientOnsetDateShape", "p", "Violation"),
    ("two-suspicion-levels.ttl", "PatientSuspicionShape", "p", "Violation"),
    ("blank-node-patient.ttl", "PatientShape", None, "Violation"),
    ("untyped-finding.ttl", "PatientFindingShape", "p", "Violation"),
    ("negative-patch-volume.ttl", "PatchVolumeShape", "p-ebp", "Violation"),
    ("normal-brain-incomplete-protocol.ttl", "NormalStudyMissingRequirementConstraint", "p-brain", "Warning"),
    ("normal-brain-incomplete-protocol.ttl", "PlannedInterventionWithLeakConstraint", "p", "Warning"),
    ("negative-brain-measurement.ttl", "SuprasellarCisternShape", "p-brain", "Violation"),
    ("brain-measurement-not-decimal.ttl", "PrepontineCisternShape", "p-brain", "Violation"),
    ("two-mamillopontine-distances.ttl", "MamillopontineDistanceShape", "p-brain", "Violation"),
    ("finding-shown-and-absent.ttl", "FindingShownAndAbsentConstraint", "p-brain", "Violation"),
    ("absent-finding-not-a-finding.ttl", "StudyAbsentFindingShape", "p-brain", "Violation"),
]


def _validate(name: str):
    graph = Graph().parse(SHAPES / name, format="turtle")
    return validate(graph)


@pytest.mark.parametrize("name, shape, focus, severity", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_fixture_is_caught_by_its_shape(name: str, shape: str, focus: str | None, severity: str) -> None:
    report = _validate(name)
    hits = [r for r in report.results if r.shape == SH + shape]
    assert hits, f"{shape} did not fire; got {[r.shape for r in report.results]}"
    if focus is not None:
        assert {r.focus for r in hits} == {P + focus}
    assert {r.severity for r in hits} == {severity}
    assert all(r.message and "{" not in r.message for r in hits)
    assert report.conforms is (severity != "Violation") or any(r.is_violation for r in report.results)


def test_conforming_fixture_has_no_result_at_all() -> None:
    report = _validate("conforming-excluded-leak.ttl")
    assert report.results == []
    assert report.conforms


def test_seed_patient_conforms_with_the_safety_warning_only() -> None:
    report = validate(read_patient_file(SEED))
    assert report.conforms
    assert [r.shape for r in report.results] == [SH + "PlannedInterventionWithLeakConstraint"]
    assert report.results[0].value == P + "seed-second-mbb"


def test_incomplete_protocol_names_each_missing_requirement() -> None:
    report = _validate("normal-brain-incomplete-protocol.ttl")
    missing = {r.value for r in report.results if r.shape == SH + "NormalStudyMissingRequirementConstraint"}
    g = "https://w3id.org/csfkg/guideline#"
    # the one T2 sequence is 6 mm thick, over the 5 mm maximum: every requirement is missing
    assert missing == {
        g + r
        for r in (
            "req-brain-t2",
            "req-brain-flair",
            "req-brain-susceptibility",
            "req-brain-t1-pre",
            "req-brain-t1-post",
        )
    }


def test_every_shape_is_named_with_message_and_severity() -> None:
    from rdflib import RDF
    from rdflib.namespace import SH as SHACL

    from csfkg.model.knowledge import shapes_graph

    shapes = shapes_graph()
    for kind in (SHACL.PropertyShape, SHACL.SPARQLConstraint):
        for shape in shapes.subjects(RDF.type, kind):
            assert shapes.value(shape, SHACL.name) is not None, shape
            assert shapes.value(shape, SHACL.message) is not None, shape
            assert shapes.value(shape, SHACL.description) is not None, shape
            if kind == SHACL.PropertyShape:
                assert shapes.value(shape, SHACL.severity) is not None, shape
    for shape in shapes.subjects(RDF.type, SHACL.NodeShape):
        for predicate in (SHACL.name, SHACL.description, SHACL.message, SHACL.severity):
            assert shapes.value(shape, predicate) is not None, (shape, predicate)


def test_sparql_constraint_keeps_its_own_message() -> None:
    """Regression: pySHACL also attaches the node shape's sh:message to a SPARQL constraint's
    result; the report must show the constraint's specific sentence."""
    report = _validate("onset-after-assessment.ttl")
    (result,) = [r for r in report.results if r.shape == SH + "OnsetNotAfterAssessmentConstraint"]
    assert result.message.startswith("Symptom onset 2026-03-02 is after the assessment date 2026-03-01")


DATE_ORDER = {
    "OnsetNotAfterAssessmentConstraint",
    "PlannedProcedureNotInPastConstraint",
    "CompletedProcedureNotInFutureConstraint",
    "StudyNotInFutureConstraint",
}


@pytest.mark.parametrize(
    "name, reported",
    [
        (
            "dates-not-dates.ttl",
            {
                ("PatientOnsetDateShape", "p"),
                ("ProcedureDateShape", "p-done"),
                ("ProcedureDateShape", "p-planned"),
                ("StudyDateShape", "p-brain"),
            },
        ),
        ("assessment-date-not-a-date.ttl", {("PatientAssessmentDateShape", "p")}),
        ("onset-wrong-datatype.ttl", {("PatientOnsetDateShape", "p")}),
    ],
)
def test_dates_are_put_in_order_only_when_both_are_dates(name: str, reported: set[tuple[str, str]]) -> None:
    """Regression: the date-order constraints compared any two values with > and <, and rdflib
    finds "last tuesday" after 2026-03-01; a value that is not an xsd:date is the datatype
    shape's to report, once, and not also a date in the future or the past."""
    report = _validate(name)
    fired = {(r.shape.removeprefix(SH), r.focus.removeprefix(P)) for r in report.results}
    assert {shape for shape, _ in fired} & DATE_ORDER == set(), fired
    assert reported <= fired


def test_a_study_that_shows_a_finding_has_a_result_in_effect() -> None:
    """Regression: StudyResultPresentShape warned "no result recorded; it counts as not done" for a
    study that shows a leak sign, which the derivation counts as leak signs on MRI."""
    report = _validate("study-showing-finding-without-result.ttl")
    assert report.results == []
    still = _validate("study-without-result.ttl")
    assert [(r.shape, r.focus, r.severity) for r in still.results] == [
        (SH + "StudyResultPresentShape", P + "p-brain", "Warning")
    ]


def test_a_violation_on_a_literal_finding_blocks_the_recommendation(tmp_path) -> None:
    """A finding written as a literal ("orthostatic headache") is a focus node of its own, not a
    subject of the record: its violation (no status) is the patient's too, and is reported with
    the others (the finding shape's violation on the patient blocks the next step as well)."""
    import json
    import subprocess
    import sys

    patient = tmp_path / "literal-finding.ttl"
    text = SEED.read_text(encoding="utf-8")
    assert "csf:hasFinding ex:seed-orthostatic-headache ;" in text
    patient.write_text(
        text.replace(
            "csf:hasFinding ex:seed-orthostatic-headache ;",
            'csf:hasFinding ex:seed-orthostatic-headache , "orthostatic headache" ;',
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "csfkg.cli.main", "recommend", str(patient), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in done.stderr
    result = json.loads(done.stdout)
    violations = [r for r in result["validation"]["results"] if r["severity"] == "Violation"]
    assert ("orthostatic headache", "finding status") in {(r["focus"], r["name"]) for r in violations}
    assert result["next_step"] is None and not result["recommendations"]
    assert done.returncode == 1


@pytest.mark.parametrize(
    "addition, name",
    [
        # rdflib reads both as "false" unless told to keep what the file says
        (
            'ex:seed csf:symptomsResolvedAfterTreatment "yes"^^xsd:boolean .',
            "symptoms resolved after treatment",
        ),
        (
            'ex:seed csf:symptomsResolvedAfterTreatment " true"^^xsd:boolean .',
            "symptoms resolved after treatment",
        ),
        # a literal finding on another node of the record, reported in canonical form (1 for 1.0)
        ("ex:seed-first-mbb csf:hasFinding 1.0 .", "finding status"),
    ],
)
def test_recommend_refuses_what_pyshacl_refuses(addition: str, name: str, tmp_path) -> None:
    """The compiled checks recommend runs see the file's own literals and attribute every result
    to its patient: no next step where pySHACL finds a violation."""
    import subprocess
    import sys

    from csfkg.io.patient_files import read_patient_file

    text = SEED.read_text(encoding="utf-8")
    assert "ex:seed-first-mbb" in text and "@prefix xsd:" in text
    patient = tmp_path / "patient.ttl"
    patient.write_text(text + "\n" + addition + "\n", encoding="utf-8")
    assert not validate(read_patient_file(patient)).conforms  # pySHACL, the reference
    done = subprocess.run(
        [sys.executable, "-m", "csfkg.cli.main", "recommend", str(patient), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stdout[:300]
    import json

    result = json.loads(done.stdout)
    assert result["next_step"] is None
    assert name in {r["name"] for r in result["validation"]["results"] if r["severity"] == "Violation"}


def test_pyshacl_reports_a_nan_decimal_instead_of_raising() -> None:
    """rdflib reads "NaN"^^xsd:decimal as a Decimal NaN and pySHACL raised comparing it with
    sh:minExclusive (so an endpoint cohort stopped on such a patient): it is a violation."""
    text = SEED.read_text(encoding="utf-8")
    old = 'csf:procedureDate "2025-11-27"^^xsd:date'
    assert old in text
    graph = Graph().parse(
        data=text.replace(
            old,
            old + " . ex:seed csf:hasProcedure ex:odd-ebp . ex:odd-ebp a csf:EpiduralBloodPatch ; "
            'csf:procedureStatus csf:completed ; csf:patchTargeting csf:nonTargeted ; csf:patchVolumeMl "NaN"^^xsd:decimal',
        ),
        format="turtle",
    )
    report = validate(graph)
    assert not report.conforms
    assert {("patch volume", "NaN")} <= {(r.name, r.value) for r in report.results if r.is_violation}
