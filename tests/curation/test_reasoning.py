"""OWL reasoning: the defined classes of ontology/csfkg.ttl, `csfkg reason`, and the agreement
between HermiT's classification and the SPARQL derivation on every vignette patient.

The correspondence table (CORRESPONDENCE below) is the contract between the two: each row says
which defined classes (HermiT, open world) match which decision criteria, branches or
recommendations (SPARQL, closed world), and whether the match is "iff" or only "implies". The
agreement test runs HermiT once on all vignettes and the SPARQL derivation once, and checks
every row for every patient; a row that no vignette makes true (or false) fails as well, so the
table cannot pass vacuously.

HermiT needs Java; the tests that run it are skipped without it (the project machines and CI
have it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import pytest
from rdflib import OWL, RDF, RDFS, BNode, Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import SKOS, XSD

from conftest import DATA, REPO, SEED

CSF = Namespace("https://w3id.org/csfkg/ontology#")
CSFG = Namespace("https://w3id.org/csfkg/guideline#")
EX = Namespace("https://example.org/csfkg/patient/")
VIGNETTES = REPO / "ontology" / "vignettes"
FIXTURES = DATA / "reasoning"

needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="HermiT needs Java (installed on the project machines and in CI)"
)


# =============================================================================================
# The correspondence table
# =============================================================================================
IFF: Literal["iff"] = "iff"
IMPLIES: Literal["implies"] = "implies"


@dataclass(frozen=True)
class Row:
    """HermiT side: the patient is inferred to be a member of every class in ``classes`` and
    meets none of the SPARQL criteria in ``unless`` (what the open world cannot subtract).
    SPARQL side: every token in ``sparql`` holds for the patient - ``crit-*`` a decision
    criterion met, ``br-*``/``cb-*`` a branch that applies, ``next:CODE`` the next step,
    ``action:CODE`` any recommendation, ``record:completed-spinal-procedure`` a fact of the
    record read by RECORD_FACTS below. ``relation`` says HermiT side iff / implies SPARQL side."""

    classes: tuple[str, ...]
    unless: tuple[str, ...]
    relation: Literal["iff", "implies"]
    sparql: tuple[str, ...]

    @property
    def name(self) -> str:
        hermit = " & ".join(self.classes) + "".join(f" & not {u}" for u in self.unless)
        return f"{hermit} {self.relation} {' & '.join(self.sparql)}"


NOT_RESOLVED_OR_EXCLUDED = ("crit-leak-resolved", "crit-leak-excluded")
NOT_A_LEAK_ROW = (
    *NOT_RESOLVED_OR_EXCLUDED,
    "crit-red-flag-present",
    "next:insufficient-data",
    "next:proceed-with-planned-procedure",
    "next:not-applicable",
)
"""Since issue 21 a companion accompanies the row of the table that gave the next step: the
defined classes (orthostatic headache or leak signs) imply a leak row's companions unless the
record is resolved, excluded, red-flagged, short of data or on a proceed / not-applicable row.
The classes do not hold the table's new concepts (a non-orthostatic headache, strong imaging
evidence), so these rows are implications, not equivalences."""

CORRESPONDENCE: tuple[Row, ...] = (
    # --- one defined class, one decision criterion ---------------------------------------------
    Row(("PatientWithOrthostaticHeadache",), (), IFF, ("crit-orthostatic-present",)),
    Row(("PatientWithOrthostaticHeadacheAbsent",), (), IFF, ("crit-orthostatic-absent",)),
    Row(("PatientWithRedFlag",), (), IFF, ("crit-red-flag-present",)),
    Row(("PatientWithLeakSignsOnMRI",), (), IFF, ("crit-mri-leak-signs",)),
    Row(("PatientWithSuspectedLeak",), (), IFF, ("crit-leak-suspected",)),
    Row(("PatientWithPlannedSpinalProcedure",), (), IFF, ("crit-procedure-planned",)),
    Row(("PatientWithInsuranceRequiredSpinalProcedure",), (), IFF, ("crit-insurance-procedure-planned",)),
    Row(("PatientWithCompletedBloodPatch",), (), IFF, ("crit-ebp-done",)),
    Row(("PatientWithResolvedLeak",), (), IFF, ("crit-leak-resolved",)),
    Row(("PatientWithHeadache",), (), IFF, ("crit-headache-present",)),
    # the Bern score and "reported as a leak, no sign itemised" are beyond OWL: one way only
    Row(("PatientWithStrongImagingEvidence",), (), IMPLIES, ("crit-evidence-strong",)),
    # --- defined classes with no criterion of their own ------------------------------------------
    Row(
        ("PatientWithSuspectedPostProceduralLeak",),
        (),
        IFF,
        ("crit-orthostatic-present", "record:completed-spinal-procedure"),
    ),
    Row(
        ("PatientWithSuspectedLeakAndPlannedIntervention",),
        (),
        IFF,
        ("crit-leak-suspected", "crit-procedure-planned"),
    ),
    Row(
        ("PatientWithSuspectedPostProceduralLeakAndPlannedIntervention",),
        (),
        IMPLIES,
        ("crit-leak-suspected", "crit-procedure-planned"),
    ),
    # --- defined classes and the branches and recommendations of the algorithm -------------------
    Row(("PatientWithRedFlag",), (), IFF, ("br-red-flag", "next:urgent-evaluation")),
    Row(
        ("PatientWithSuspectedLeakAndPlannedIntervention",),
        NOT_A_LEAK_ROW,
        IMPLIES,
        ("cb-defer-for-leak",),
    ),
    Row(
        ("PatientWithSuspectedLeakAndPlannedIntervention",),
        NOT_A_LEAK_ROW,
        IMPLIES,
        ("action:defer-spinal-intervention",),
    ),
    Row(
        ("PatientWithSuspectedPostProceduralLeakAndPlannedIntervention",),
        (*NOT_A_LEAK_ROW, "next:assess-rebound-hypertension"),
        IMPLIES,
        ("action:defer-spinal-intervention", "action:monitor-red-flags"),
    ),
    Row(("PatientWithRedFlag", "PatientWithPlannedSpinalProcedure"), (), IFF, ("cb-defer-for-red-flag",)),
    Row(
        ("PatientWithSuspectedLeak", "PatientWithInsuranceRequiredSpinalProcedure"),
        (
            *NOT_A_LEAK_ROW,
            "next:assess-rebound-hypertension",
            "next:post-dural-puncture-care",
            "br-no-symptoms-imaging-evidence",
        ),
        IMPLIES,
        ("cb-document-necessity-for-leak",),
    ),
    Row(
        ("PatientWithRedFlag", "PatientWithInsuranceRequiredSpinalProcedure"),
        (),
        IFF,
        ("cb-document-necessity-for-red-flag",),
    ),
    Row(
        ("PatientWithSuspectedLeak",),
        (*NOT_A_LEAK_ROW, "next:assess-rebound-hypertension", "br-no-symptoms-imaging-evidence"),
        IMPLIES,
        ("cb-monitor-red-flags",),
    ),
)

# Facts of the record that no decision criterion states, read the way the derivation reads
# records (class hierarchy from the rules graph).
RECORD_FACTS: dict[str, str] = {
    "record:completed-spinal-procedure": """
        PREFIX csf: <https://w3id.org/csfkg/ontology#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        ASK { ?patient csf:hasProcedure ?procedure .
              ?procedure a/rdfs:subClassOf* csf:SpinalProcedure ; csf:procedureStatus csf:completed . }
    """,
}

# The classes of the section "Defined classes for reasoning" and their inferred direct
# named superclasses, as HermiT must classify them.
EXPECTED_HIERARCHY: dict[str, set[str]] = {
    "SpinalProcedureOtherThanLeakProcedure": {"SpinalProcedure"},
    "PatientWithOrthostaticHeadache": {"PatientWithSuspectedLeak", "PatientWithHeadache"},
    "PatientWithHeadache": {"Patient"},
    "PatientWithStrongImagingEvidence": {"Patient"},  # myelography too: not only MRI signs
    "PatientWithOrthostaticHeadacheAbsent": {"Patient"},
    "PatientWithRedFlag": {"Patient"},
    "PatientWithLeakSignsOnMRI": {"PatientWithSuspectedLeak"},
    "PatientWithSuspectedLeak": {"Patient"},
    "PatientWithPlannedSpinalProcedure": {"Patient"},
    "PatientWithInsuranceRequiredSpinalProcedure": {"PatientWithPlannedSpinalProcedure"},
    "PatientWithSuspectedPostProceduralLeak": {"PatientWithOrthostaticHeadache"},
    "PatientWithSuspectedLeakAndPlannedIntervention": {
        "PatientWithSuspectedLeak",
        "PatientWithPlannedSpinalProcedure",
    },
    "PatientWithSuspectedPostProceduralLeakAndPlannedIntervention": {
        "PatientWithSuspectedPostProceduralLeak",
        "PatientWithSuspectedLeakAndPlannedIntervention",
    },
    "PatientWithCompletedBloodPatch": {"Patient"},
    "PatientWithResolvedLeak": {"PatientWithLeakSignsOnMRI"},
}


# =============================================================================================
# Shared runs: HermiT and the SPARQL derivation over every vignette patient
# =============================================================================================
def _vignette_files() -> list[Path]:
    with (VIGNETTES / "manifest.toml").open("rb") as handle:
        manifest = tomllib.load(handle)["vignette"]
    return [(VIGNETTES / v["file"]).resolve() for v in manifest]


def _local(term: object) -> str:
    return re.split(r"[#/]", str(term))[-1]


@cache
def _vignette_graph() -> Graph:
    from csfkg.io.patient_files import read_patient_file

    graph = Graph()
    for path in _vignette_files():
        graph += read_patient_file(path)
    return graph


@cache
def _hermit_types() -> dict[str, set[str]]:
    """Patient local name -> local names of the defined classes HermiT infers for it."""
    from csfkg.curation.reasoning import reason

    report = reason(_vignette_graph())
    assert report.consistent and not report.unsatisfiable
    return {_local(p.patient.iri): {_local(t.iri) for t in p.defined_types} for p in report.patients}


@cache
def _sparql_facts() -> dict[str, set[str]]:
    """Patient local name -> tokens of the CORRESPONDENCE table's SPARQL side."""
    from csfkg.io.patient_files import patients_in
    from csfkg.model.knowledge import rules_graph
    from csfkg.pipeline.derive import derive
    from csfkg.sparql.records import patient_records
    from csfkg.stores import RdflibStore

    # The derivation alone (the vignettes conform to the shapes: tests/test_vignettes.py);
    # every file carries its csf:assessmentDate.
    graph = _vignette_graph()
    patients = patients_in(graph)
    derived = derive(graph).derived
    facts: dict[str, set[str]] = {}
    for patient in patients:
        tokens = {_local(c) for c in derived.objects(patient, CSF.meetsCriterion)}
        # a next-step branch by its criteria; a companion branch only when it gave a
        # recommendation (issue 21: a companion accompanies the row that gave the next step)
        tokens |= {
            _local(b) for b in derived.objects(patient, CSF.branchApplies) if _local(b).startswith("br-")
        }
        for recommendation in derived.subjects(CSF.recommendationFor, patient):
            tokens.add("action:" + _local(derived.value(recommendation, CSF.recommendedAction)))
            tokens |= {_local(b) for b in derived.objects(recommendation, CSF.fromBranch)}
        for step in derived.objects(patient, CSF.hasNextStep):
            tokens.add("next:" + _local(derived.value(step, CSF.recommendedAction)))
        record = patient_records(RdflibStore(graph), [patient]) + rules_graph()
        for token, query in RECORD_FACTS.items():
            if record.query(query, initBindings={"patient": patient}).askAnswer:
                tokens.add(token)
        facts[_local(patient)] = tokens
    return facts


