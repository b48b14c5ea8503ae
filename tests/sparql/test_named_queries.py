"""The named query library (queries/*.rq other than derive-* and *-violation) and `csfkg query`.

- Every query a user can list is documented (summary, description, parameters with an example
  value, an example command), and its example command runs and returns the rows expected of it.
- Every query gives the same answer on rdflib and on Oxigraph (standard SPARQL 1.1 only).
- The worklist over a set of vignettes returns exactly the patients that qualify, worked out from
  ontology/vignettes/manifest.toml rather than from the code.
- `csfkg query`: formats, parameters bound as terms, the user's own query files, and one clear
  sentence with exit code 2 for each mistake.

Assessments are costly (SHACL validation), so the datasets are built once per module.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import tomllib
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from csfkg.model.codes import RED_FLAG, code_list
from csfkg.pipeline.dataset import QueryDataset, build_dataset
from csfkg.sparql.library import all_queries, get_query
from csfkg.sparql.named import (
    bind_parameters,
    check_remote,
    parameters,
    results_csv,
    results_json,
    results_table,
    to_term,
    user_queries,
)
from csfkg.stores import OxigraphStore, SelectResult, Store

from conftest import DATA, REPO, SEED

CSF = "https://w3id.org/csfkg/ontology#"
CSFG = "https://w3id.org/csfkg/guideline#"
EX = "https://example.org/csfkg/patient/"
VIGNETTES = REPO / "ontology" / "vignettes"
QUERIES = DATA / "queries"
MANIFEST = tomllib.loads((VIGNETTES / "manifest.toml").read_text(encoding="utf-8"))["vignette"]
BY_NAME = {v["name"]: v for v in MANIFEST}

NEW_QUERIES = [
    "next-step", "why", "recommendation-criteria", "protocol-requirements", "evidence-for",
    "expected-findings", "red-flags", "evidence-statements", "worklist", "patients-with-red-flag",
    "algorithm-table", "references", "mappings", "lookup", "article-statements",
    "decision-criteria", "imaging-conformance", "lookup-names",
]  # fmt: skip
# Every vignette that a planned procedure and a suspected leak defer (cb-defer-for-leak), and
# near misses: suspected leak with nothing planned, a blood patch planned, no leak suspected.
COHORT = [
    "seed-article-patient", "red-flag-with-suspected-leak", "orthostatic-unrecorded-leak-on-mri",
    "no-symptoms-leak-on-spine-mri", "leak-onset-unknown", "leak-refractory-mdt",
    "suspected-normal-mri-no-sequences", "suspected-normal-mri-incomplete-protocol",
    "normal-mri-high-suspicion", "suspected-no-mri-nothing-planned", "suspected-brain-only-conforming",
    "leak-blood-patch-with-ebp-planned", "no-symptoms-proceed", "red-flag-no-leak-planned-insurance",
    "red-flag-after-resolved-leak",
]  # fmt: skip
NONCONFORMING = QUERIES / "red-flag-nonconforming.ttl"


def vignette_file(name: str) -> Path:
    return (VIGNETTES / BY_NAME[name]["file"]).resolve()


def patient_iri(name: str) -> str:
    return EX + ("seed" if name == "seed-article-patient" else name)


@cache
def cohort() -> QueryDataset:
    """The cohort and a patient whose record violates a shape, assessed once, in rdflib."""
    return build_dataset([vignette_file(n) for n in COHORT] + [NONCONFORMING])


@cache
def cohort_on_oxigraph() -> Store:
    store = OxigraphStore()
    store.add_graph(cohort().store.graph)  # type: ignore[attr-defined]
    return store


def rows_of(result: SelectResult) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in row.items() if v is not None} for row in result.dicts()]


def select(name: str, **bindings: object) -> list[dict[str, str]]:
    result = cohort().store.query(get_query(name).text, bindings)  # type: ignore[arg-type]
    assert isinstance(result, SelectResult)
    return rows_of(result)


def json_rows(text: str) -> list[dict[str, str]]:
    document = json.loads(text)
    assert set(document) == {"head", "results"}
    return [{k: v["value"] for k, v in b.items()} for b in document["results"]["bindings"]]


# ---------------------------------------------------------------------------------------
# the library and its documentation
# ---------------------------------------------------------------------------------------
def test_list_shows_at_least_ten_queries_with_summaries(cli) -> None:
    result = cli("query", "--list")
    assert result.code == 0 and result.err == ""
    lines = result.out.splitlines()
    assert len(lines) >= 10
    listed = {line.split()[0]: line.split(None, 1)[1] for line in lines}
    for name in NEW_QUERIES:
        assert listed[name] == get_query(name).summary
    assert not any(n.startswith("derive-") or n.endswith("-violation") for n in listed)
    assert set(listed) == {q.name for q in user_queries()}


@pytest.mark.parametrize("name", NEW_QUERIES)
def test_query_is_documented(name: str) -> None:
    query = get_query(name)
    for key in ("summary", "description", "params", "example"):
        assert query.header.get(key), f"{name} has no #+ {key}:"
    assert query.header["example"].startswith(f"csfkg query {name}")
    declared = parameters(query)
    assert declared is not None
    for parameter in declared:
        assert parameter.kind is not None and parameter.example, f"{name}: {parameter}"
        assert f"?{parameter.name}" in query.text
        assert (
            f"--param {parameter.name}=" in query.header["example"]
            or f'"{parameter.name}=' in query.header["example"]
            or parameter.optional
        )
    assert not name.startswith("derive-") and not name.endswith("-violation")


def test_every_named_query_is_in_the_library() -> None:
    assert set(NEW_QUERIES) <= set(all_queries())


# ---------------------------------------------------------------------------------------
# each query's example command, run through the command line, and the rows it must give
# ---------------------------------------------------------------------------------------
def _set(rows: list[dict[str, str]], *keys: str) -> set[tuple[str, ...]]:
    return {tuple(row.get(k, "") for k in keys) for row in rows}


def expect_assessment_dates(rows: list[dict[str, str]]) -> None:
    assert rows == [{"patient": EX + "seed", "text": "2026-01-29"}]


def expect_next_step(rows: list[dict[str, str]]) -> None:
    assert len(rows) == 1
    row = rows[0]
    assert row["patient"] == EX + "seed"
    assert (
        row["action"] == CSFG + "obtain-mri-brain-and-spine" and row["code"] == "obtain-mri-brain-and-spine"
    )
    assert row["branch"] == CSFG + "br-obtain-mri" and row["precedence"] == "45"
    assert row["assessmentDate"] == "2026-01-29" and "blockedBy" not in row


ARTICLE_CLAIMS_IN_WHY = {
    CSFG + name
    for name in (
        "ev-temporal-pathognomonic",
        "ev-two-month-diagnostic",
        "ev-highly-suggestive",
        "ev-worsen-leak",
        "ev-leak-incidence",
        "ev-delayed-presentation",
    )
}


def expect_why(rows: list[dict[str, str]]) -> None:
    assert {r["patient"] for r in rows} == {EX + "seed"}
    assert {r["action"] for r in rows} == {CSFG + "obtain-mri-brain-and-spine"}
    assert {r["role"] for r in rows} == {"next-step"}
    # patient fact -> criterion assessment -> criterion -> branch
    assert _set(rows, "patientFact", "criterion", "branch") == {
        (
            EX + "seed-orthostatic-headache",
            CSFG + "crit-headache-present",
            CSFG + "br-obtain-mri",
        )
    }
    assert all(r["assessment"].startswith("https://w3id.org/csfkg/result/") for r in rows)
    # branch -> evidence statement -> tier -> source -> reference, and corrections
    chain = _set(rows, "statement", "tier", "source", "reference")
    assert (CSFG + "ev-image-before-block", "article-claim", CSFG + "seed-article", "") in chain
    assert (CSFG + "ev-first-line-mri", "guideline", CSFG + "cheema-2023", CSFG + "ref-2") in chain
    # a guideline statement is qualified by a reviewer's note, never "corrected"; an article
    # claim is corrected (one verb each, in two columns)
    assert (CSFG + "ev-first-line-mri", CSFG + "ev-contrast-source-specific") in _set(
        rows, "statement", "qualifiedBy"
    )
    assert set() < {r["statement"] for r in rows if r.get("correctedBy")} <= ARTICLE_CLAIMS_IN_WHY
    assert (CSFG + "ev-image-before-block", CSFG + "ev-safety-grounds") in _set(
        rows, "statement", "qualifiedBy"
    )


def expect_recommendation_criteria(rows: list[dict[str, str]]) -> None:
    next_step = [r for r in rows if r["role"] == "next-step"]
    assert _set(next_step, "relation", "criterion", "met") == {
        ("requires", CSFG + "crit-headache-present", "true"),
        ("excludes", CSFG + "crit-evidence-strong", "false"),
        ("excludes", CSFG + "crit-imaging-to-protocol", "false"),
    }
    fact = next(r for r in next_step if r.get("fact"))
    assert (fact["fact"], fact["factType"], fact["factValue"]) == (
        EX + "seed-orthostatic-headache",
        "orthostatic headache",
        "present",
    )
    defer = [r for r in rows if r["branch"] == CSFG + "cb-defer-for-leak"]
    assert (CSFG + "crit-procedure-planned", EX + "seed-second-mbb", "planned") in _set(
        defer, "criterion", "fact", "factValue"
    )
    assert {r["role"] for r in rows} == {"next-step", "companion"}


def expect_protocol_requirements(rows: list[dict[str, str]]) -> None:
    assert {r["protocol"] for r in rows} == {"spine"}
    order = []
    for row in rows:
        if row["requirement"] not in order:
            order.append(row["requirement"])
    assert order == [
        CSFG + "req-spine-fat-suppressed-t2",
        CSFG + "req-spine-sagittal-t2",
        CSFG + "req-spine-3d-heavy-t2",
    ]
    parameters_ = _set(rows, "requirement", "parameter", "value")
    assert (CSFG + "req-spine-fat-suppressed-t2", CSF + "requiresFatSuppression", "true") in parameters_
    assert (CSFG + "req-spine-sagittal-t2", CSF + "requiredPlane", CSF + "sagittal") in parameters_
    voxel = next(r for r in rows if r.get("parameter") == CSF + "maxIsotropicVoxelMm")
    assert Decimal(voxel["value"]) == Decimal(1)
    assert all(r.get("parameter") != CSF + "sequenceOrder" for r in rows)


def expect_evidence_for(rows: list[dict[str, str]]) -> None:
    assert {r["subject"] for r in rows} == {CSFG + "spine-mri-protocol"}
    main = {r["statement"]: r for r in rows if "correctionOf" not in r}
    assert set(main) == {CSFG + "ev-spine-protocol", CSFG + "ev-first-line-mri"}
    assert (
        main[CSFG + "ev-spine-protocol"]["tier"],
        main[CSFG + "ev-spine-protocol"]["referenceNumber"],
    ) == ("unverified-guideline-detail", "2")
    assert main[CSFG + "ev-first-line-mri"]["source"] == CSFG + "cheema-2023"
    corrections = _set([r for r in rows if "correctionOf" in r], "statement", "correctionOf")
    assert (CSFG + "ev-contrast-source-specific", CSFG + "ev-first-line-mri") in corrections
    # the protocol tolerance of issue 21 qualifies the article's protocol text, which stays
    assert (CSFG + "ev-protocol-tolerance", CSFG + "ev-spine-protocol") in corrections


def expect_expected_findings(rows: list[dict[str, str]]) -> None:
    assert {r["study"] for r in rows} == {"spine-mri"}
    assert {r["finding"] for r in rows if "finding" in r} == {
        CSF + "ExtraduralCSFCollection", CSF + "MeningealDiverticulum", CSF + "DilatedEpiduralVenousPlexus", CSF + "SpinalSubduralHygroma",
    }  # fmt: skip
    about = _set([r for r in rows if "finding" in r and "statement" in r], "finding", "statement", "kind")
    assert (CSF + "ExtraduralCSFCollection", CSFG + "ev-extradural-key-sign", "caveat") in about  # added
    assert (
        CSF + "SpinalSubduralHygroma",
        CSFG + "ev-subdural-hygroma-intracranial",
        "caveat",
    ) in about  # questioned
    listed = [r for r in rows if "finding" not in r]
    assert {r["statement"] for r in listed} == {CSFG + "ev-spine-findings"}
    assert {r["correctedBy"] for r in listed} == {
        CSFG + "ev-extradural-key-sign",
        CSFG + "ev-subdural-hygroma-intracranial",
    }


def expect_red_flags(rows: list[dict[str, str]]) -> None:
    # every red-flag class of the ontology, among them those the article lists (section "Red
    # Flags Requiring Urgent Attention")
    assert {r["code"] for r in rows} == set(code_list(RED_FLAG))
    assert {r["code"] for r in rows} >= {
        "new-severe-back-pain", "new-severe-leg-pain", "lower-limb-weakness", "lower-limb-sensory-change",
        "urinary-incontinence", "fecal-incontinence", "fever", "worsening-headache", "altered-mental-status",
    }  # fmt: skip
    assert all(r["definition"].startswith("a red flag sign that") for r in rows)


def expect_evidence_statements(rows: list[dict[str, str]]) -> None:
    assert {r["tier"] for r in rows} == {"article-claim"} and {r["rank"] for r in rows} == {"5"}
    assert (CSFG + "ev-leak-incidence", CSFG + "ref-1", "1") in _set(
        rows, "statement", "reference", "referenceNumber"
    )
    assert (CSFG + "ev-temporal-pathognomonic", CSFG + "ev-orthostatic-not-sufficient") in _set(
        rows, "statement", "correctedBy"
    )
    assert CSFG + "ev-normal-brain-19" not in {r["statement"] for r in rows}  # meta-analysis tier


def expect_worklist(rows: list[dict[str, str]]) -> None:
    assert _set(rows, "patient", "procedureType", "planReason", "nextStep") == {
        (EX + "seed", "medial branch block", "insurance-step-therapy", "obtain-mri-brain-and-spine"),
        (
            EX + "suspected-normal-mri-incomplete-protocol",
            "medial branch block",
            "insurance-step-therapy",
            "obtain-mri-brain-and-spine",
        ),
    }


def expect_patients_with_red_flag(rows: list[dict[str, str]]) -> None:
    assert _set(rows, "patient", "code", "nextStep") == {
        (EX + "red-flag-with-suspected-leak", "fever", "urgent-evaluation"),
        (EX + "red-flag-after-resolved-leak", "new-severe-back-pain", "urgent-evaluation"),
    }


def expect_algorithm_table(rows: list[dict[str, str]]) -> None:
    by_branch = {r["branch"]: r for r in rows}
    assert rows[0]["branch"] == CSFG + "br-red-flag" and rows[0]["precedence"] == "10"
    obtain = by_branch[CSFG + "br-obtain-mri"]
    assert (obtain["requires"], obtain["excludes"], obtain["action"], obtain["precedence"]) == (
        "headache-present", "evidence-strong, imaging-to-protocol", "obtain-mri-brain-and-spine", "45",
    )  # fmt: skip
    assert by_branch[CSFG + "br-normal-mri-suspicion-unrecorded"]["blockedBy"] == "clinical-suspicion"
    assert (
        by_branch[CSFG + "cb-defer-for-leak"]["kind"] == "companion branch"
        and "precedence" not in by_branch[CSFG + "cb-defer-for-leak"]
    )
    # every branch the vignettes expect is a row of the table
    expected = {v["expected_branch"] for v in MANIFEST} | {
        b for v in MANIFEST for b in v["expected_companion_branches"]
    }
    assert {CSFG + b for b in expected} <= set(by_branch)
    orders = [int(r["order"]) for r in rows]
    assert orders == sorted(orders)


def expect_references(rows: list[dict[str, str]]) -> None:
    numbered = [r for r in rows if "number" in r]
    assert [r["number"] for r in numbered] == ["1", "2", "3", "4", "5"] and rows[:5] == numbered
    by_iri = {r["reference"]: r for r in rows}
    assert by_iri[CSFG + "cheema-2023"]["identifier"] == "doi:10.1136/jnnp-2023-331166"
    assert int(by_iri[CSFG + "seed-article"]["sourceOf"]) > 20 and int(by_iri[CSFG + "ref-1"]["citedBy"]) > 0


def expect_mappings(rows: list[dict[str, str]]) -> None:
    assert _set(rows, "term", "relation", "curie") == {
        (CSF + "SpontaneousSpinalCSFLeak", "exact match", "ICD10CM:G96.02"),
        (CSF + "SpontaneousSpinalCSFLeak", "broad match", "HP:0032934"),
    }


def expect_lookup(rows: list[dict[str, str]]) -> None:
    first = rows[0]
    assert (first["node"], first["score"], first["matchedOn"], first["kind"]) == (
        CSF + "stir",
        "0",
        "synonym",
        "individual",
    )
    assert CSFG + "req-spine-fat-suppressed-t2" in {r["node"] for r in rows}
    assert len({r["node"] for r in rows}) == len(rows)


def expect_lookup_names(rows: list[dict[str, str]]) -> None:
    names = _set(rows, "node", "name", "nameKind")
    assert {
        (CSF + "stir", "STIR", "synonym"),
        (CSF + "stir", "short tau inversion recovery", "label"),
        (CSF + "stir", "stir", "code"),
    } <= names
    assert len(names) == len(rows) and all(r["node"].startswith("http") for r in rows)  # IRIs only


def expect_article_statements(rows: list[dict[str, str]]) -> None:
    assert {r["section"] for r in rows} == {"Red Flags Requiring Urgent Attention"}
    order: list[str] = []
    for row in rows:
        if row["statement"] not in order:
            order.append(row["statement"])
    assert order == [f"{CSFG}article-red-flags-{n}" for n in range(1, 7)]
    assert {r["tier"] for r in rows} == {"article-claim"}


def expect_decision_criteria(rows: list[dict[str, str]]) -> None:
    by_code = {r["code"]: r for r in rows}
    guideline = Graph().parse(REPO / "ontology" / "guideline.ttl")
    assert (
        len(rows)
        == len(set(guideline.subjects(RDF.type, URIRef("https://w3id.org/csfkg/ontology#DecisionCriterion"))))
        >= 29
    )
    assert (
        by_code["onset-recent"]["thresholdDays"] == "14"
        and by_code["two-non-targeted-ebps"]["thresholdCount"] == "2"
    )
    names = set(all_queries())
    assert all(r["derivedBy"].rsplit("/", 1)[-1] in names for r in rows)
    assert int(by_code["headache-present"]["requiredBy"]) >= 13  # rows 7 to 16


def expect_imaging_conformance(rows: list[dict[str, str]]) -> None:
    # the vignette: brain study without a susceptibility sequence, spine study without a heavily
    # T2-weighted 3D sequence, both normal
    assert {(r["protocol"], r["result"], r["conforms"]) for r in rows} == {
        ("brain", "normal", "false"),
        ("spine", "normal", "false"),
    }
    missing = {r["requirement"] for r in rows if r["met"] == "false"}
    assert missing == {CSFG + "req-brain-susceptibility", CSFG + "req-spine-3d-heavy-t2"}
    assert len(rows) == 8


def expect_report_recommendations(rows: list[dict[str, str]]) -> None:
    assert rows[0]["roleCode"] == "next-step" and rows[0]["code"] == "obtain-mri-brain-and-spine"
    assert {r["code"] for r in rows[1:]} == set(BY_NAME["seed-article-patient"]["expected_companions"])


def expect_report_missing_data(rows: list[dict[str, str]]) -> None:
    assert [r["code"] for r in rows] == ["red-flag-screen", "brain-mri", "spine-mri"]


def expect_report_bern_score(rows: list[dict[str, str]]) -> None:
    # examples/bern-score-patient.ttl: pachymeningeal enhancement 2 + venous sinus engorgement 2
    # + prepontine cistern 5.0 mm (at most 5.0) 1; suprasellar 4.5 mm (above 4.0) 0; subdural
    # collection absent 0; mamillopontine distance not measured
    assert [(r["score"], r["classCode"], r["missingCode"]) for r in rows] == [
        ("5", "high", "mamillopontine-distance")
    ]


def expect_report_recommendation_evidence(rows: list[dict[str, str]]) -> None:
    assert CSFG + "ev-image-before-block" in {r["statement"] for r in rows}
    # the article's patient: symptoms four days after the block, so its "temporal relationship"
    # claim is cited (csf:citedOnlyWhen crit-onset-post-procedural), with its corrections
    assert CSFG + "ev-temporal-pathognomonic" in {r["statement"] for r in rows}
    assert CSFG + "ev-mbb-extracanal" in {r["statement"] for r in rows if r.get("correctionOf")}
    # the claims the graph corrects are contested, never support; what it qualifies still supports
    contested = {r["statement"] for r in rows if not r.get("correctionOf") and r["contested"] == "true"}
    assert {
        CSFG + "ev-temporal-pathognomonic",
        CSFG + "ev-two-month-diagnostic",
        CSFG + "ev-leak-incidence",
    } <= (contested)
    assert CSFG + "ev-first-line-mri" not in contested and CSFG + "ev-brain-protocol" not in contested
    # the article's reference numbers are read (regression: ?cited was bound twice, so never)
    assert ("1", CSFG + "ev-leak-incidence") in _set(rows, "citedNumber", "statement")


def expect_report_source_status(rows: list[dict[str, str]]) -> None:
    assert [(r["caveat"], r["label"]) for r in rows] == [
        (CSFG + "ev-article-pending-review", "the article is pending human review")
    ]


def expect_report_deferred_procedures(rows: list[dict[str, str]]) -> None:
    # the article's patient: the second, planned round of medial branch blocks
    assert [(r["procedure"], r["label"]) for r in rows] == [(EX + "seed-second-mbb", "medial branch block")]


def expect_report_red_flag_screen(rows: list[dict[str, str]]) -> None:
    # the article's patient has no red flag recorded: every one of the ontology's, spinal compression first
    assert sorted(r["code"] for r in rows) == sorted(code_list(RED_FLAG))
    assert rows[0]["code"] == "fecal-incontinence" and rows[-1]["code"] == "worsening-headache"


def expect_report_rules_tried(rows: list[dict[str, str]]) -> None:
    # the article's patient gets its next step from br-obtain-mri (precedence 45): the rules of
    # lower precedence come first, in order; the red-flag rule is out because no red flag is
    # present, the "orthostatic headache not recorded" rule because the headache is present
    precedences = [int(r["precedence"]) for r in rows]
    assert precedences == sorted(precedences) and precedences[0] == 10 and max(precedences) < 45
    first = [(r["branch"], r["relation"], r["criterion"]) for r in rows if int(r["precedence"]) <= 20]
    assert first == [
        (CSFG + "br-red-flag", "requires", CSFG + "crit-red-flag-present"),
        (CSFG + "br-orthostatic-unrecorded", "excludes", CSFG + "crit-orthostatic-present"),
    ]
    assert CSFG + "br-obtain-mri" not in {r["branch"] for r in rows}


def expect_report_headache_subtype(rows: list[dict[str, str]]) -> None:
    # the article's patient: orthostatic headache from 2025-12-01, after the medial branch block of
    # 2025-11-27 (no dural puncture recorded): ICHD-3 7.2.2, CSF fistula headache after a procedure
    assert [(r["subtype"], r["code"]) for r in rows] == [(CSFG + "subtype-csf-fistula", "post-procedural")]
    assert "7.2.2" in rows[0]["label"] and rows[0]["statementText"]


def expect_report_red_flag_actions(rows: list[dict[str, str]]) -> None:
    # the vignette's fever and new severe back pain, each with the group the issue-21 clinical
    # review puts it in (manifest: expected_red_flag_actions), and that group's evidence
    assert _set(rows, "groupCode", "flagCode") == {
        ("infection", "fever"), ("spinal-compression", "new-severe-back-pain"),
    }  # fmt: skip
    assert {r["groupCode"] for r in rows} == set(
        BY_NAME["red-flag-fever-and-back-pain"]["expected_red_flag_actions"]
    )
    # the groups in the order the issue lists them: spinal compression, infection, intracranial
    assert [r["groupCode"] for r in rows] == ["spinal-compression", "infection"]
    assert {r["tier"] for r in rows} == {"clinical-review"}
    assert "meningitis or epidural abscess" in next(
        r["actionText"] for r in rows if r["groupCode"] == "infection"
    )


def expect_report_action_protocols(rows: list[dict[str, str]]) -> None:
    assert [r["protocolCode"] for r in rows] == ["brain"] * 5 + ["spine"] * 3


def expect_report_imaging_orders(rows: list[dict[str, str]]) -> None:
    # MRI brain with contrast and MRI spine, by the LOINC codes the ontology maps them to
    assert [(r["studyClass"].rsplit("#", 1)[-1], r["code"]) for r in rows] == [
        ("BrainMRIWithContrast", "https://loinc.org/24587-8"),
        ("SpineMRI", "https://loinc.org/36531-2"),
    ]


def expect_planned_spinal_procedures(rows: list[dict[str, str]]) -> None:
    # the article's patient: the second round of medial branch blocks, named by its own class
    assert [(r["procedure"], r["label"]) for r in rows] == [(EX + "seed-second-mbb", "medial branch block")]


def expect_report_urgency(rows: list[dict[str, str]]) -> None:
    # the article's patient: no red flag recorded, the planned block deferred
    assert [r["urgency"] for r in rows] == ["warning"]


def expect_report_algorithm_diagram(rows: list[dict[str, str]]) -> None:
    # 27 next-step branches (the 16 rows of issue 21) and 9 companion branches, red flags drawn first
    assert len(rows) == 36
    assert rows[0]["branchCode"] == "red-flag" and rows[0]["actionCode"] == "urgent-evaluation"
    assert sum(r["companion"] == "true" for r in rows) == 9
    assert all(r["companion"] == "true" for r in rows[-9:])


def expect_report_algorithm_conditions(rows: list[dict[str, str]]) -> None:
    # when each branch applies, with labels: its criteria and, for a companion, the branches it accompanies
    assert {r["relation"] for r in rows} == {
        CSF + "requiresCriterion", CSF + "excludesCriterion", CSF + "accompanies",
    }  # fmt: skip
    red_flag = [r for r in rows if r["branch"] == CSFG + "br-red-flag"]
    assert [(r["conditionCode"], r["conditionLabel"]) for r in red_flag] == [
        ("red-flag-present", "a red flag is present")
    ]
    defer = [
        r
        for r in rows
        if r["branch"] == CSFG + "cb-defer-for-red-flag" and r["relation"] == CSF + "accompanies"
    ]
    assert [(r["condition"], r["conditionPrecedence"]) for r in defer] == [(CSFG + "br-red-flag", "10")]
    assert all(r["conditionLabel"] and r["conditionLabel"] != r["conditionCode"] for r in rows)
    assert len({r["branch"] for r in rows}) == 36  # every branch of expect_report_algorithm_diagram


CHECKS = {
    name.removeprefix("expect_").replace("_", "-"): check
    for name, check in globals().items()
    if name.startswith("expect_")
}


def test_every_listed_query_has_a_check() -> None:
    assert set(CHECKS) == {q.name for q in user_queries()}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_command_gives_the_expected_rows(cli, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(REPO)
    argv = shlex.split(get_query(name).header["example"])
    assert argv[:3] == ["csfkg", "query", name]
    result = cli(*argv[1:], "--format", "json")
    assert result.code == 0, result.err
    assert result.err == ""
    rows = json_rows(result.out)
    assert rows, f"{name}: the example gives no rows"
    CHECKS[name](rows)


# ---------------------------------------------------------------------------------------
# the worklist, from the manifest
# ---------------------------------------------------------------------------------------
def _flag_values(flags: list[str], flag: str) -> list[str]:
    return [flags[i + 1] for i, f in enumerate(flags[:-1]) if f == flag]


STRONG_SIGNS = {"extradural-csf-collection", "brain-sagging", "pachymeningeal-enhancement"}
LEAK_PROCEDURES = {
    "epidural-blood-patch",
    "myelography",
    "fibrin-glue",
    "surgical-repair",
    "fistula-embolisation",
}


def qualifies_for_worklist(vignette: dict) -> bool:
    """Planned spinal intervention and suspected leak without adequate MRI, from the manifest's
    flags (the criteria of the branch that recommends MRI, issue 21): a planned procedure that is
    not a CSF leak procedure, a headache of either kind present, no definite or probable imaging
    evidence, and brain and spine MRI not both to protocol."""
    from csfkg.model.codes import BRAIN_MRI_FINDING, code_list

    flags = vignette["flags"]
    if not set(_flag_values(flags, "--planned-procedure")) - LEAK_PROCEDURES:
        return False
    if not {"orthostatic-headache", "non-orthostatic-headache"} & set(_flag_values(flags, "--symptom")):
        return False
    findings = set(_flag_values(flags, "--finding"))
    itemised = {"brain" if f in code_list(BRAIN_MRI_FINDING) else "spine" for f in findings}
    reported = {r for r in ("brain", "spine") if _flag_values(flags, f"--{r}-mri") == ["leak-signs"]}
    strong = (
        bool(findings & STRONG_SIGNS)
        or bool(reported - itemised)
        or "leak-localised" in _flag_values(flags, "--myelography")
    )
    studies = _flag_values(flags, "--brain-mri") + _flag_values(flags, "--spine-mri")
    to_protocol = (
        len(studies) == 2
        and "not-done" not in studies
        and _flag_values(flags, "--mri-protocol") == ["complete"]
    )
    return not strong and not to_protocol


def test_worklist_returns_exactly_the_patients_that_qualify() -> None:
    expected = {patient_iri(n) for n in COHORT if qualifies_for_worklist(BY_NAME[n])}
    # the seed patient, a red flag with a headache, two inadequate MRIs, a non-orthostatic headache,
    # a post-dural puncture headache and two resolved ones (listed with their own next steps)
    assert len(expected) >= 4 and EX + "seed" in expected
    assert {r["patient"] for r in select("worklist")} == expected


def test_worklist_lists_a_patient_whose_red_flag_outranks_imaging() -> None:
    rows = {r["patient"]: r for r in select("worklist")}
    assert rows[EX + "red-flag-with-suspected-leak"]["nextStep"] == "urgent-evaluation"
    assert rows[EX + "suspected-normal-mri-no-sequences"]["procedureType"] == "dural puncture"


def test_worklist_query_joins_instead_of_nested_negation() -> None:
    text = get_query("worklist").text.split("WHERE", 1)[1]
    assert "NOT EXISTS" not in text and "MINUS" not in text


def test_patients_with_red_flag_lists_a_patient_whose_record_does_not_conform() -> None:
    assert cohort().non_conforming == [EX + "red-flag-nonconforming"]
    expected = {
        (patient_iri(n), code) for n in COHORT for code in _flag_values(BY_NAME[n]["flags"], "--red-flag")
    }
    expected.add((EX + "red-flag-nonconforming", "fever"))
    rows = select("patients-with-red-flag")
    assert _set(rows, "patient", "code") == expected
    assert {r["patient"] for r in rows if "nextStep" not in r} == {EX + "red-flag-nonconforming"}


def test_next_step_without_parameter_gives_every_assessed_patient_its_expected_step() -> None:
    rows = {r["patient"]: r["code"] for r in select("next-step")}
    assert rows == {patient_iri(n): BY_NAME[n]["expected_next_step"] for n in COHORT}


# ---------------------------------------------------------------------------------------
# rdflib and Oxigraph agree
# ---------------------------------------------------------------------------------------
def _normal(term: object) -> object:
    if isinstance(term, BNode):
        return "_:"
    if isinstance(term, Literal) and term.datatype in (XSD.decimal, XSD.double, XSD.float, XSD.integer):
        return (str(term.datatype), Decimal(str(term.toPython())))
    if isinstance(term, Literal) and re.fullmatch(r"[a-z0-9-]+( [a-z0-9-]+)+", str(term)):
        return " ".join(sorted(str(term).split()))  # a GROUP_CONCAT of codes: its order is the engine's
    return term


def _example_bindings(name: str) -> dict[str, object]:
    argv = shlex.split(get_query(name).header["example"])
    values = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--param", "-p")]
    declared = {p.name: p for p in parameters(get_query(name)) or []}
    return {k: to_term(v, declared[k].kind, name=k) for k, v in (value.split("=", 1) for value in values)}


@pytest.mark.parametrize("name", sorted(q.name for q in user_queries()))
def test_rdflib_and_oxigraph_give_the_same_answer(name: str) -> None:
    query = get_query(name)
    declared = parameters(query) or []
    runs = [_example_bindings(name)] if not name.startswith("report-") else []
    if all(p.optional for p in declared) or name.startswith("report-"):
        # the report-* queries bind a parameter they do not project, which Oxigraph's
        # substitutions refuse: they are compared over every patient, unbound
        runs.append({})
    for bindings in runs:
        a = cohort().store.query(query.text, bindings)  # type: ignore[arg-type]
        b = cohort_on_oxigraph().query(query.text, bindings)  # type: ignore[arg-type]
        assert isinstance(a, SelectResult) and isinstance(b, SelectResult)
        assert a.variables == b.variables
        left = [tuple(_normal(t) for t in row) for row in a.rows]
        right = [tuple(_normal(t) for t in row) for row in b.rows]
        assert sorted(left, key=repr) == sorted(right, key=repr), bindings
        # report-* order one patient's rows; run here over every patient, their order is a tie
        if not name.startswith("report-") and not any(isinstance(t, BNode) for row in a.rows for t in row):
            assert left == right, f"{name}: same rows, different order"
        assert a.rows or name in ("patients-with-red-flag",) or bindings, f"{name} gave no rows"


# ---------------------------------------------------------------------------------------
# `csfkg query`: formats and the user's own queries
# ---------------------------------------------------------------------------------------
def test_table_uses_prefixed_names_and_aligned_columns(cli) -> None:
    result = cli("query", "next-step", str(SEED), "--param", "patient=ex:seed")
    assert result.code == 0
    header, rule, row = result.out.splitlines()
    assert header.split()[:3] == ["patient", "assessmentDate", "action"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert row.split()[:3] == ["ex:seed", "2026-01-29", "csfg:obtain-mri-brain-and-spine"]
    assert header.index("action") == row.index("csfg:obtain-mri-brain-and-spine")


def test_csv_is_the_sparql_results_csv_format(cli) -> None:
    result = cli("query", "next-step", str(SEED), "--format", "csv")
    lines = result.out.split("\r\n")
    assert lines[0] == "patient,assessmentDate,action,code,label,branch,precedence,rationale,blockedBy"
    assert lines[1].startswith(f"{EX}seed,2026-01-29,{CSFG}obtain-mri-brain-and-spine,")
    assert lines[-1] == "" and len(lines) == 3


def test_json_is_the_sparql_results_json_format(cli) -> None:
    document = json.loads(cli("query", "next-step", str(SEED), "--format", "json").out)
    assert document["head"]["vars"][:3] == ["patient", "assessmentDate", "action"]
    binding = document["results"]["bindings"][0]
    assert binding["patient"] == {"type": "uri", "value": EX + "seed"}
    assert binding["assessmentDate"] == {"type": "literal", "value": "2026-01-29", "datatype": str(XSD.date)}
    assert binding["code"] == {"type": "literal", "value": "obtain-mri-brain-and-spine"}
    assert "blockedBy" not in binding  # unbound


# Every kind of term a row can hold, and a literal that CSV must quote.
EVERY_KIND = SelectResult(
    ["iri", "node", "text", "typed", "tagged", "string"],
    [
        (
            URIRef(EX + "seed"),
            BNode("b0"),
            Literal('says "stop", then\nwaits'),
            Literal("2026-01-29", datatype=XSD.date),
            Literal("Kopfschmerz", lang="de"),
            Literal("plain", datatype=XSD.string),
        ),
        (None, None, Literal("ünïcode"), None, None, None),
    ],
)


def test_json_writes_every_kind_of_term_as_the_recommendation_says() -> None:
    document = json.loads(results_json(EVERY_KIND))
    assert document == {
        "head": {"vars": ["iri", "node", "text", "typed", "tagged", "string"]},
        "results": {
            "bindings": [
                {
                    "iri": {"type": "uri", "value": EX + "seed"},
                    "node": {"type": "bnode", "value": "b0"},
                    "text": {"type": "literal", "value": 'says "stop", then\nwaits'},
                    "typed": {"type": "literal", "value": "2026-01-29", "datatype": str(XSD.date)},
                    "tagged": {"type": "literal", "value": "Kopfschmerz", "xml:lang": "de"},
                    "string": {"type": "literal", "value": "plain"},
                },
                {"text": {"type": "literal", "value": "ünïcode"}},
            ]
        },
    }


def test_csv_quotes_what_it_must_and_reads_back_with_the_csv_module() -> None:
    text = results_csv(EVERY_KIND)
    assert text.endswith("\r\n") and text.count("\r\n") == 3  # the newline inside a value is quoted
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["iri", "node", "text", "typed", "tagged", "string"],
        [EX + "seed", "_:b0", 'says "stop", then\nwaits', "2026-01-29", "Kopfschmerz", "plain"],
        ["", "", "ünïcode", "", "", ""],
    ]


def test_table_shows_prefixed_names_and_brackets_what_has_none() -> None:
    result = SelectResult(
        ["a", "b", "c"],
        [(URIRef(EX + "seed"), URIRef("urn:example:x"), URIRef("http://purl.obolibrary.org/obo/HP_0002315"))],
    )
    assert results_table(result).splitlines()[2].split() == ["ex:seed", "<urn:example:x>", "HP:0002315"]


def test_today_changes_the_assessment(cli) -> None:
    rows = json_rows(cli("query", "next-step", str(SEED), "--today", "2026-03-01", "-f", "json").out)
    assert rows[0]["assessmentDate"] == "2026-03-01"


def test_output_file(cli, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    result = cli("query", "references", "--format", "csv", "--output", str(target))
    assert result.code == 0 and result.out == ""
    assert target.read_text(encoding="utf-8").startswith("reference,number,label")


def test_user_select_query_file_with_declared_parameter(cli) -> None:
    result = cli(
        "query",
        "--file",
        str(QUERIES / "patient-findings.rq"),
        str(SEED),
        "--param",
        "patient=ex:seed",
        "-f",
        "json",
    )
    assert result.code == 0, result.err
    assert _set(json_rows(result.out), "finding", "class", "status") == {
        (EX + "seed-orthostatic-headache", CSF + "OrthostaticHeadache", CSF + "present")
    }


def test_user_query_without_header_binds_any_of_its_variables(cli) -> None:
    result = cli("query", "--file", str(QUERIES / "no-header.rq"), "--param", "code=fever", "-f", "json")
    assert json_rows(result.out) == [{"code": "fever", "label": "fever"}]


def test_construct_query_gives_turtle(cli) -> None:
    result = cli("query", "--file", str(QUERIES / "next-step-graph.rq"), str(SEED))
    assert result.code == 0
    graph = Graph().parse(data=result.out, format="turtle")
    assert set(graph) == {
        (URIRef(EX + "seed"), URIRef(CSF + "recommendedAction"), URIRef(CSFG + "obtain-mri-brain-and-spine"))
    }
    assert "csfg:obtain-mri-brain-and-spine" in result.out


def test_ask_query_in_json_and_table(cli) -> None:
    path = str(QUERIES / "has-next-step.rq")
    assert json.loads(cli("query", "--file", path, str(SEED), "-f", "json").out) == {
        "head": {},
        "boolean": True,
    }
    assert cli("query", "--file", path).out == "false\n"  # no patient given, nothing derived


def test_parameter_values_are_bound_as_terms_not_spliced_into_the_text(cli) -> None:
    injection = 'x") } UNION { ?node ?p ?o } FILTER ("1'
    result = cli("query", "lookup", "--param", f"text={injection}", "-f", "json")
    assert result.code == 0 and json_rows(result.out) == []


def test_non_conforming_patient_data_exits_1_after_the_results(cli) -> None:
    result = cli("query", "patients-with-red-flag", str(NONCONFORMING), "-f", "json")
    assert result.code == 1
    assert json_rows(result.out)[0]["patient"] == EX + "red-flag-nonconforming"
    assert (
        result.err.count("\n") == 1
        and "red-flag-nonconforming" in result.err
        and "does not conform" in result.err
    )


# ---------------------------------------------------------------------------------------
# mistakes: one sentence, exit code 2
# ---------------------------------------------------------------------------------------
def one_sentence(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    assert "Traceback" not in text and lines[0].startswith("csfkg: ")
    return lines[0]


@pytest.mark.parametrize(
    "args, words",
    [
        (["query", "no-such-query"], ["no query named 'no-such-query'", "--list"]),
        (["query"], ["Give a query NAME"]),
        (["query", "--list", "next-step"], ["--list"]),
        (["query", "next-step", "--param", "colour=blue"], ["no parameter 'colour'", "patient"]),
        (["query", "next-step", "--param", "patient"], ["NAME=VALUE"]),
        (["query", "next-step", "--param", "=ex:seed"], ["NAME=VALUE"]),
        (
            ["query", "next-step", "--param", "patient=ex:seed", "--param", "patient=ex:other"],
            ["given twice"],
        ),
        (["query", "next-step", "--param", "patient=seed"], ["needs an IRI", "'seed'"]),
        (["query", "next-step", "--param", "patient=<not an iri>"], ["not a valid IRI"]),
        (["query", "evidence-statements", "--param", 'tier="x"^^nope:type'], ["unknown prefix"]),
        (["query", "lookup"], ["needs --param text="]),
        (["query", "next-step", "--format", "ttl"], ["--format ttl", "SELECT"]),
        (["query", "next-step", "--today", "2026-02-30"], ["--today 2026-02-30", "does not exist"]),
        (["query", "next-step", "--today", "2026-2-3"], ["--today", "YYYY-MM-DD"]),
        (["query", "next-step", "no/such/patient.ttl"], ["File not found"]),
        (["query", "--file", "no/such/query.rq"], ["Query file not found"]),
        (["query", "--file", str(QUERIES / "malformed.rq")], ["not a valid SPARQL 1.1 query", "line 5"]),
        (["query", "--file", str(QUERIES / "update.rq")], ["SPARQL Update"]),
        (["query", "--file", str(QUERIES / "service.rq")], ["SERVICE", "--allow-remote"]),
        (["query", "--file", str(QUERIES / "load.rq")], ["LOAD", "--allow-remote"]),
        (
            ["query", "--file", str(QUERIES / "from-remote.rq")],
            ["FROM", "https://example.org/graphs/cohort", "--allow-remote"],
        ),
        (
            ["query", "--file", str(QUERIES / "no-header.rq"), "--param", "patient=ex:seed"],
            ["no variable ?patient"],
        ),
    ],
)
def test_mistakes_give_exit_2_and_one_sentence(cli, args: list[str], words: list[str]) -> None:
    result = cli(*args)
    assert result.code == 2
    line = one_sentence(result.err)
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"
    assert result.out == ""


def test_empty_query_file(cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.rq"
    empty.write_text("# nothing\n")
    result = cli("query", "--file", str(empty))
    assert result.code == 2 and "not a valid SPARQL" in one_sentence(result.err)


def test_remote_check_ignores_comments_and_strings_and_allows_local_graphs() -> None:
    check_remote((QUERIES / "has-next-step.rq").read_text(), allow_remote=False, source="q")
    check_remote("SELECT * FROM <file:///tmp/local.ttl> WHERE { ?s ?p ?o }", allow_remote=False, source="q")
    check_remote((QUERIES / "service.rq").read_text(), allow_remote=True, source="q")
    # variables and prefixed names that spell a keyword are not the keyword
    check_remote(
        "SELECT ?service ?load WHERE { ?s ?from <http://x.org/y> ; ex:service ?load }",
        allow_remote=False,
        source="q",
    )


# ---------------------------------------------------------------------------------------
# parameter values
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, kind, term",
    [
        ("ex:seed", "iri", URIRef(EX + "seed")),
        ("<https://example.org/x>", None, URIRef("https://example.org/x")),
        ("https://example.org/x", None, URIRef("https://example.org/x")),
        ("csfg:obtain-mri-brain-and-spine", None, URIRef(CSFG + "obtain-mri-brain-and-spine")),
        ("HP:0001945", None, Literal("HP:0001945")),
        ("HP:0001945", "string", Literal("HP:0001945")),
        ("42", None, Literal("42", datatype=XSD.integer)),
        ("42", "string", Literal("42")),
        ("1.5", None, Literal("1.5", datatype=XSD.decimal)),
        ('"2026-01-29"^^xsd:date', None, Literal("2026-01-29", datatype=XSD.date)),
        ("2026-01-29", "date", Literal("2026-01-29", datatype=XSD.date)),
        ('"head pressure"@en', None, Literal("head pressure", lang="en")),
        ('"say \\"hi\\""', None, Literal('say "hi"')),
        ("blood patch", None, Literal("blood patch")),
    ],
)
def test_parameter_value_to_term(value: str, kind: str | None, term: object) -> None:
    assert to_term(value, kind) == term and type(to_term(value, kind)) is type(term)


def test_optional_parameters_stay_unbound() -> None:
    assert bind_parameters(get_query("next-step"), []) == {}
    assert bind_parameters(get_query("why"), ["action=csfg:epidural-blood-patch"]) == {
        "action": URIRef(CSFG + "epidural-blood-patch")
    }


def test_every_parameter_is_a_projected_variable() -> None:
    """A parameter is bound to a variable the query projects (Oxigraph's substitutions need it)."""
    for name in NEW_QUERIES:
        query = get_query(name)
        projection = query.text.split("WHERE", 1)[0]
        for parameter in parameters(query) or []:
            assert f"?{parameter.name}" in projection, f"{name} does not project ?{parameter.name}"


def test_dataset_holds_knowledge_patients_and_derivation() -> None:
    graph = cohort().store.graph  # type: ignore[attr-defined]
    assert (URIRef(EX + "seed"), RDF.type, URIRef(CSF + "Patient")) in graph
    assert (URIRef(CSFG + "article-red-flags-1"), None, None) in graph  # the article's statements
    assert (URIRef(EX + "seed"), URIRef(CSF + "hasNextStep"), None) in graph  # derived
