"""Cohorts: synthetic cohorts, the cohort command on the embedded store, and the same queries
on an Oxigraph server over HTTP."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rdflib import URIRef

from csfkg.cohort.run import load_files, open_store, run_cohort
from csfkg.cohort.synth import write_cohort
from csfkg.stores import EndpointStore, OxigraphStore

from conftest import DATA

SMALL = DATA / "input" / "cohort-small.ttl"


def _synth(tmp_path: Path, patients: int, seed: int = 5) -> Path:
    path = tmp_path / f"cohort-{patients}.nt"
    with path.open("w", encoding="utf-8") as stream:
        write_cohort(stream, patients=patients, seed=seed)
    return path


def test_synth_is_deterministic_and_seeded() -> None:
    first, second, other = io.StringIO(), io.StringIO(), io.StringIO()
    assert write_cohort(first, patients=50, seed=9) == write_cohort(second, patients=50, seed=9)
    write_cohort(other, patients=50, seed=10)
    assert first.getvalue() == second.getvalue() != other.getvalue()


def test_synthetic_cohort_reaches_every_next_step_branch(tmp_path: Path) -> None:
    store = open_store()
    load_files(store, [_synth(tmp_path, 3000)])
    run_cohort(store, validate_records=False)
    result = store.query(
        "PREFIX csf: <https://w3id.org/csfkg/ontology#> "
        "SELECT DISTINCT ?branch WHERE { ?p csf:hasNextStep ?r . ?r csf:fromBranch ?branch }"
    )
    reached = {str(row[0]).rsplit("#", 1)[-1] for row in result.rows}  # type: ignore[union-attr]
    every = store.query(
        "PREFIX csf: <https://w3id.org/csfkg/ontology#> SELECT ?b WHERE { ?b a csf:NextStepBranch }"
    )
    branches = {str(row[0]).rsplit("#", 1)[-1] for row in every.rows}  # type: ignore[union-attr]
    assert len(branches) == 27  # the 16 rows of issue 21
    assert branches - reached == set()


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as stream:
        return {row["patient"].rsplit("/", 1)[-1]: row for row in csv.DictReader(stream)}


def test_cohort_command_reports_violations_and_matches_recommend(cli, tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    result = cli("cohort", str(SMALL), "--output", str(out))
    assert result.code == 1  # one record violates a shape: reported, not dropped
    rows = _rows(out)
    assert set(rows) == {"anna", "ben", "cleo"}
    assert rows["cleo"]["next_step"] == "" and "onset not after assessment" in rows["cleo"]["violations"]
    recommend = cli("recommend", str(SMALL), "--all", "--format", "json").json()
    expected = {p["patient"].removeprefix("ex:"): p for p in recommend}  # type: ignore[union-attr]
    for name in ("anna", "ben"):
        assert rows[name]["next_step"] == expected[name]["next_step"]["code"]
        companions = sorted(r["code"] for r in expected[name]["recommendations"] if r["role"] == "companion")
        assert rows[name]["companions"].split() == companions
        assert rows[name]["missing_data"].split() == sorted(m["code"] for m in expected[name]["missing_data"])
    assert rows["anna"]["next_step"] == "obtain-mri-brain-and-spine"
    assert rows["ben"]["next_step"] == "urgent-evaluation"


def test_persistent_store_load_then_cohort(cli, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert cli("load", str(SMALL), "--store", str(store)).code == 0
    out = tmp_path / "from-store.csv"
    assert cli("cohort", "--store", str(store), "--output", str(out)).code == 1
    assert _rows(out)["anna"]["next_step"] == "obtain-mri-brain-and-spine"


def test_cohort_on_an_oxigraph_server_agrees_with_the_embedded_store(
    tmp_path: Path, oxigraph_server: str
) -> None:
    cohort = _synth(tmp_path, 300, seed=11)
    embedded = open_store()
    load_files(embedded, [cohort])
    local = run_cohort(embedded, validate_records=False)
    server = EndpointStore(
        oxigraph_server + "/query",
        update_url=oxigraph_server + "/update",
        store_url=oxigraph_server + "/store",
    )
    load_files(server, [cohort])
    remote = run_cohort(server, validate_records=False)
    assert len(local.rows) == len(remote.rows) == 300
    assert [(r.patient, r.next_step, r.companions, r.missing_data) for r in local.rows] == [
        (r.patient, r.next_step, r.companions, r.missing_data) for r in remote.rows
    ]
    # a parameter bound on the server (VALUES of RDF terms) gives the same answer as locally
    from csfkg.sparql.library import get_query

    patient = URIRef(local.rows[0].patient)
    text = get_query("next-step").text
    assert embedded.query(text, {"patient": patient}).rows == server.query(text, {"patient": patient}).rows  # type: ignore[union-attr]
    assert isinstance(embedded, OxigraphStore)


def test_a_carriage_return_in_a_field_keeps_the_row_whole(tmp_path: Path) -> None:
    """Regression: a violation message holding a lone carriage return (a hostile literal's text)
    was written unquoted, and a CSV reader cut the row in two there."""
    from csfkg.cohort.run import CohortRow, CohortRun, write_csv

    rows = [
        CohortRow(
            patient="https://example.org/p1", next_step="", reported=("Violation: x: value 'a\rb'", True)
        ),
        CohortRow(
            patient="https://example.org/p2", next_step="urgent-evaluation", companions=["monitor-red-flags"]
        ),
    ]
    out = tmp_path / "rows.csv"
    write_csv(CohortRun(rows=rows, seconds={}), out)
    with out.open(newline="", encoding="utf-8") as stream:
        read = list(csv.reader(stream))
    assert read[1:] == [
        ["https://example.org/p1", "", "", "", "Violation: x: value 'a\rb'"],
        ["https://example.org/p2", "urgent-evaluation", "monitor-red-flags", "", ""],
    ]