def _hermit_side(row: Row, patient: str) -> bool:
    types, facts = _hermit_types()[patient], _sparql_facts()[patient]
    return all(c in types for c in row.classes) and not any(u in facts for u in row.unless)


def _sparql_side(row: Row, patient: str) -> bool:
    return all(token in _sparql_facts()[patient] for token in row.sparql)


# =============================================================================================
# The defined classes in the TBox
# =============================================================================================
def _tbox() -> Graph:
    return Graph().parse(REPO / "ontology" / "csfkg.ttl", format="turtle")


def test_the_defined_classes_are_the_ones_the_hierarchy_and_table_cover() -> None:
    from csfkg.curation.reasoning import defined_classes

    defined = {_local(c) for c in defined_classes(_tbox())}
    assert defined == set(EXPECTED_HIERARCHY)
    in_table = {c for row in CORRESPONDENCE for c in row.classes}
    assert defined - in_table == {"SpinalProcedureOtherThanLeakProcedure"}, "every patient class has a row"


def test_every_defined_class_has_one_lower_case_label_one_definition_and_one_equivalence() -> None:
    from csfkg.curation.reasoning import defined_classes

    tbox = _tbox()
    problems = []
    for cls in defined_classes(tbox):
        labels = list(tbox.objects(cls, RDFS.label))
        definitions = list(tbox.objects(cls, SKOS.definition))
        equivalences = list(tbox.objects(cls, OWL.equivalentClass))
        if (cls, RDF.type, OWL.Class) not in tbox:
            problems.append(f"{_local(cls)}: not declared owl:Class")
        if len(labels) != 1 or str(labels[0]) != str(labels[0]).lower():
            problems.append(f"{_local(cls)}: labels {labels}")
        if (
            len(definitions) != 1
            or not re.match(r"^an? \w", str(definitions[0]))
            or " that " not in str(definitions[0])
        ):
            problems.append(f"{_local(cls)}: definition not in 'a B that C' form: {definitions}")
        if len(equivalences) != 1 or not isinstance(equivalences[0], BNode):
            problems.append(f"{_local(cls)}: expected one anonymous class expression, got {equivalences}")
    assert problems == []


