"""`csfkg import-fhir`, and `recommend` / `cohort` given FHIR directly: the one reading entry
point (csfkg.fhir.inputs) for every command, the input limits of a patient file, one sentence
and exit 2 for what is not valid FHIR, the ignored resources counted on stderr."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from rdflib import Graph

from csfkg.io.patient_files import MAX_FILE_BYTES
from csfkg.model.vocab import CSF, PATIENT

from conftest import REPO

SEED_BUNDLE = REPO / "examples" / "seed-patient.fhir.json"


def _seed() -> dict:
    return json.loads(SEED_BUNDLE.read_text(encoding="utf-8"))


def _with_encounter(bundle: dict) -> dict:
    bundle["entry"].append(
        {"resource": {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}}}
    )
    return bundle


def test_import_fhir_writes_the_patient_file_recommend_reads(cli, tmp_path: Path) -> None:
    source = tmp_path / "seed.json"
    source.write_text(json.dumps(_with_encounter(_seed())), encoding="utf-8")
    target = tmp_path / "seed.ttl"
    result = cli("import-fhir", str(source), "-o", str(target))
    assert result.code == 0
    assert result.out == ""
    assert result.err == f"csfkg: {source}: ignored 1 resource: 1 Encounter.\n"
    graph = Graph().parse(target)
    assert (PATIENT.seed, CSF.assessmentDate, None) in graph
    recommended = cli("recommend", str(target), "--format", "json")
    assert json.loads(recommended.out)["next_step"]["code"] == "obtain-mri-brain-and-spine"
    again = cli("recommend", str(source), "--format", "json")
    assert again.err == f"csfkg: {source}: ignored 1 resource: 1 Encounter.\n"
    assert json.loads(again.out)["next_step"] == json.loads(recommended.out)["next_step"]


def test_import_fhir_leaves_no_half_written_file(cli, tmp_path: Path) -> None:
    target = tmp_path / "out.ttl"
    target.write_text("previous\n", encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient", "id": "x", "gender": 7}}],
            }
        ),
        encoding="utf-8",
    )
    result = cli("import-fhir", str(bad), "-o", str(target))
    assert result.code == 2
    assert result.err.startswith(f"csfkg: {bad} is not valid FHIR R4: entry 0 (Patient x), element gender: ")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "out.ttl"]
    wrong = cli("import-fhir", str(SEED_BUNDLE), "-o", str(tmp_path / "out.csv"))
    assert wrong.code == 2 and "out.csv" in wrong.err


def test_import_fhir_refuses_what_is_not_fhir(cli, tmp_path: Path) -> None:
    result = cli("import-fhir", str(REPO / "examples" / "seed-patient.ttl"))
    assert result.code == 2
    assert "is not FHIR" in result.err
    missing = cli("import-fhir", str(tmp_path / "none.json"))
    assert (missing.code, missing.err) == (2, f"csfkg: File not found: {tmp_path / 'none.json'}.\n")
    not_json = tmp_path / "broken.ndjson"
    not_json.write_text('{"resourceType": "Bundle"\n', encoding="utf-8")
    broken = cli("recommend", str(not_json))
    assert broken.code == 2
    assert broken.err.startswith(f"csfkg: {not_json} line 1 is not valid JSON at line 1: ")


def test_a_fhir_file_larger_than_a_patient_file_is_refused_before_parsing(cli, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    bundle = _seed()
    bundle["entry"][0]["resource"]["text"]["div"] = (
        '<div xmlns="http://www.w3.org/1999/xhtml">' + "x" * MAX_FILE_BYTES + "</div>"
    )
    big.write_text(json.dumps(bundle), encoding="utf-8")
    result = cli("recommend", str(big))
    assert result.code == 2
    assert (
        result.err
        == f"csfkg: {big} is larger than 4 MB, the limit for a patient file; split it into smaller files.\n"
    )


def test_a_json_ld_file_is_still_read_as_json_ld(cli, tmp_path: Path) -> None:
    graph = Graph().parse(REPO / "examples" / "seed-patient.ttl")
    path = tmp_path / "seed.json"
    path.write_text(graph.serialize(format="json-ld"), encoding="utf-8")
    result = cli("recommend", str(path), "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["next_step"]["code"] == "obtain-mri-brain-and-spine"


def _ndjson(tmp_path: Path) -> Path:
    first = _seed()
    second = _seed()
    second["entry"][0]["resource"]["id"] = "other"
    for entry in second["entry"][1:]:
        entry["resource"]["subject"] = {"reference": second["entry"][0]["fullUrl"]}
    second["entry"] = [second["entry"][0], second["entry"][2]]  # only the done blocks
    path = tmp_path / "export.ndjson"
    path.write_text(json.dumps(first) + "\n\n" + json.dumps(second) + "\n", encoding="utf-8")
    return path


def test_cohort_reads_ndjson_of_bundles(cli, tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    result = cli("cohort", str(_ndjson(tmp_path)), "-o", str(out))
    assert result.code == 0, result.err
    rows = {row["patient"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert set(rows) == {str(PATIENT.seed), str(PATIENT.other)}
    assert rows[str(PATIENT.seed)]["next_step"] == "obtain-mri-brain-and-spine"
    assert rows[str(PATIENT.other)]["next_step"] == "insufficient-data"


def test_recommend_all_reads_ndjson_and_refuses_a_patient_twice(cli, tmp_path: Path) -> None:
    path = _ndjson(tmp_path)
    result = cli("recommend", str(path), "--all", "--format", "json")
    assert result.code == 0, result.err
    twice = tmp_path / "twice.ndjson"
    twice.write_text(json.dumps(_seed()) + "\n" + json.dumps(_seed()) + "\n", encoding="utf-8")
    refused = cli("recommend", str(twice), "--all")
    assert refused.code == 2
    assert refused.err == (
        f"csfkg: {twice} line 2 holds the Patient https://example.org/csfkg/patient/seed again; "
        "each Patient may be in one Bundle only.\n"
    )


def test_the_console_script_imports_fhir(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("csfkg")
    done = subprocess.run(
        [str(script), "import-fhir", str(SEED_BUNDLE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "ex:seed a csf:Patient" in done.stdout
