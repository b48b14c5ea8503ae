"""The FHIR import gives the answers of the Turtle records it stands for: the seed patient as a
hand-written Bundle (examples/seed-patient.fhir.json) against examples/seed-patient.ttl, and
every vignette of ontology/vignettes/manifest.toml written as FHIR by the writer (the inverse of
the import, through the same mapping table) against its Turtle twin and the manifest's
expected values."""

from __future__ import annotations

import json
import tomllib

import pytest

from csfkg.fhir.bundles import graph_from_bundle
from csfkg.fhir.inputs import read_patient_input
from csfkg.fhir.writer import bundle_from_graph
from csfkg.io.patient_files import patients_in, read_patient_file
from csfkg.pipeline.assess import assess
from csfkg.pipeline.results import PatientResult

from conftest import REPO, SEED

VIGNETTES = REPO / "ontology" / "vignettes"
MANIFEST = tomllib.loads((VIGNETTES / "manifest.toml").read_text(encoding="utf-8"))["vignette"]
SEED_BUNDLE = REPO / "examples" / "seed-patient.fhir.json"


def answer(result: PatientResult) -> tuple[str | None, set[str], set[str]]:
    """Next step, companions, blocking data elements."""
    step = result.next_step
    companions = {item.code for item in result.recommendations if step is None or item is not step}
    blocking = {datum.code for datum in result.missing_data if datum.blocking}
    return (step.code if step else None, companions, blocking)


def _assessed(graph) -> PatientResult:
    run = assess(graph, patients_in(graph))
    assert run.conforms, [r.validation for r in run.results]
    (result,) = run.results
    return result


def test_the_seed_bundle_gives_the_seed_turtle_answer() -> None:
    turtle = _assessed(read_patient_file(SEED))
    found = read_patient_input(SEED_BUNDLE)
    assert found.ignored == ""
    fhir = _assessed(found.graph)
    assert fhir.patient == turtle.patient == "https://example.org/csfkg/patient/seed"
    assert fhir.assessment_date == turtle.assessment_date == "2026-01-29"
    assert answer(fhir) == answer(turtle)
    assert answer(fhir) == (
        "obtain-mri-brain-and-spine",
        {"defer-spinal-intervention", "document-medical-necessity", "monitor-red-flags"},
        set(),
    )


def test_recommend_reads_the_seed_bundle_as_its_turtle(cli) -> None:
    from_fhir = cli("recommend", str(SEED_BUNDLE), "--format", "json")
    from_turtle = cli("recommend", str(SEED), "--format", "json")
    assert from_fhir.code == from_turtle.code == 0
    assert from_fhir.err == ""

    def shown(document: dict) -> tuple:
        return (
            document["next_step"]["code"],
            sorted(item["code"] for item in document["recommendations"]),
            sorted(item["code"] for item in document["missing_data"]),
            document["assessment_date"],
        )

    assert shown(json.loads(from_fhir.out)) == shown(json.loads(from_turtle.out))
    assert json.loads(from_fhir.out)["next_step"]["code"] == "obtain-mri-brain-and-spine"


@pytest.mark.parametrize("vignette", MANIFEST, ids=[v["name"] for v in MANIFEST])
def test_every_vignette_written_as_fhir_gives_its_turtle_answer(vignette: dict) -> None:
    graph = read_patient_file((VIGNETTES / vignette["file"]).resolve())
    (patient,) = patients_in(graph)
    bundle = json.loads(json.dumps(bundle_from_graph(graph, patient)))  # as it would be sent
    imported = graph_from_bundle(bundle)
    assert imported.patients == [patient]
    assert imported.ignored_sentence() == ""
    turtle, fhir = _assessed(graph), _assessed(imported.graph)
    assert answer(fhir) == answer(turtle)
    expected = (
        vignette["expected_next_step"],
        set(vignette["expected_companions"]),
        {vignette["expected_blocking"]} if "expected_blocking" in vignette else set(),
    )
    assert answer(fhir)[:2] == expected[:2]
    assert expected[2] <= answer(fhir)[2]


def test_the_writer_uses_the_resources_of_the_mapping() -> None:
    graph = read_patient_file(VIGNETTES / "suspected-normal-mri-incomplete-protocol.ttl")
    (patient,) = patients_in(graph)
    bundle = bundle_from_graph(graph, patient)
    kinds = sorted(entry["resource"]["resourceType"] for entry in bundle["entry"])
    assert kinds == [
        "Condition",
        "Condition",
        "DiagnosticReport",
        "DiagnosticReport",
        "ImagingStudy",
        "ImagingStudy",
        "Patient",
        "Procedure",
        "ServiceRequest",
    ]
    assert bundle["timestamp"] == "2026-04-15T00:00:00Z"
    (order,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"]
    assert (order["status"], order["intent"]) == ("active", "order")
    assert order["reasonCode"][0]["coding"][0]["code"] == "insuranceStepTherapy"
