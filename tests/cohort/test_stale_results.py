"""A second run on a store gives the rows of a fresh run (issue 19): what an earlier run derived is
cleared before deriving, and ``--today`` does not overwrite the stored assessment dates. On a
persistent store through the command line, and on a real ``oxigraph serve`` over HTTP."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from csfkg.cohort.run import load_files, open_store, run_cohort
from csfkg.cohort.synth import write_cohort
from csfkg.stores import EndpointStore, OxigraphStore, SelectResult, Store

from conftest import REPO

LATER = "2026-06-01"
RECENT = REPO / "ontology" / "vignettes" / "leak-recent-conservative.ttl"
"""Leak signs with onset 6 days before its assessment date: conservative management; on LATER the
onset is no longer recent, and the next step is a blood patch."""


def _synth(tmp_path: Path, patients: int = 200, seed: int = 3) -> Path:
    path = tmp_path / "cohort.nt"
    with path.open("w", encoding="utf-8") as stream:
        write_cohort(stream, patients=patients, seed=seed)
    return path


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return [tuple(row) for row in csv.reader(stream)][1:]


def _red_flag_file(tmp_path: Path, patient: str) -> Path:
    """A file that adds a present red flag (new severe back pain) to one patient."""
    path = tmp_path / "red-flag.ttl"
    path.write_text(
        "@prefix csf: <https://w3id.org/csfkg/ontology#> .\n"
        f"<{patient}> csf:hasFinding <{patient}-new-back-pain> .\n"
        f"<{patient}-new-back-pain> a csf:NewSevereBackPain ; csf:findingStatus csf:present .\n",
        encoding="utf-8",
    )
    return path


def _stored_dates(store: Store) -> list[tuple[str, str]]:
    result = store.query(
        "PREFIX csf: <https://w3id.org/csfkg/ontology#> SELECT ?p ?d WHERE { ?p a csf:Patient . "
        "OPTIONAL { ?p csf:assessmentDate ?d } } ORDER BY ?p ?d"
    )
    assert isinstance(result, SelectResult)
    return [(str(p), str(d)) for p, d in result.rows]


def _marks(store: Store) -> int:
    result = store.query(
        "PREFIX csf: <https://w3id.org/csfkg/ontology#> SELECT (COUNT(*) AS ?n) WHERE "
        "{ { ?p csf:runAssessmentDate ?d } UNION { ?p csf:recordedAssessmentDate ?d } }"
    )
    assert isinstance(result, SelectResult)
    return int(result.rows[0][0])  # type: ignore[arg-type]


def _changed_patient(before: list[tuple[str, ...]]) -> str:
    """A patient with a next step other than urgent evaluation, and no violation."""
    return next(row[0] for row in before if row[1] not in ("", "urgent-evaluation"))


def test_a_second_run_on_a_store_gives_the_rows_of_a_fresh_run(cli, tmp_path: Path) -> None:
    cohort = _synth(tmp_path)
    store = tmp_path / "store"
    assert cli("load", str(cohort), str(RECENT), "--store", str(store)).code == 0
    opened = OxigraphStore(str(store))
    loaded_dates = _stored_dates(opened)
    opened.close()
    first, later, fresh = tmp_path / "first.csv", tmp_path / "later.csv", tmp_path / "fresh.csv"
    done = cli("cohort", "--store", str(store), "--output", str(first))
    assert done.code == 1, done.err
    done = cli("cohort", "--store", str(store), "--today", LATER, "--output", str(later))
    assert done.code in (0, 1), done.err  # 1 when a record violates a shape on the later date
    fresh_store = tmp_path / "fresh-store"
    assert cli("load", str(cohort), str(RECENT), "--store", str(fresh_store)).code == 0
    cli("cohort", "--store", str(fresh_store), "--today", LATER, "--output", str(fresh))
    steps = {
        name: dict((r[0], r[1]) for r in _rows(path)) for name, path in (("first", first), ("later", later))
    }
    vignette = "https://example.org/csfkg/patient/leak-recent-conservative"
    # a post-dural puncture headache 13 days after onset; 40 days later, with leak signs, a patch
    assert (steps["first"][vignette], steps["later"][vignette]) == (
        "post-dural-puncture-care",
        "epidural-blood-patch",
    )
    assert _rows(later) == _rows(fresh)

    # --today did not overwrite the stored dates, and the run left no marks behind
    opened = OxigraphStore(str(store))
    assert _stored_dates(opened) == loaded_dates and len(loaded_dates) == 201
    assert _marks(opened) == 0
    opened.close()

    # a file that adds a red flag to one patient, loaded into the store: one row per patient,
    # the rows of a fresh run over both files (no stale next step beside urgent evaluation)
    patient = _changed_patient(_rows(first))
    flag = _red_flag_file(tmp_path, patient)
    assert cli("load", str(flag), "--store", str(store)).code == 0
    again, fresh_store = tmp_path / "again.csv", tmp_path / "fresh-store-2"
    cli("cohort", "--store", str(store), "--output", str(again))
    assert cli("load", str(cohort), str(RECENT), str(flag), "--store", str(fresh_store)).code == 0
    cli("cohort", "--store", str(fresh_store), "--output", str(fresh))
    rows = _rows(again)
    assert rows == _rows(fresh)
    assert len(rows) == len({row[0] for row in rows}) == 201
    assert dict((r[0], r[1]) for r in rows)[patient] != dict((r[0], r[1]) for r in _rows(first))[patient]


def _cohort_rows(store: Store, today: date | None = None) -> list[tuple[str, str, list[str], list[str]]]:
    # validation runs anew each time and keeps nothing in the store; pySHACL on an endpoint is slow
    run = run_cohort(store, today=today, validate_records=False)
    return [(r.patient, r.next_step, r.companions, r.missing_data) for r in run.rows]


def test_a_second_run_on_an_oxigraph_server_gives_the_rows_of_a_fresh_run(
    tmp_path: Path, oxigraph_server: str
) -> None:
    cohort = _synth(tmp_path, patients=60, seed=4)
    server = EndpointStore(
        oxigraph_server + "/query",
        update_url=oxigraph_server + "/update",
        store_url=oxigraph_server + "/store",
    )
    load_files(server, [cohort, RECENT])
    loaded_dates = _stored_dates(server)
    first = _cohort_rows(server)
    later = _cohort_rows(server, date.fromisoformat(LATER))
    fresh = open_store()
    load_files(fresh, [cohort, RECENT])
    assert later == _cohort_rows(fresh, date.fromisoformat(LATER))
    vignette = "https://example.org/csfkg/patient/leak-recent-conservative"
    assert [r[1] for r in first if r[0] == vignette] == ["post-dural-puncture-care"]
    assert [r[1] for r in later if r[0] == vignette] == ["epidural-blood-patch"]
    assert _stored_dates(server) == loaded_dates and _marks(server) == 0

    patient = next(row[0] for row in first if row[1] not in ("", "urgent-evaluation"))
    flag = _red_flag_file(tmp_path, patient)
    load_files(server, [flag])
    again = _cohort_rows(server)
    fresh = open_store()
    load_files(fresh, [cohort, RECENT, flag])
    assert again == _cohort_rows(fresh)
    assert len(again) == len({row[0] for row in again}) == 61
    assert dict((r[0], r[1]) for r in again)[patient] != dict((r[0], r[1]) for r in first)[patient]
