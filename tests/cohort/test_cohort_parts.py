"""An N-Triples cohort cut into parts of whole records and run on several processes gives what
one store gives; a file whose records cannot be cut is refused with one sentence."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from rdflib import Graph

from csfkg.cohort.file_parts import PATIENT_TYPE_LINE_END, split_file
from csfkg.cohort.parts import run_cohort_file
from csfkg.cohort.run import load_files, run_cohort
from csfkg.cohort.synth import write_cohort_file
from csfkg.model.errors import InputError
from csfkg.stores import OxigraphStore

TODAY = date(2026, 3, 1)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parts") / "cohort.nt"
    write_cohort_file(path, patients=400, seed=11)
    return path


def test_parts_cover_the_file_and_start_at_a_patient(cohort: Path) -> None:
    data = cohort.read_bytes()
    parts = split_file(cohort, 20_000)
    assert len(parts) > 20
    assert b"".join(part.read() for part in parts) == data
    assert [p.start for p in parts[1:]] == [p.end for p in parts[:-1]]
    for part in parts:
        first = part.read().split(b"\n", 1)[0]
        assert first.endswith(PATIENT_TYPE_LINE_END), first


def test_a_part_larger_than_the_file_is_the_whole_file(cohort: Path) -> None:
    parts = split_file(cohort, 10**12)
    assert [(p.start, p.end) for p in parts] == [(0, cohort.stat().st_size)]


def _single_store(path: Path) -> tuple[list, Graph]:
    store = OxigraphStore()
    load_files(store, [path])
    run = run_cohort(store, today=TODAY)
    from csfkg.sparql.library import get_query

    graph = store.query(get_query("cohort-result-graph").text)
    assert isinstance(graph, Graph)
    return run.rows, graph


def test_parts_on_two_workers_agree_with_one_store(cohort: Path, tmp_path: Path) -> None:
    rows, graph = _single_store(cohort)
    graph_out = tmp_path / "derived.nt"
    run = run_cohort_file(cohort, today=TODAY, workers=2, part_bytes=40_000, graph_out=graph_out)
    assert run.parts > 5 and run.workers == 2
    assert len(run.rows) == len(rows) == 400
    assert [(r.patient, r.next_step, r.companions, r.missing_data) for r in run.rows] == [
        (r.patient, r.next_step, r.companions, r.missing_data) for r in rows
    ]
    # violations are reported per patient, the same ones (some synthetic records violate shapes)
    assert [sorted((v.name, v.focus) for v in r.violations) for r in run.rows] == [
        sorted((v.name, v.focus) for v in r.violations) for r in rows
    ]
    assert any(r.violations for r in rows)
    parted = Graph().parse(graph_out, format="nt")
    assert len(parted) == len(graph) > 10_000
    assert set(parted) == set(graph)
    assert not list(tmp_path.glob(".csfkg-graph-*")), "the parts' temporary folder is removed"


def _patient_blocks(path: Path) -> list[list[bytes]]:
    blocks: list[list[bytes]] = []
    for line in path.read_bytes().splitlines(keepends=True):
        if line.rstrip().endswith(PATIENT_TYPE_LINE_END):
            blocks.append([])
        blocks[-1].append(line)
    return blocks


def test_a_record_split_across_parts_is_refused(cohort: Path, tmp_path: Path) -> None:
    blocks = _patient_blocks(cohort)
    moved = blocks[0].pop()  # the last triple of the first patient's record ...
    blocks[-1].append(moved)  # ... written after the last patient
    broken = tmp_path / "ungrouped.nt"
    broken.write_bytes(b"".join(line for block in blocks for line in block))
    subject = moved.split(b" ", 1)[0].decode().strip("<>")
    with pytest.raises(InputError, match="not grouped by patient") as raised:
        run_cohort_file(broken, today=TODAY, validate_records=False, workers=1, part_bytes=20_000)
    assert subject in str(raised.value)
    # in one part, the same file is fine: its records are whole
    run = run_cohort_file(broken, today=TODAY, validate_records=False, workers=1, part_bytes=10**9)
    assert len(run.rows) == 400


def test_a_patient_typed_in_two_parts_is_refused(cohort: Path, tmp_path: Path) -> None:
    blocks = _patient_blocks(cohort)
    blocks.append([blocks[0][0]])  # the first patient typed again at the end
    broken = tmp_path / "twice.nt"
    broken.write_bytes(b"".join(line for block in blocks for line in block))
    with pytest.raises(InputError, match="typed csf:Patient in two places"):
        run_cohort_file(broken, today=TODAY, validate_records=False, workers=2, part_bytes=20_000)


def test_bad_part_gives_one_sentence_exit_2_and_no_output(cohort: Path, tmp_path: Path) -> None:
    lines = cohort.read_bytes().splitlines(keepends=True)
    lines[len(lines) // 2] = b"<https://example.org/x> <broken\n"
    broken = tmp_path / "broken.nt"
    broken.write_bytes(b"".join(lines))
    out = tmp_path / "results.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "csfkg.cli.main",
            "cohort",
            str(broken),
            "--output",
            str(out),
            "--part-mb",
            "0.02",
            "--no-validate",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr  # 2: input error (1 is for records violating a shape)
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.count("\n") == 1
        and "is not valid N-Triples" in result.stderr
        and str(broken) in result.stderr
    )
    assert not out.exists()
    assert not list(tmp_path.glob(".results.csv*"))


def test_compiled_validation_agrees_with_pyshacl_on_a_cohort(tmp_path: Path) -> None:
    """The cohort's validation in Oxigraph (the shapes compiled to SPARQL) reports, per patient,
    what pySHACL reports on the same records."""
    from csfkg.cohort.run import add_knowledge, patients_of, set_assessment_dates
    from csfkg.validation.in_store import validate_store, validate_store_pyshacl

    path = tmp_path / "small.nt"
    write_cohort_file(path, patients=80, seed=11)
    store = OxigraphStore()
    load_files(store, [path])
    add_knowledge(store)
    set_assessment_dates(store, TODAY)
    patients = patients_of(store)

    def norm(found: dict) -> dict:
        return {
            p: sorted((v.name, v.focus, v.severity, v.message, v.value or "") for v in vs)
            for p, vs in found.items()
            if vs
        }

    compiled = norm(validate_store(store, patients))
    reference = norm(validate_store_pyshacl(store, patients))
    assert compiled == reference
    assert any(v[2] == "Warning" for vs in reference.values() for v in vs), "the cohort must hold results"