def test_labels_of_the_defined_classes_are_unique_in_the_merged_ontology() -> None:
    from csfkg.curation.reasoning import defined_classes
    from csfkg.model.knowledge import knowledge_graph

    graph = knowledge_graph()
    for cls in defined_classes():
        label = graph.value(cls, RDFS.label)
        owners = set(graph.subjects(RDFS.label, label))
        assert owners == {cls}, f"label {label!r} is shared by {sorted(owners)}"


def test_classes_defined_by_absence_carry_the_open_world_note() -> None:
    tbox = _tbox()
    for name in (
        "PatientWithRedFlag",
        "PatientWithLeakSignsOnMRI",
        "PatientWithOrthostaticHeadacheAbsent",
        "SpinalProcedureOtherThanLeakProcedure",
    ):
        note = str(tbox.value(CSF[name], SKOS.editorialNote))
        assert re.search(r"open[- ]world|cannot conclude|may still be|is in neither", note), name


# =============================================================================================
# Preparing patient records for an OWL 2 DL reasoner (no Java needed)
# =============================================================================================
def test_owl_compatible_turns_dates_into_strings_and_names_blank_node_records() -> None:
    from csfkg.curation.reasoning import owl_compatible

    graph = Graph()
    finding = BNode()
    expression = BNode()
    graph.add((EX.p, RDF.type, CSF.Patient))
    graph.add((EX.p, CSF.symptomOnsetDate, RdfLiteral("2026-01-02", datatype=XSD.date)))
    graph.add((EX.p, CSF.hasFinding, finding))
    graph.add((finding, RDF.type, CSF.OrthostaticHeadache))
    graph.add((expression, RDF.type, OWL.Restriction))
    graph.add((EX.study, CSF.isotropicVoxelMm, RdfLiteral("0.8", datatype=XSD.decimal)))

    converted = owl_compatible(graph)

    assert converted.value(EX.p, CSF.symptomOnsetDate) == RdfLiteral("2026-01-02", datatype=XSD.string)
    assert converted.value(EX.study, CSF.isotropicVoxelMm) == RdfLiteral("0.8", datatype=XSD.decimal)
    named = converted.value(EX.p, CSF.hasFinding)
    assert isinstance(named, URIRef) and (named, RDF.type, CSF.OrthostaticHeadache) in converted
    assert (expression, RDF.type, OWL.Restriction) in converted, "class expressions stay anonymous"
    assert not any(isinstance(o, RdfLiteral) and o.datatype == XSD.date for o in converted.objects())


