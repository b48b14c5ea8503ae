"""The cards of the CDS Hooks service, built from patient graphs (the vignettes of
ontology/vignettes/, read as ``csfkg recommend`` reads them), before any FHIR: what each card
says is checked against the vignette table's expected answer, and every card against the CDS
Hooks response shape. Which planned procedure is a spinal procedure is the graph's answer
(``planned-spinal-procedures.rq``); each is taken for a draft order ``ServiceRequest/<local name>``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from cds_support import REPO, RESPONSE
from rdflib import Graph, URIRef

from csfkg.io.patient_files import read_patient_file, select_patients
from csfkg.pipeline.assess import assess
from csfkg.pipeline.render import render_text
from csfkg.pipeline.results import PatientResult, RecommendationItem
from csfkg.service.cards import card, summary_line
from csfkg.service.orders import PlannedProcedure, SpinalOrder, planned_spinal_procedures
from csfkg.validation.report import ValidationReport

VIGNETTE_DIR = REPO / "ontology" / "vignettes"
VIGNETTES: list[dict[str, Any]] = tomllib.loads((VIGNETTE_DIR / "manifest.toml").read_text(encoding="utf-8"))[
    "vignette"
]
BY_NAME = {v["name"]: v for v in VIGNETTES}
IMAGING_STEPS = {"obtain-mri-brain-and-spine", "complete-imaging-to-protocol"}
"""The next steps of the table that order brain and spine MRI (the actions with protocols)."""


def _orders(graph: Graph, patient: URIRef) -> list[SpinalOrder]:
    """Each planned spinal procedure of the patient, as the draft order it would be."""
    found: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for planned in planned_spinal_procedures(graph, patient):
        found.setdefault(planned.procedure, set()).add(planned.cls)
        labels[planned.procedure] = planned.label
    return [
        SpinalOrder(f"ServiceRequest/{iri.rsplit('/', 1)[-1]}", frozenset(classes), labels[iri])
        for iri, classes in found.items()
    ]


def _card(name: str) -> tuple[dict[str, Any], PatientResult, list[SpinalOrder], str]:
    vignette = BY_NAME[name]
    graph = read_patient_file((VIGNETTE_DIR / vignette["file"]).resolve())
    [patient] = select_patients(graph, patient=None, all_patients=True)
    orders = _orders(graph, patient)
    run = assess(graph, [patient])
    built = card(run, run.results[0], orders)
    return built, run.results[0], orders, render_text(run)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_the_card_says_what_the_vignette_table_expects(name: str) -> None:
    vignette = BY_NAME[name]
    built, result, orders, text = _card(name)
    RESPONSE.validate({"cards": [built]})
    # the summary is the first line of `csfkg recommend`
    assert built["summary"] == text.splitlines()[0]
    step = vignette["expected_next_step"]
    deferring = "defer-spinal-intervention" in vignette["expected_companions"]
    expected = "critical" if step == "urgent-evaluation" else "warning" if deferring else "info"
    assert built["indicator"] == expected
    actions = [a for s in built.get("suggestions", []) for a in s["actions"]]
    created = sorted(
        c["code"] for a in actions if a["type"] == "create" for c in a["resource"]["code"]["coding"]
    )
    assert created == (["24587-8", "36531-2"] if step in IMAGING_STEPS else [])
    deleted = [a["resourceId"] for a in actions if a["type"] == "delete"]
    if deferring:
        assert deleted and set(deleted) <= {o.reference for o in orders}
    else:
        assert deleted == []
    assert ("selectionBehavior" in built) == bool(actions)


def test_the_seed_card_puts_the_detail_in_the_order_of_recommend() -> None:
    built, _, orders, _ = _card("seed-article-patient")
    assert [o.reference for o in orders] == ["ServiceRequest/seed-second-mbb"]
    detail = built["detail"]
    parts = [
        "**Next step: obtain MRI of brain with contrast and whole spine.**",
        "**Do not do the planned medial branch block now.**",
        "Screen now for: ",
        "Decision support for the treating clinician, not a diagnosis",
        "Why: orthostatic headache: present",
        "Not recorded: red-flag screen; brain MRI; spine MRI.",
        "Evidence that supports the next step, strongest first:",
        "Claims of the article the graph corrects (not counted as support):",
    ]
    positions = [detail.index(part) for part in parts]
    assert positions == sorted(positions)
    supports = detail[positions[-2] : positions[-1]]
    assert "- first-line imaging is MRI brain with contrast and whole spine (guideline;" in supports
    assert "two-month delay" not in supports  # a corrected claim is never support
    assert "corrected by: " in detail[positions[-1] :]


def test_a_red_flag_card_is_critical_and_names_the_action() -> None:
    built, result, _, _ = _card("red-flag-seizure")
    assert built["indicator"] == "critical"
    assert built["summary"] == "Next step: urgent evaluation."
    [action] = result.next_step.red_flag_actions  # type: ignore[union-attr]
    assert "For the red flags present:" in built["detail"] and "(seizure)" in built["detail"]


def test_a_record_that_violates_a_shape_gets_a_warning_card_without_suggestions(tmp_path: Path) -> None:
    record = tmp_path / "bad.ttl"
    record.write_text(
        (REPO / "examples" / "seed-patient.ttl")
        .read_text(encoding="utf-8")
        .replace('csf:procedureDate "2025-11-27"^^xsd:date', 'csf:procedureDate "yesterday"'),
        encoding="utf-8",
    )
    graph = read_patient_file(record)
    [patient] = select_patients(graph, patient=None, all_patients=True)
    run = assess(graph, [patient])
    assert not run.conforms
    built = card(run, run.results[0], _orders(graph, patient))
    RESPONSE.validate({"cards": [built]})
    assert built["indicator"] == "warning" and "suggestions" not in built
    assert built["summary"] == "No next step: the patient data does not conform."
    assert "To correct in the record:" in built["detail"]


def test_a_long_next_step_is_shortened_below_140_characters() -> None:
    step = RecommendationItem(
        code="x", label="obtain " + "very " * 40 + "long imaging", iri="x", role="next-step"
    )
    result = PatientResult(
        patient="x", assessment_date=None, validation=ValidationReport([]), recommendations=[step]
    )
    summary = summary_line(result)
    assert len(summary) < 140 and summary.endswith("…") and summary.startswith("Next step: obtain very")


def test_the_spinal_procedure_query_ignores_what_is_done_or_not_spinal() -> None:
    """The seed's first round is done, so only the second, planned one is a spinal order."""
    graph = read_patient_file(REPO / "examples" / "seed-patient.ttl")
    seed = URIRef("https://example.org/csfkg/patient/seed")
    assert planned_spinal_procedures(graph, seed) == [
        PlannedProcedure(
            "https://example.org/csfkg/patient/seed-second-mbb",
            "https://w3id.org/csfkg/ontology#MedialBranchBlock",
            "medial branch block",
        )
    ]
    nothing_planned = read_patient_file(VIGNETTE_DIR / "no-symptoms-nothing-planned.ttl")
    [patient] = select_patients(nothing_planned, patient=None, all_patients=True)
    assert planned_spinal_procedures(nothing_planned, patient) == []
