"""The two cohort engines (``csfkg cohort FILE`` and ``--engine sql``) on inputs where they answered
differently: regressions the differential fuzzer (tests/fuzz) found, each decided by RDF 1.1."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from csfkg.cohort.parts import run_cohort_file
from csfkg.cohort.run import write_csv
from csfkg.cohort.sql_engine import run_cohort_sql
from csfkg.model.errors import InputError

CSF = "https://w3id.org/csfkg/ontology#"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
DATE = "<http://www.w3.org/2001/XMLSchema#date>"
P = "<https://example.org/p>"
HEAD = f'{P} {TYPE} <{CSF}Patient> .\n{P} <{CSF}assessmentDate> "2026-03-01"^^{DATE} .\n'


def _both(path: Path, tmp_path: Path) -> list[list[list[str]]]:
    rows = []
    for name, run in (("default", lambda p: run_cohort_file(p, workers=1)), ("sql", run_cohort_sql)):
        out = tmp_path / f"{name}.csv"
        write_csv(run(path), out)
        with out.open(encoding="utf-8", newline="") as stream:
            rows.append(list(csv.reader(stream)))
    return rows


def test_a_subject_no_patient_reaches_is_refused_by_both_engines(tmp_path: Path) -> None:
    """The finding's link was dropped: its triples are in no patient's record. The default engine
    cannot tell them from a record cut between parts, so it refuses; the SQL engine accepted the
    file. Both now refuse it, naming the subject, whatever the part size."""
    path = tmp_path / "orphan.nt"
    path.write_text(HEAD + f"<https://example.org/f> {TYPE} <{CSF}OrthostaticHeadache> .\n", encoding="utf-8")
    for run in (
        lambda p: run_cohort_file(p, workers=1),
        lambda p: run_cohort_file(p, workers=1, part_bytes=50),
        run_cohort_sql,
    ):
        with pytest.raises(
            InputError, match="not grouped by patient: no patient before it reaches https://example.org/f"
        ):
            run(path)


def test_an_untagged_lang_string_is_refused_by_both_engines(tmp_path: Path) -> None:
    """RDF 1.1, 3.3: a literal has datatype rdf:langString if and only if it has a language tag:
    "daily"^^rdf:langString is no literal. Oxigraph refused it; the SQL loader took it."""
    path = tmp_path / "untagged.nt"
    path.write_text(
        HEAD + f'{P} <{CSF}note> "daily"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#langString> .\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="not valid N-Triples"):
        run_cohort_file(path, workers=1)
    with pytest.raises(InputError, match=r"not N-Triples as the SQL engine reads it.*\"daily\"\^\^"):
        run_cohort_sql(path)


def test_a_blank_node_in_a_message_is_named_by_the_file_s_label(tmp_path: Path) -> None:
    """A violation message naming a blank node named Oxigraph's random label, new at each run,
    where the SQL engine named the file's: both now name the file's label (``_:mbb``)."""
    path = tmp_path / "blank.nt"
    path.write_text(
        HEAD
        + f"{P} <{CSF}hasFinding> _:oh .\n_:oh {TYPE} <{CSF}OrthostaticHeadache> .\n_:oh <{CSF}findingStatus> <{CSF}present> .\n"
        + f"{P} <{CSF}hasProcedure> _:mbb .\n_:mbb {TYPE} <{CSF}MedialBranchBlock> .\n_:mbb <{CSF}procedureStatus> <{CSF}planned> .\n"
        + f"{P} <{CSF}hasImagingStudy> _:mri .\n_:mri {TYPE} <{CSF}SpineMRI> .\n_:mri <{CSF}studyResult> <{CSF}leakSignsResult> .\n",
        encoding="utf-8",
    )
    default, sql = _both(path, tmp_path)
    again, _ = _both(path, tmp_path)
    assert default == sql == again
    assert "Planned spinal procedure mbb while" in default[1][4]


def test_a_simple_literal_and_its_xsd_string_form_are_one_value_in_both_engines(tmp_path: Path) -> None:
    """RDF 1.1, 3.3: "daily" and "daily"^^xsd:string are one term: the finding has one frequency
    and sh:maxCount 1 holds. The SQL loader kept two texts, so two terms, and blocked the patient."""
    path = tmp_path / "daily.nt"
    finding = "<https://example.org/oh>"
    path.write_text(
        HEAD
        + f"{P} <{CSF}hasFinding> {finding} .\n{finding} {TYPE} <{CSF}OrthostaticHeadache> .\n"
        + f'{finding} <{CSF}findingStatus> <{CSF}present> .\n{finding} <{CSF}frequency> "daily" .\n'
        + f'{finding} <{CSF}frequency> "daily"^^<http://www.w3.org/2001/XMLSchema#string> .\n',
        encoding="utf-8",
    )
    default, sql = _both(path, tmp_path)
    assert default == sql
    assert default[1][4] == "" and default[1][1] != ""


def test_two_lexical_forms_of_one_value_are_refused_by_the_default_engine_and_counted_by_sql(
    tmp_path: Path,
) -> None:
    """RDF 1.1, 3.3: "0.9"^^xsd:decimal and "0.900"^^xsd:decimal are two literals, so a sequence
    with both has two slice thicknesses (sh:maxCount 1 fails; pySHACL agrees). Oxigraph keeps one
    canonical term, so the default engine answered as if there were one value. Decided: the SQL
    engine reports the violation; the default engine refuses in one sentence, naming both forms,
    whatever the part size. One form written twice is one triple, and answered."""
    decimal = "<http://www.w3.org/2001/XMLSchema#decimal>"
    mri, s = "<https://example.org/mri>", "<https://example.org/s>"
    body = (
        HEAD
        + f"{P} <{CSF}hasImagingStudy> {mri} .\n{mri} {TYPE} <{CSF}BrainMRI> .\n"
        + f"{mri} <{CSF}performedSequence> {s} .\n{s} {TYPE} <{CSF}MRISequence> .\n"
    )
    seq = f'{s} <{CSF}sliceThicknessMm> "0.9"^^{decimal} .\n'
    path = tmp_path / "forms.nt"
    path.write_text(body + seq + seq.replace('"0.9"', '"0.900"'), encoding="utf-8")
    for run in (
        lambda p: run_cohort_file(p, workers=1),
        lambda p: run_cohort_file(p, workers=1, part_bytes=50),
    ):
        with pytest.raises(InputError, match=r'two lexical forms of one value .*\("0\.9" and "0\.900"\)'):
            run(path)
    (row,) = run_cohort_sql(path).rows
    assert "slice thickness" in row.problems
    path.write_text(body + seq + seq, encoding="utf-8")
    (row,) = run_cohort_file(path, workers=1).rows
    assert "slice thickness" not in row.problems