def test_reasoning_input_has_no_imports_and_all_three_ontologies() -> None:
    from csfkg.curation.reasoning import reasoning_input

    graph = reasoning_input(None)
    assert list(graph.triples((None, OWL.imports, None))) == []
    assert {_local(o) for o in graph.subjects(RDF.type, OWL.Ontology)} == {"ontology", "guideline", "article"}


# =============================================================================================
# HermiT: consistency, classification, inferred types
# =============================================================================================
@needs_java
def test_hermit_classifies_the_defined_classes_as_expected() -> None:
    from csfkg.curation.reasoning import reason

    report = reason(None)
    assert report.consistent and report.unsatisfiable == []
    found = {_local(c.term.iri): {_local(s.iri) for s in c.superclasses} for c in report.classification}
    assert found == EXPECTED_HIERARCHY
    assert all(c.equivalents == [] for c in report.classification), "no two defined classes are equivalent"


@needs_java
def test_the_seed_patient_is_a_patient_with_suspected_post_procedural_leak_and_planned_intervention() -> None:
    from csfkg.curation.reasoning import reason
    from csfkg.io.patient_files import read_patient_file

    report = reason(read_patient_file(SEED))
    (seed,) = report.patients
    assert seed.patient.iri == str(EX.seed)
    assert {_local(t.iri) for t in seed.most_specific} == {
        "PatientWithSuspectedPostProceduralLeakAndPlannedIntervention",
        "PatientWithInsuranceRequiredSpinalProcedure",
    }
    assert {_local(t.iri) for t in seed.defined_types} == {
        "PatientWithOrthostaticHeadache",
        "PatientWithHeadache",
        "PatientWithSuspectedLeak",
        "PatientWithSuspectedPostProceduralLeak",
        "PatientWithPlannedSpinalProcedure",
        "PatientWithInsuranceRequiredSpinalProcedure",
        "PatientWithSuspectedLeakAndPlannedIntervention",
        "PatientWithSuspectedPostProceduralLeakAndPlannedIntervention",
    }


