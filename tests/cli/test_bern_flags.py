"""``--sign NAME=present|absent`` and ``--measure NAME=MM`` (issue 21's flag contract), and the
Bern score as ``csfkg recommend`` and ``csfkg explain`` show it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal
from rdflib.namespace import XSD

from csfkg.model.codes import BRAIN_MEASUREMENT, BRAIN_MRI_FINDING, code_list
from csfkg.model.vocab import CSF

from conftest import REPO

BERN_EXAMPLE = REPO / "examples" / "bern-score-patient.ttl"
STUDY = "https://example.org/csfkg/patient/quick-lookup/study/brain-mri"


def one_sentence(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    assert "Traceback" not in text and lines[0].startswith("csfkg: ")
    return lines[0]


def test_the_flag_names_are_the_ontology_s_codes() -> None:
    # the contract of issue 21: five signs and three measurements (the ontology may add signs)
    assert {
        "pachymeningeal-enhancement",
        "venous-sinus-engorgement",
        "subdural-fluid-collection",
        "brain-sagging",
        "pituitary-enlargement",
    } <= set(code_list(BRAIN_MRI_FINDING))
    assert code_list(BRAIN_MEASUREMENT) == (
        "mamillopontine-distance",
        "prepontine-cistern",
        "suprasellar-cistern",
    )


@pytest.mark.parametrize(
    "args, words",
    [
        (
            ["--sign", "brain-swelling=present"],
            ["brain MRI sign", "brain-swelling", "pachymeningeal-enhancement"],
        ),
        (["--sign", "pachymeningeal-enhancement=maybe"], ["present or absent", "maybe"]),
        (["--sign", "pachymeningeal-enhancement"], ["NAME=present"]),
        (["--sign", "brain-sagging=present", "--sign", "brain-sagging=absent"], ["both present and absent"]),
        (["--brain-mri", "normal", "--measure", "suprasellar-cistern=-1.0"], ["0 or more", "-1.0"]),
        (
            ["--brain-mri", "normal", "--measure", "suprasellar-cistern=wide"],
            ["number of millimetres", "wide"],
        ),
        (["--brain-mri", "normal", "--measure", "fourth-ventricle=3.0"], ["measurement", "fourth-ventricle"]),
        (["--brain-mri", "normal", "--sign", "brain-sagging=present"], ["brain-sagging", "normal"]),
        (["--brain-mri", "not-done", "--measure", "prepontine-cistern=4.0"], ["not-done"]),
        (["--measure", "prepontine-cistern=4.0"], ["--brain-mri"]),
        (["--finding", "brain-sagging", "--sign", "brain-sagging=absent"], ["contradict"]),
    ],
)
def test_a_bad_sign_or_measure_is_one_sentence_and_exit_2(cli, args: list[str], words: list[str]) -> None:
    result = cli("recommend", "--symptom", "orthostatic-headache", *args)
    assert result.code == 2, result.out
    line = one_sentence(result.err)
    assert all(word in line for word in words), line


def test_signs_and_measures_build_the_brain_mri_record(cli) -> None:
    result = cli(
        "recommend",
        "--brain-mri",
        "leak-signs",
        "--sign",
        "pachymeningeal-enhancement=present",
        "--sign",
        "subdural-fluid-collection=absent",
        "--measure",
        "prepontine-cistern=5.0",
        "--emit-patient",
    )
    assert result.code == 0, result.err
    graph = Graph().parse(data=result.out, format="turtle")
    study = next(iter(graph.subjects(CSF.studyResult, CSF.leakSignsResult)))
    assert str(study) == STUDY
    shown = {graph.value(node, RDF.type) for node in graph.objects(study, CSF.showsFinding)}
    absent = {graph.value(node, RDF.type) for node in graph.objects(study, CSF.assessedAbsentFinding)}
    assert shown == {CSF._NS["PachymeningealEnhancement"]} and absent == {CSF._NS["SubduralFluidCollection"]}
    (mm,) = graph.objects(study, CSF._NS["prepontineCisternMm"])
    assert mm == Literal("5.0", datatype=XSD.decimal)


def test_recommend_shows_a_score_of_exactly_5_as_high(cli) -> None:
    result = cli(
        "recommend",
        "--symptom",
        "orthostatic-headache",
        "--brain-mri",
        "leak-signs",
        "--sign",
        "pachymeningeal-enhancement=present",
        "--sign",
        "venous-sinus-engorgement=present",
        "--measure",
        "prepontine-cistern=5.0",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    (bern,) = result.json()["bern_scores"]  # type: ignore[index]
    assert (bern["score"], bern["class"]["code"], bern["complete"]) == (5, "high", False)
    assert [m["code"] for m in bern["missing_elements"]] == [
        "suprasellar-cistern",
        "subdural-fluid-collection",
        "mamillopontine-distance",
    ]


def test_recommend_and_explain_say_the_score_is_incomplete(cli) -> None:
    for command in ("recommend", "explain"):
        result = cli(command, str(BERN_EXAMPLE))
        assert result.code == 0, result.err
        text = " ".join(result.out.split())
        assert "Bern score 5 (high probability)" in text, text
        assert "incomplete: missing mamillopontine-distance" in text
    explained = cli("explain", str(BERN_EXAMPLE), "--format", "json").json()
    assert [(b["score"], b["class"]["code"]) for b in explained["bern_scores"]] == [(5, "high")]  # type: ignore[index]


def test_a_negative_measure_in_a_file_is_a_violation_exit_1(cli, tmp_path: Path) -> None:
    text = BERN_EXAMPLE.read_text(encoding="utf-8").replace(
        "csf:prepontineCisternMm 5.0", "csf:prepontineCisternMm -5.0"
    )
    assert "-5.0" in text
    patient = tmp_path / "negative.ttl"
    patient.write_text(text, encoding="utf-8")
    result = cli("recommend", str(patient), "--format", "json")
    assert result.code == 1
    data = result.json()
    assert data["next_step"] is None and data["bern_scores"] == []  # type: ignore[index]
    violations = data["validation"]["results"]  # type: ignore[index]
    assert [(v["name"], v["severity"]) for v in violations] == [("prepontine cistern", "Violation")]
