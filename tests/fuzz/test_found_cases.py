"""Cases the long fuzz runs found and that are not decided yet: each a file of the falsifying
example and a strict xfail naming the disagreement, so that a fix (or a change of answer) is
noticed. A case leaves this file when it is decided by the specifications and fixed, as a
regression test beside the others."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from csfkg.cohort.parts import run_cohort_file
from csfkg.cohort.sql_engine import run_cohort_sql

FOUND = Path(__file__).resolve().parent / "found"


@pytest.mark.xfail(
    strict=True,
    reason="found 2026-12-07 by CSFKG_FUZZ_SCALE=12 (806 s): in this file (a vignette and synthetic "
    "patients sharing finding nodes, some findings without a status), the default engine blames "
    "p3 for 4 'finding status' violations and p4 for 1, the SQL engine p3 for 3 and p4 for 2: the "
    "same results, attributed differently. Not decided yet (issue 20).",
)
def test_both_engines_blame_the_same_patients_for_findings_without_a_status() -> None:
    path = FOUND / "2026-12-07-status-attribution.nt"
    default = run_cohort_file(path, today=date(2026, 12, 7))
    sql = run_cohort_sql(path, today=date(2026, 12, 7))
    assert {r.patient: r.problems for r in default.rows} == {r.patient: r.problems for r in sql.rows}
