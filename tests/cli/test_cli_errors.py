"""Bad input: each gives its exit code and one clear sentence, never a traceback, and never a
half-written output file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, SEED

INPUT = DATA / "input"


def one_sentence(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    assert "Traceback" not in text
    assert lines[0].startswith("csfkg: ")
    return lines[0]


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["recommend", "no/such/file.ttl"], 2, ["File not found", "no/such/file.ttl"]),
        (["recommend", str(INPUT)], 2, ["is a directory"]),
        (["recommend", str(INPUT / "malformed.ttl")], 2, ["not valid Turtle", "line 6"]),
        (["recommend", "--brain-mri", "maybe"], 2, ["--brain-mri", "maybe"]),
        (["recommend", "--red-flag", "headache"], 2, ["--red-flag", "headache"]),
        (
            ["recommend", "--symptom", "orthostatic-headache", "--absent", "orthostatic-headache"],
            2,
            ["contradict"],
        ),
        (
            ["recommend", "--no-red-flags", "--red-flag", "fever", "--symptom", "orthostatic-headache"],
            2,
            ["--no-red-flags", "fever"],
        ),
        (
            ["recommend", "--brain-mri", "normal", "--finding", "brain-sagging"],
            2,
            ["brain-sagging", "normal"],
        ),
        # a study both normal and showing a leak sign, however complete its protocol
        (
            [
                "recommend",
                "--symptom",
                "orthostatic-headache",
                "--brain-mri",
                "normal",
                "--spine-mri",
                "normal",
                "--mri-protocol",
                "complete",
                "--finding",
                "extradural-csf-collection",
            ],
            2,
            ["--finding extradural-csf-collection", "spine MRI finding", "--spine-mri says normal"],
        ),
        (
            [
                "recommend",
                "--symptom",
                "orthostatic-headache",
                "--brain-mri",
                "normal",
                "--mri-protocol",
                "complete",
                "--finding",
                "pachymeningeal-enhancement",
            ],
            2,
            ["--finding pachymeningeal-enhancement", "--brain-mri says normal"],
        ),
        (
            [
                "recommend",
                "--brain-mri",
                "not-done",
                "--mri-protocol",
                "complete",
                "--finding",
                "brain-sagging",
            ],
            2,
            ["brain-sagging", "--brain-mri says not-done"],
        ),
        (
            ["recommend", "--symptom", "orthostatic-headache", "--mri-protocol", "complete"],
            2,
            ["--mri-protocol", "neither"],
        ),
        (
            ["recommend", str(SEED), "--patient", "https://example.org/csfkg/patient/nobody"],
            2,
            ["nobody", "not in the file"],
        ),
        (["recommend", str(INPUT / "two-patients.ttl")], 2, ["2 patients", "--patient", "--all"]),
        (
            ["recommend", "--onset", "2026-02-30", "--symptom", "orthostatic-headache"],
            2,
            ["--onset 2026-02-30", "does not exist", "February 2026 has 28 days"],
        ),
        (
            ["recommend", "--onset", "2026-2-3", "--symptom", "orthostatic-headache"],
            2,
            ["--onset", "YYYY-MM-DD", "'2026-2-3'"],
        ),
        (
            [
                "recommend",
                "--levels",
                "L4-L1",
                "--prior-procedure",
                "medial-branch-block",
                "--symptom",
                "orthostatic-headache",
            ],
            2,
            ["backwards"],
        ),
        (
            ["recommend", str(SEED), "--symptom", "orthostatic-headache"],
            2,
            ["either a patient file or", "not both"],
        ),
        (["recommend"], 2, ["Give a patient file"]),
    ],
)
def test_bad_input_gives_exit_code_and_one_sentence(
    cli, args: list[str], code: int, words: list[str]
) -> None:
    result = cli(*args)
    assert result.code == code
    line = one_sentence(result.err)
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"
    assert result.out == ""


def test_mri_protocol_applies_to_the_study_a_finding_records(cli) -> None:
    """Regression: --finding records the study it is shown on (with leak signs), so --mri-protocol
    describes that study; it was refused as if no MRI had been done."""
    args = [
        "recommend",
        "--symptom",
        "orthostatic-headache",
        "--onset",
        "2026-01-10",
        "--no-red-flags",
        "--finding",
        "brain-sagging",
        "--mri-protocol",
        "complete",
        "--today",
        "2026-03-01",
    ]
    result = cli(*args, "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["next_step"]["code"] == "epidural-blood-patch"  # type: ignore[index]
    patient = cli(*args, "--emit-patient")
    assert patient.code == 0
    from rdflib import Graph

    from csfkg.model.vocab import CSF

    graph = Graph().parse(data=patient.out, format="turtle")
    (study,) = graph.subjects(CSF.studyResult, CSF.leakSignsResult)
    assert (study, CSF.showsFinding, None) in graph
    assert len(list(graph.objects(study, CSF.performedSequence))) == 5  # the brain protocol's five sequences


def test_cohort_store_must_be_a_store_made_by_load(cli, tmp_path: Path) -> None:
    """Regression: a mistyped --store path was opened as a new, empty store (a CSV with no row,
    exit 0) and left an empty store folder behind."""
    missing = tmp_path / "no-such-store"
    result = cli("cohort", "--store", str(missing), "--output", str(tmp_path / "r.csv"))
    assert result.code == 2 and "No store at" in one_sentence(result.err)
    assert not missing.exists() and not (tmp_path / "r.csv").exists()
    folder = tmp_path / "plain-folder"
    folder.mkdir()
    result = cli("cohort", "--store", str(folder), "--output", str(tmp_path / "r.csv"))
    assert result.code == 2 and "is not a store made by `csfkg load`" in one_sentence(result.err)
    assert list(folder.iterdir()) == []
    store = tmp_path / "store"
    assert cli("load", str(SEED), "--store", str(store)).code == 0
    result = cli("cohort", "--store", str(store), "--output", str(tmp_path / "r.csv"))
    assert result.code == 0, result.err
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 2  # header and the seed patient


def test_empty_file(cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.ttl"
    empty.write_text("")
    result = cli("recommend", str(empty))
    assert result.code == 2 and "is empty" in one_sentence(result.err)


def test_binary_garbage(cli, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.ttl"
    garbage.write_bytes(bytes(range(256)) * 4)
    result = cli("recommend", str(garbage))
    assert result.code == 2 and "not UTF-8" in one_sentence(result.err)


def test_file_without_patient(cli, tmp_path: Path) -> None:
    path = tmp_path / "nobody.ttl"
    path.write_text("<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n")
    result = cli("recommend", str(path))
    assert result.code == 2 and "holds no patient" in one_sentence(result.err)


def test_onset_in_the_future_is_a_violation_with_the_shape_named(cli) -> None:
    result = cli(
        "recommend", "--symptom", "orthostatic-headache", "--onset", "2026-05-01", "--today", "2026-03-01"
    )
    assert result.code == 1
    out = " ".join(result.out.split())
    assert "does not conform" in out and "onset not after assessment" in out
    assert "2026-05-01" in out and "after the assessment date" in out


def test_onset_in_the_future_as_json_reports_the_shape(cli) -> None:
    result = cli(
        "recommend",
        "--symptom",
        "orthostatic-headache",
        "--onset",
        "2026-05-01",
        "--today",
        "2026-03-01",
        "--format",
        "json",
    )
    assert result.code == 1
    data = result.json()
    assert data["next_step"] is None and data["recommendations"] == []
    assert data["validation"]["conforms"] is False
    shapes = [r["shape"] for r in data["validation"]["results"]]
    assert "csfsh:OnsetNotAfterAssessmentConstraint" in shapes


def test_two_patients_with_patient_option_and_all(cli) -> None:
    one = cli("recommend", str(INPUT / "two-patients.ttl"), "--patient", "ex:bob", "--format", "json")
    assert one.code == 0 and one.json()["next_step"]["code"] == "urgent-evaluation"
    both = cli("recommend", str(INPUT / "two-patients.ttl"), "--all", "--format", "json")
    assert both.code == 0
    assert [(p["patient"], p["next_step"]["code"]) for p in both.json()] == [
        ("ex:alice", "obtain-mri-brain-and-spine"),
        ("ex:bob", "urgent-evaluation"),
    ]


def test_failed_run_leaves_the_previous_output_file(cli, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    out.write_text("previous\n")
    result = cli("recommend", "no/such/file.ttl", "--output", str(out))
    assert result.code == 2
    assert out.read_text() == "previous\n"
    ok = cli("recommend", str(SEED), "--output", str(out), "--format", "json")
    assert ok.code == 0 and ok.out == ""
    assert '"obtain-mri-brain-and-spine"' in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temporary file left


def test_atomic_write_keeps_old_content_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from csfkg.io.output import write_atomically

    target = tmp_path / "out.txt"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomically(target, "new content")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_console_script_runs_from_another_directory(tmp_path: Path) -> None:
    """The installed command finds its packaged ontology, shapes and queries from any folder."""
    script = Path(sys.executable).with_name("csfkg")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "csfkg.cli.main"]
    done = subprocess.run(
        [*command, "recommend", str(SEED), "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"code": "obtain-mri-brain-and-spine"' in done.stdout
    bad = subprocess.run(
        [*command, "recommend", "missing.ttl"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "csfkg: File not found: missing.ttl."
