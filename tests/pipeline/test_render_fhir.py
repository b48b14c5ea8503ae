"""``csfkg recommend --format fhir``: the recommendation as a FHIR R4 Bundle (GuidanceResponse +
RequestGroup + ServiceRequest proposals), parsed with ``fhir.resources.R4B`` for every vignette
and checked against the vignette table's expected answer."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from conftest import REPO, SEED

VIGNETTE_DIR = REPO / "ontology" / "vignettes"
VIGNETTES: list[dict[str, Any]] = tomllib.loads((VIGNETTE_DIR / "manifest.toml").read_text(encoding="utf-8"))[
    "vignette"
]
BY_NAME = {v["name"]: v for v in VIGNETTES}
IMAGING_STEPS = {"obtain-mri-brain-and-spine", "complete-imaging-to-protocol"}


def _resources(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_vignette_gives_valid_fhir_with_its_expected_answer(cli, name: str) -> None:
    vignette = BY_NAME[name]
    result = cli("recommend", str((VIGNETTE_DIR / vignette["file"]).resolve()), "--format", "fhir")
    assert result.code == 0, result.err
    Bundle.model_validate_json(result.out)  # valid FHIR R4 (fhir.resources' R4B models)
    document = json.loads(result.out)
    assert document["type"] == "collection"
    [guidance] = _resources(document, "GuidanceResponse")
    [group] = _resources(document, "RequestGroup")
    assert guidance["status"] == "success"
    assert guidance["result"]["reference"] == f"urn:uuid:{group['id']}"
    assert group["subject"] == guidance["subject"]
    assert guidance["note"][0]["text"].startswith(
        "Decision support for the treating clinician, not a diagnosis"
    )
    step = vignette["expected_next_step"]
    assert group["priority"] == ("stat" if step == "urgent-evaluation" else "routine")
    first = group["action"][0]
    assert first["title"].startswith("Next step: ") and first["description"].startswith("Why: ")
    proposals = _resources(document, "ServiceRequest")
    codes = sorted(
        c["code"] for p in proposals for c in p["code"]["coding"] if c["system"] == "http://loinc.org"
    )
    assert codes == (["24587-8", "36531-2"] if step in IMAGING_STEPS else [])
    assert {a["resource"]["reference"] for a in first.get("action", []) if "resource" in a} == {
        f"urn:uuid:{p['id']}" for p in proposals
    }
    deferring = any(a["title"].startswith("Do not do the planned ") for a in group["action"])
    assert deferring == ("defer-spinal-intervention" in vignette["expected_companions"])


def test_the_seed_patient_is_patient_seed_with_its_evidence_apart(cli) -> None:
    document = json.loads(cli("recommend", str(SEED), "--format", "fhir").out)
    [group] = _resources(document, "RequestGroup")
    assert group["subject"] == {"reference": "Patient/seed"}
    assert group["authoredOn"] == "2026-01-29"
    documentation = group["action"][0]["documentation"]
    supports = [d["display"] for d in documentation if d["type"] == "justification"]
    corrected = [d["display"] for d in documentation if d["type"] == "documentation"]
    assert supports[0].startswith("first-line imaging is MRI brain with contrast and whole spine (guideline;")
    assert any(d.startswith("a two-month delay before imaging is not a problem") for d in corrected)
    assert not any("two-month delay" in d for d in supports)
    titles = [a["title"] for a in group["action"]]
    assert titles[:3] == [
        "Next step: obtain MRI of brain with contrast and whole spine.",
        "Do not do the planned medial branch block now.",
        "Screen now for red flags.",
    ]


def test_a_record_that_violates_a_shape_is_a_failed_guidance_response(cli, tmp_path: Path) -> None:
    record = tmp_path / "bad.ttl"
    record.write_text(
        SEED.read_text(encoding="utf-8").replace(
            'csf:procedureDate "2025-11-27"^^xsd:date', 'csf:procedureDate "x"'
        ),
        encoding="utf-8",
    )
    result = cli("recommend", str(record), "--format", "fhir")
    assert result.code == 1
    Bundle.model_validate_json(result.out)
    document = json.loads(result.out)
    [guidance] = _resources(document, "GuidanceResponse")
    assert guidance["status"] == "failure" and "result" not in guidance
    assert any(n["text"].startswith("To correct in the record: ") for n in guidance["note"])
    assert _resources(document, "RequestGroup") == []


def test_fhir_goes_to_a_json_file_and_not_to_a_turtle_one(cli, tmp_path: Path) -> None:
    out = tmp_path / "seed.json"
    assert cli("recommend", str(SEED), "--format", "fhir", "-o", str(out)).code == 0
    Bundle.model_validate_json(out.read_text(encoding="utf-8"))
    refused = cli("recommend", str(SEED), "--format", "fhir", "-o", str(tmp_path / "seed.ttl"))
    assert refused.code == 2 and "--format fhir" in refused.err


def test_a_patient_outside_the_example_namespace_is_named_by_its_iri() -> None:
    from csfkg.pipeline.render_fhir import patient_reference

    assert patient_reference("https://example.org/csfkg/patient/seed.2") == {"reference": "Patient/seed.2"}
    for iri in ("https://hospital.example/p/1", "https://example.org/csfkg/patient/a%20b"):
        assert patient_reference(iri) == {"identifier": {"system": "urn:ietf:rfc:3986", "value": iri}}
