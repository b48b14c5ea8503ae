"""Rows in the natural order of the patients' names (p2 before p10), in the cohort CSV (both
engines) and in `recommend --all` / `explain --all` (regression: they sorted as text, p1, p10, p2)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from csfkg.model.ordering import natural_key

NAMES = ["p10", "p2", "p1", "p02x", "p100"]
NATURAL = ["p1", "p2", "p02x", "p10", "p100"]


def _patients(tmp_path: Path, *, ntriples: bool = False) -> Path:
    path = tmp_path / "five.ttl"
    records = "\n".join(
        f"ex:{n} a csf:Patient ; csf:assessmentDate '2026-03-01'^^xsd:date ; csf:hasFinding "
        f"[ a csf:OrthostaticHeadache ; csf:findingStatus csf:present ] ."
        for n in NAMES
    )
    path.write_text(
        "@prefix csf: <https://w3id.org/csfkg/ontology#> .\n@prefix ex: <https://example.org/csfkg/patient/> .\n"
        f"@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n{records}\n",
        encoding="utf-8",
    )
    if not ntriples:
        return path
    from rdflib import Graph

    nt = tmp_path / "five.nt"
    nt.write_text(Graph().parse(path).serialize(format="nt"), encoding="utf-8")
    return nt


def test_natural_key_orders_numbers_by_value_and_is_total() -> None:
    assert sorted(NAMES, key=natural_key) == NATURAL
    assert sorted(["p01", "p1"], key=natural_key) == ["p01", "p1"]  # equal value, still two keys
    assert natural_key("p01") != natural_key("p1")


@pytest.mark.parametrize("engine", [[], ["--engine", "sql"]], ids=["store", "sql"])
def test_cohort_csv_rows_are_in_natural_order(cli, tmp_path: Path, engine: list[str]) -> None:
    out = tmp_path / "rows.csv"
    result = cli("cohort", str(_patients(tmp_path, ntriples=True)), "--output", str(out), *engine)
    assert result.code == 0, result.err
    with out.open(encoding="utf-8") as stream:
        got = [row["patient"].rsplit("/", 1)[-1] for row in csv.DictReader(stream)]
    assert got == NATURAL


@pytest.mark.parametrize("command", ["recommend", "explain"])
def test_all_patients_are_in_natural_order(cli, tmp_path: Path, command: str) -> None:
    result = cli(command, str(_patients(tmp_path)), "--all", "--format", "json")
    assert result.code == 0, result.err
    assert [d["patient"] for d in json.loads(result.out)] == [f"ex:{n}" for n in NATURAL]