@needs_java
@pytest.mark.parametrize("row", CORRESPONDENCE, ids=lambda r: r.name)
def test_hermit_and_the_sparql_derivation_agree_on_every_vignette(row: Row) -> None:
    disagreements = []
    for patient in sorted(_hermit_types()):
        hermit, sparql = _hermit_side(row, patient), _sparql_side(row, patient)
        if (row.relation == IFF and hermit != sparql) or (row.relation == IMPLIES and hermit and not sparql):
            disagreements.append(f"{patient}: HermiT side {hermit}, SPARQL side {sparql}")
    assert disagreements == [], "\n".join(disagreements)


@needs_java
@pytest.mark.parametrize("row", CORRESPONDENCE, ids=lambda r: r.name)
def test_every_row_of_the_table_is_exercised_both_ways(row: Row) -> None:
    patients = sorted(_hermit_types())
    assert len(patients) == len(_vignette_files()) >= 45
    assert any(_hermit_side(row, p) for p in patients), "no vignette is on the HermiT side of this row"
    assert any(not _sparql_side(row, p) for p in patients), "every vignette is on the SPARQL side of this row"


@needs_java
def test_open_world_a_procedure_of_unknown_kind_is_planned_for_sparql_but_not_for_hermit() -> None:
    """The one known divergence, pinned: SPARQL's FILTER NOT EXISTS reads "not known to be a
    blood patch" as "not a blood patch"; HermiT does not."""
    from csfkg.curation.reasoning import reason
    from csfkg.io.patient_files import read_patient_file
    from csfkg.pipeline.derive import derive

    graph = read_patient_file(FIXTURES / "planned-procedure-of-unknown-kind.ttl")
    patient = EX["planned-procedure-of-unknown-kind"]
    derived = derive(graph).derived
    assert (patient, CSF.meetsCriterion, CSFG["crit-procedure-planned"]) in derived
    (types,) = reason(graph).patients
    assert "PatientWithPlannedSpinalProcedure" not in {_local(t.iri) for t in types.defined_types}
    assert "PatientWithOrthostaticHeadache" in {_local(t.iri) for t in types.defined_types}


INCONSISTENT = FIXTURES / "procedure-both-blood-patch-and-block.ttl"


@cache
def _inconsistent_report():
    from csfkg.curation.reasoning import reason
    from csfkg.io.patient_files import read_patient_file

    return reason(read_patient_file(INCONSISTENT), sources={EX["procedure-both-kinds"]: str(INCONSISTENT)})


@needs_java
def test_an_inconsistent_record_is_named_and_the_consistent_one_is_not() -> None:
    report = _inconsistent_report()
    assert not report.consistent and not report.conforms
    assert not report.ontology_inconsistent
    assert [p.patient.iri for p in report.inconsistent_patients] == [str(EX["procedure-both-kinds"])]
    assert report.inconsistent_patients[0].source == str(INCONSISTENT)
    assert report.classification == [] and report.patients == []


@needs_java
def test_the_text_report_of_an_inconsistent_input_names_the_patient_and_its_file() -> None:
    from csfkg.curation.reasoning import render_text

    text = render_text(_inconsistent_report())
    assert "Consistency: INCONSISTENT." in text
    assert f"ex:procedure-both-kinds ({INCONSISTENT})" in text
    assert "ex:procedure-one-kind" not in text


