"""``csfkg validate``: the packaged shapes by default, a standard report, exit codes 0 / 1 / 2,
and the two engines agreeing on a patient file."""

from __future__ import annotations

import json
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import SH

from csfkg.cli.main import run

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-patient.ttl"


def test_the_seed_patient_conforms_with_one_warning_on_both_engines(tmp_path: Path) -> None:
    reports = {}
    for engine in ("compiled", "pyshacl"):
        out = tmp_path / f"{engine}.json"
        assert run(["validate", str(SEED), "--engine", engine, "-f", "json", "-o", str(out)]) == 0
        reports[engine] = json.loads(out.read_text())
    compiled, pyshacl = reports["compiled"], reports["pyshacl"]
    assert compiled["fallback_shapes"] == {} and compiled["compiled_shapes"] > 20
    key = [(r["focus"], r["component"], r["severity"], r["value"]) for r in compiled["results"]]
    assert key == [(r["focus"], r["component"], r["severity"], r["value"]) for r in pyshacl["results"]]
    assert [r["severity"] for r in compiled["results"]] == ["Warning"]
    assert compiled["conforms"] is False  # SHACL: any result, a warning too


def test_a_violation_exits_1_with_a_standard_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        SEED.read_text(encoding="utf-8")
        + '\n<https://example.org/csfkg/patient/seed> <https://w3id.org/csfkg/ontology#symptomOnsetDate> "2026-02-30"^^<http://www.w3.org/2001/XMLSchema#date> .\n',
        encoding="utf-8",
    )
    out = tmp_path / "report.ttl"
    assert run(["validate", str(bad), "-f", "ttl", "-o", str(out)]) == 1
    report = Graph().parse(out, format="turtle")
    (node,) = report.subjects(SH.conforms, None)
    violations = [
        r for r in report.objects(node, SH.result) if (r, SH.resultSeverity, SH.Violation) in report
    ]
    assert violations and all(report.value(r, SH.sourceConstraintComponent) for r in violations)
    assert all(report.value(r, SH.focusNode) is not None for r in violations)


def test_refusals_exit_2_and_write_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.ttl"
    assert run(["validate", str(tmp_path / "missing.ttl"), "-o", str(out)]) == 2
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://e/> .\n"
        'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select "SELECT ?x WHERE { ?x ?p ?o }" ] .\n',
        encoding="utf-8",
    )
    assert run(["validate", str(SEED), "--shapes", str(shapes), "-o", str(out)]) == 2
    assert run(["validate", str(SEED), "--engine", "other"]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 3
