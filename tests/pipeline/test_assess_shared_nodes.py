"""``recommend`` on one patient of a file gives that patient's row of ``csfkg cohort`` on the file,
also for a node two patients' records share (a regression the differential fuzzer, tests/fuzz,
found): results are attributed to the patients whose records hold their focus node, after
validating the file's records together, in both commands."""

from __future__ import annotations

from pathlib import Path

from rdflib import URIRef

from csfkg.cohort.parts import run_cohort_file
from csfkg.io.patient_files import read_patient_file
from csfkg.pipeline.assess import assess

CSF = "https://w3id.org/csfkg/ontology#"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
DATE = '"2026-03-01"^^<http://www.w3.org/2001/XMLSchema#date>'


def test_a_shared_sequence_s_violation_is_each_sharing_patient_s_in_both_commands(tmp_path: Path) -> None:
    a, b, study, sequence = (f"<https://example.org/{n}>" for n in ("a", "b", "a-spine", "a-seq"))
    path = tmp_path / "two.nt"
    path.write_text(
        f"{a} {TYPE} <{CSF}Patient> .\n{a} <{CSF}assessmentDate> {DATE} .\n"
        f"{a} <{CSF}hasImagingStudy> {study} .\n{study} {TYPE} <{CSF}SpineMRI> .\n"
        f"{study} <{CSF}studyResult> <{CSF}normalResult> .\n{study} <{CSF}performedSequence> {sequence} .\n"
        f'{sequence} <{CSF}fatSuppressed> "yes"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'
        f"{b} {TYPE} <{CSF}Patient> .\n{b} <{CSF}assessmentDate> {DATE} .\n{b} <{CSF}performedSequence> {sequence} .\n",
        encoding="utf-8",
    )
    rows = {row.patient: row for row in run_cohort_file(path, workers=1).rows}
    graph = read_patient_file(path)
    for patient in ("https://example.org/a", "https://example.org/b"):
        (alone,) = assess(graph, [URIRef(patient)]).results
        assert sorted((r.focus, r.name) for r in alone.validation.results) == sorted(
            (r.focus, r.name) for r in rows[patient].violations
        )
    assert ("https://example.org/a-seq", "fat suppression") in {
        (r.focus, r.name) for r in rows["https://example.org/b"].violations
    }