# =============================================================================================
# csfkg reason
# =============================================================================================
@needs_java
def test_cli_reason_defaults_to_the_seed_patient(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = cli("reason")
    assert result.code == 0, result.err
    assert "Consistency: consistent." in result.out
    assert "Unsatisfiable classes: none." in result.out
    assert "Patient ex:seed (examples/seed-patient.ttl)" in result.out
    seed_part = result.out.split("Patient ex:seed", 1)[1]
    assert "csf:PatientWithSuspectedPostProceduralLeakAndPlannedIntervention" in seed_part
    assert (
        "spinal procedure other than a cerebrospinal fluid leak procedure (csf:SpinalProcedureOtherThanLeakProcedure)"
        in result.out
    )


@needs_java
def test_cli_reason_json_for_several_files(cli) -> None:
    files = [VIGNETTES / "red-flag-with-suspected-leak.ttl", VIGNETTES / "leak-resolved-proceed.ttl"]
    result = cli("reason", *map(str, files), "--format", "json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["consistent"] is True and data["unsatisfiable_classes"] == []
    assert len(data["classification"]) == len(EXPECTED_HIERARCHY)
    by_patient = {p["curie"]: p for p in data["patients"]}
    assert set(by_patient) == {"ex:red-flag-with-suspected-leak", "ex:leak-resolved-proceed"}
    red_flag = {t["curie"] for t in by_patient["ex:red-flag-with-suspected-leak"]["defined_types"]}
    assert "csf:PatientWithRedFlag" in red_flag
    resolved = by_patient["ex:leak-resolved-proceed"]
    assert {t["curie"] for t in resolved["most_specific"]} >= {"csf:PatientWithResolvedLeak"}
    assert resolved["source"] == str(files[1])


@needs_java
def test_cli_reason_exits_1_and_names_the_inconsistent_patient(cli) -> None:
    result = cli("reason", str(INCONSISTENT), "--format", "json")
    assert result.code == 1
    data = result.json()
    assert data["consistent"] is False and data["ontology_inconsistent"] is False
    assert [(p["curie"], p["source"]) for p in data["inconsistent_patients"]] == [
        ("ex:procedure-both-kinds", str(INCONSISTENT))
    ]


def test_cli_reason_without_java_is_one_sentence_and_exit_2(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import owlready2

    monkeypatch.setattr(owlready2, "JAVA_EXE", "/nonexistent/bin/java")
    result = cli("reason", str(SEED))
    assert result.code == 2
    assert result.out == ""
    message = result.err.strip()
    assert (
        message.startswith("csfkg: HermiT needs Java") and message.count("\n") == 0 and message.endswith(".")
    )


def test_cli_reason_reports_a_missing_file_as_exit_2(cli, tmp_path: Path) -> None:
    result = cli("reason", str(tmp_path / "nowhere.ttl"))
    assert result.code == 2
    assert "File not found" in result.err and result.err.count("\n") == 1


def test_cli_reason_rejects_an_unknown_format(cli) -> None:
    result = cli("reason", str(SEED), "--format", "turtle")
    assert result.code == 2
    assert "--format" in result.err


def test_cli_reason_rejects_a_literal_hermit_cannot_read_in_one_sentence(cli, tmp_path: Path) -> None:
    path = tmp_path / "odd-datatype.ttl"
    path.write_text(
        "@prefix csf: <https://w3id.org/csfkg/ontology#> .\n"
        '<https://example.org/csfkg/patient/odd> a csf:Patient ; csf:frequency "daily"^^<https://example.org/myType> .\n',
        encoding="utf-8",
    )
    result = cli("reason", str(path))
    assert result.code == 2 and result.out == ""
    assert "outside the OWL 2 datatype map" in result.err and result.err.count("\n") == 1


@needs_java
def test_console_script_reason_runs_in_a_subprocess(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("csfkg")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "csfkg.cli.main"]
    completed = subprocess.run(
        [*command, "reason", str(SEED), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert [p["curie"] for p in data["patients"]] == ["ex:seed"]
    assert completed.stderr == ""


@needs_java
def test_a_blank_node_patient_with_blank_node_findings_is_still_classified() -> None:
    from csfkg.curation.reasoning import reason

    graph = Graph().parse(
        data="""
        @prefix csf: <https://w3id.org/csfkg/ontology#> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        [] a csf:Patient ; csf:assessmentDate "2026-03-01"^^xsd:date ;
           csf:hasFinding [ a csf:Fever ; csf:findingStatus csf:present ] .
        """,
        format="turtle",
    )
    (patient,) = reason(graph).patients
    assert patient.patient.iri.startswith("https://w3id.org/csfkg/result/blank/")
    assert {_local(t.iri) for t in patient.defined_types} == {"PatientWithRedFlag"}
