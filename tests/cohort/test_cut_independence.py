"""``csfkg cohort FILE`` cuts an N-Triples file into parts (``--part-mb``): a node reached from two
patients that lie in different parts must give the rows of one part, or the file be refused in
one sentence; the answer never depends on where the file is cut (issue 20)."""

from __future__ import annotations

from pathlib import Path

import pytest

from csfkg.cohort.parts import run_cohort_file
from csfkg.cohort.synth import PATIENT_NS, write_cohort
from csfkg.model.errors import InputError

CSF = "https://w3id.org/csfkg/ontology#"


def _cohort(tmp_path: Path, extra: str) -> Path:
    import io

    text = io.StringIO()
    write_cohort(text, patients=60, seed=3)
    path = tmp_path / "cohort.nt"
    path.write_text(text.getvalue() + extra, encoding="utf-8")
    return path


def _rows(path: Path, part_bytes: int) -> list[tuple[str, ...]]:
    run = run_cohort_file(path, workers=1, part_bytes=part_bytes)
    return [
        (r.patient, r.next_step, " ".join(r.companions), " ".join(r.missing_data), r.problems)
        for r in run.rows
    ]


@pytest.mark.parametrize(
    "extra",
    [
        # the last patient reaches the first patient's imaging study or finding, in another part
        f"<{PATIENT_NS}p59> <{CSF}hasImagingStudy> <{PATIENT_NS}p0/brain-mri> .\n",
        f"<{PATIENT_NS}p59> <{CSF}hasFinding> <{PATIENT_NS}p0/oh> .\n",
        f"<{PATIENT_NS}p59> <{CSF}hasProcedure> <{PATIENT_NS}p0/mbb-1> .\n",
    ],
)
def test_a_node_reached_from_two_parts_gives_the_one_part_rows_or_is_refused(
    tmp_path: Path, extra: str
) -> None:
    path = _cohort(tmp_path, extra)
    whole = _rows(path, 10**9)
    try:
        cut = _rows(path, 2_000)
    except InputError as error:
        assert str(error).count(".") >= 1 and "\n" not in str(error)
        assert "p0/" in str(error)
        return
    assert cut == whole


def test_a_literal_reached_from_two_parts_gives_the_one_part_rows(tmp_path: Path) -> None:
    date = '"2026-03-01"^^<http://www.w3.org/2001/XMLSchema#date>'
    path = _cohort(tmp_path, f"<{PATIENT_NS}p59> <{CSF}hasFinding> {date} .\n")
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            f"<{PATIENT_NS}p0> <{CSF}assessmentDate>",
            f"<{PATIENT_NS}p0> <{CSF}hasFinding> {date} .\n<{PATIENT_NS}p0> <{CSF}assessmentDate>",
            1,
        ),
        encoding="utf-8",
    )
    assert _rows(path, 2_000) == _rows(path, 10**9)
