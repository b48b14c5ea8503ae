"""Lookups for a person at a terminal: `csfkg protocol`, `findings`, `red-flags`, `lookup`,
`explain`, in text and JSON, read from the graph through the named queries."""

from __future__ import annotations

import json

import pytest

from csfkg.lookups.guideline import findings, lookup, protocol, red_flags
from csfkg.model.codes import BRAIN_MRI_FINDING, RED_FLAG, code_list

from conftest import DATA, REPO, SEED

CSF = "https://w3id.org/csfkg/ontology#"
CSFG = "https://w3id.org/csfkg/guideline#"
EX = "https://example.org/csfkg/patient/"
VIGNETTES = REPO / "ontology" / "vignettes"


def explained(cli, *args: str) -> dict:
    """The JSON of ``csfkg explain ARGS``."""
    result = cli("explain", *args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def one_sentence(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("csfkg: ") and "Traceback" not in text, text
    return lines[0]


# ---------------------------------------------------------------------------------------
# csfkg protocol brain|spine
# ---------------------------------------------------------------------------------------
def test_spine_protocol_lists_the_three_sequences_in_order_with_parameters() -> None:
    data = protocol("spine")
    assert data["protocol"]["iri"] == CSFG + "spine-mri-protocol"
    assert [r["iri"] for r in data["requirements"]] == [
        CSFG + "req-spine-fat-suppressed-t2", CSFG + "req-spine-sagittal-t2", CSFG + "req-spine-3d-heavy-t2",
    ]  # fmt: skip
    first = {p["iri"]: p["values"] for p in data["requirements"][0]["parameters"]}
    assert first[CSF + "requiresFatSuppression"] == [{"value": True, "label": None}]
    assert first[CSF + "requiredWeighting"] == [{"value": CSF + "t2Weighting", "label": "T2 weighting"}]
    third = {p["iri"]: p["values"] for p in data["requirements"][2]["parameters"]}
    assert third[CSF + "maxIsotropicVoxelMm"][0]["value"] == 1.0


def test_spine_protocol_evidence_has_tier_source_and_corrections() -> None:
    evidence = {e["iri"]: e for e in protocol("spine")["evidence"]}
    assert set(evidence) == {CSFG + "ev-first-line-mri", CSFG + "ev-spine-protocol"}
    first_line = evidence[CSFG + "ev-first-line-mri"]
    assert (first_line["tier"], first_line["sources"], first_line["cites_references"]) == (
        "guideline", ["UK consensus guideline on spontaneous intracranial hypotension (2023)"], [2],
    )  # fmt: skip
    assert {c["iri"] for c in first_line["corrected_by"]} == {
        CSFG + "ev-contrast-source-specific",
        CSFG + "ev-sih-guidance-by-analogy",
    }
    assert evidence[CSFG + "ev-spine-protocol"]["tier"] == "unverified-guideline-detail"


def test_brain_protocol_accepts_either_susceptibility_technique() -> None:
    data = protocol("brain")
    assert [r["order"] for r in data["requirements"]] == [1, 2, 3, 4, 5]
    susceptibility = data["requirements"][2]
    (accepted,) = susceptibility["parameters"]
    assert {v["value"] for v in accepted["values"]} == {CSF + "gradientEcho", CSF + "swi"}


def test_protocol_command_text_and_json(cli) -> None:
    text = cli("protocol", "spine")
    assert text.code == 0
    out = text.out
    assert (
        out.index("1. fat-suppressed T2-weighted sequence (STIR or equivalent)")
        < out.index("2. sagittal T2-weighted")
        < out.index("3. heavily T2-weighted 3D")
    )
    assert "requires fat suppression: yes" in out and "required plane: sagittal" in out
    assert "[guideline] MRI of the brain with contrast" in out and "[unverified guideline detail]" in out
    assert "seed article (Dr.Oracle, 2026); article's reference 2" in out
    data = json.loads(cli("protocol", "brain", "--format", "json").out)
    assert data["protocol"]["code"] == "brain" and len(data["requirements"]) == 5


def test_protocol_rejects_another_study(cli) -> None:
    result = cli("protocol", "knee")
    assert result.code == 2 and "knee" in one_sentence(result.err)


# ---------------------------------------------------------------------------------------
# csfkg findings brain|spine
# ---------------------------------------------------------------------------------------
def test_spine_findings_add_extradural_collection_and_question_subdural_hygroma() -> None:
    data = findings("spine")
    signs = {f["code"]: f for f in data["findings"]}
    assert set(signs) == {
        "extradural-csf-collection",
        "meningeal-diverticulum",
        "dilated-epidural-venous-plexus",
        "subdural-hygroma",
    }
    (added,) = signs["extradural-csf-collection"]["evidence"]
    assert (added["iri"], added["kind"], added["tier"]) == (
        CSFG + "ev-extradural-key-sign",
        "caveat",
        "classification",
    )
    assert added["sources"] == [
        "International Classification of Headache Disorders, 3rd edition",
        "csfkg clinical notes",
    ]
    (questioned,) = signs["subdural-hygroma"]["evidence"]
    assert (questioned["iri"], questioned["kind"]) == (CSFG + "ev-subdural-hygroma-intracranial", "caveat")
    assert "not a typical spinal one" in signs["subdural-hygroma"]["note"]
    (listed,) = data["listed_by"]
    assert listed["iri"] == CSFG + "ev-spine-findings" and listed["tier"] == "article-claim"
    assert {c["iri"] for c in listed["corrected_by"]} == {
        CSFG + "ev-extradural-key-sign",
        CSFG + "ev-subdural-hygroma-intracranial",
    }


def test_brain_findings_carry_the_meta_analysis_frequencies() -> None:
    signs = {f["code"]: f for f in findings("brain")["findings"]}
    assert set(signs) == set(code_list(BRAIN_MRI_FINDING))  # every brain MRI finding of the ontology
    (frequency,) = signs["pachymeningeal-enhancement"]["evidence"]
    assert "73%" in frequency["text"] and frequency["tier"] == "meta-analysis"
    assert frequency["sources"] == [
        "meta-analysis of clinical and radiological features of spontaneous intracranial hypotension (2021)"
    ]
    assert signs["basal-cistern-effacement"]["evidence"] == []  # no frequency in the graph


def test_findings_command_text(cli) -> None:
    result = cli("findings", "spine")
    assert result.code == 0
    out = result.out
    assert "magnetic resonance imaging of whole spine" in out
    assert "corrected by: extradural CSF collection is the key spinal sign" in out
    assert "[caveat, classification] The key spinal sign of a CSF leak is an extradural" in out
    assert "[caveat, reviewer note] Subdural hygroma is an intracranial finding" in out
    assert json.loads(cli("findings", "brain", "-f", "json").out)["study"]["code"] == "brain-mri"


# ---------------------------------------------------------------------------------------
# csfkg red-flags
# ---------------------------------------------------------------------------------------
def test_red_flags_with_their_evidence(cli) -> None:
    data = red_flags()
    codes = sorted(f["code"] for f in data["red_flags"])
    assert codes == list(code_list(RED_FLAG)) and "fever" in codes  # each red flag of the ontology, once
    # the article's list, its own claim, and the red flags the issue-21 clinical review added
    assert {(s["iri"], s["tier"], tuple(s["cites_references"])) for s in data["evidence"]} == {
        (CSFG + "ev-red-flags", "article-claim", (1, 3)),
        (CSFG + "ev-red-flags-clinical-review", "clinical-review", ()),
    }
    # each under its action group (issue 21), the group's action shown once above its red flags
    groups = {f["code"]: f["action_group"]["code"] for f in data["red_flags"]}
    assert (groups["saddle-anaesthesia"], groups["neck-stiffness"], groups["seizure"]) == (
        "spinal-compression",
        "infection",
        "intracranial",
    )
    text = cli("red-flags").out
    assert (
        text.startswith(f"Red flag signs ({len(code_list(RED_FLAG))}):")
        and "- urinary incontinence (urinary-incontinence)" in text
    )
    assert "article's references 1, 3" in text
    flat = " ".join(text.split())
    assert flat.count("Emergency MRI of the spine") == 1
    assert flat.index("infection: Same-day assessment") < flat.index("- neck stiffness (neck-stiffness)")
    assert json.loads(cli("red-flags", "--format", "json").out) == data


# ---------------------------------------------------------------------------------------
# csfkg lookup TEXT
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, iri, matched_on",
    [
        ("G96.02", CSF + "SpontaneousSpinalCSFLeak", "mapping"),
        ("ICD10CM:G96.02", CSF + "SpontaneousSpinalCSFLeak", "mapping"),
        ("STIR", CSF + "stir", "synonym"),
        ("stir", CSF + "stir", "synonym"),
        ("blood patch", CSF + "EpiduralBloodPatch", "synonym"),
        ("HP:0001945", CSF + "Fever", "mapping"),
        ("MONDO:0043327", CSF + "CSFLeak", "mapping"),
        ("medial-branch-block", CSF + "MedialBranchBlock", "code"),
        ("orthostatic headache", CSF + "OrthostaticHeadache", "label"),
        ("OrthostaticHeadache", CSF + "OrthostaticHeadache", "IRI"),
    ],
)
def test_lookup_finds_the_right_node_first(text: str, iri: str, matched_on: str) -> None:
    first = lookup(text)["matches"][0]
    assert (first["iri"], first["matched_on"], first["exact"]) == (iri, matched_on, True)


def test_an_exact_mapping_ranks_before_a_narrow_one() -> None:
    """G96.02 is the exact match of the spontaneous spinal leak and a narrowMatch of the spinal
    leak (issue 22): both match the text exactly, the exact mapping comes first."""
    matches = lookup("G96.02")["matches"]
    assert [m["iri"] for m in matches[:2]] == [CSF + "SpontaneousSpinalCSFLeak", CSF + "SpinalCSFLeak"]
    assert [m["exact"] for m in matches[:2]] == [True, True]


def test_lookup_shows_iri_label_type_definition_and_mappings(cli) -> None:
    out = cli("lookup", "G96.02").out
    assert out.splitlines()[0] == "csf:SpontaneousSpinalCSFLeak  spontaneous spinal cerebrospinal fluid leak"
    assert f"IRI         {CSF}SpontaneousSpinalCSFLeak" in out
    assert "type        class (subclass of spinal cerebrospinal fluid leak)" in out
    assert "definition  a spinal cerebrospinal fluid leak with no preceding procedure or trauma" in out
    assert "mappings    exact match ICD10CM:G96.02; broad match HP:0032934" in out
    stir = json.loads(cli("lookup", "STIR", "--format", "json").out)["matches"][0]
    assert (stir["name"], stir["kind"], stir["type"]) == ("csf:stir", "individual", "sequence technique")


def test_lookup_ranks_exact_matches_before_partial_ones() -> None:
    matches = lookup("blood patch")["matches"]
    assert matches[0]["exact"] and not any(m["exact"] for m in matches[1:])
    assert CSFG + "epidural-blood-patch" in {m["iri"] for m in matches}  # the recommended action
    assert len({m["iri"] for m in matches}) == len(matches)


def test_lookup_without_match_and_with_empty_text(cli) -> None:
    """No match exits 1 (as grep does), with no suggestion when no name is near."""
    result = cli("lookup", "xyzzy")
    assert result.code == 1 and result.out == "Nothing in the knowledge graph matches 'xyzzy'.\n"
    data = cli("lookup", "xyzzy", "-f", "json")
    assert data.code == 1
    assert json.loads(data.out) == {"text": "xyzzy", "matches": [], "suggestions": []}
    empty = cli("lookup", "  ")
    assert empty.code == 2 and "Give some text" in one_sentence(empty.err)


@pytest.mark.parametrize(
    "typo, near",
    [
        ("STRI", "STIR"),  # a synonym
        ("blod patch", "blood patch"),  # a label
        ("pachymeningal-enhancement", "pachymeningeal-enhancement"),  # a code
    ],
)
def test_lookup_without_match_suggests_near_names(cli, typo: str, near: str) -> None:
    """Regression: a misspelt lookup said only that nothing matched, and exited 0."""
    result = cli("lookup", typo)
    assert result.code == 1
    assert result.out.startswith(f"Nothing in the knowledge graph matches {typo!r}; did you mean ")
    assert repr(near) in result.out
    data = json.loads(cli("lookup", typo, "-f", "json").out)
    assert data["matches"] == [] and near in data["suggestions"]
    # a suggestion is something lookup finds
    assert lookup(near)["matches"][0]["matched_value"].lower() == near.lower()


# ---------------------------------------------------------------------------------------
# csfkg explain PATIENT.ttl
# ---------------------------------------------------------------------------------------
def test_explain_gives_the_chain_of_the_seed_patients_next_step(cli) -> None:
    data = explained(cli, str(SEED))
    assert (data["patient"], data["assessment_date"], data["validation"]["conforms"]) == (
        "ex:seed",
        "2026-01-29",
        True,
    )
    step = data["recommendations"][0]
    assert step["role"] == "next-step" and step["iri"] == "csfg:obtain-mri-brain-and-spine"
    assert data["next_step"]["code"] == step["code"] == "obtain-mri-brain-and-spine"
    (branch,) = step["branches"]
    assert (branch["iri"], branch["precedence"]) == ("csfg:br-obtain-mri", 45)
    criteria = {c["iri"]: c for c in branch["criteria"]}
    assert (
        criteria["csfg:crit-headache-present"]["relation"],
        criteria["csfg:crit-headache-present"]["met"],
    ) == ("requires", True)
    assert criteria["csfg:crit-headache-present"]["facts"] == [
        {"node": "ex:seed-orthostatic-headache", "type": "orthostatic headache", "value": "present"}
    ]
    for excluded in ("crit-evidence-strong", "crit-imaging-to-protocol"):
        assert (criteria["csfg:" + excluded]["relation"], criteria["csfg:" + excluded]["met"]) == (
            "excludes",
            False,
        )
    evidence = {e["iri"]: e for e in step["evidence"]["supports"]}
    assert evidence["csfg:ev-first-line-mri"]["tier"] == "guideline"
    assert "csfg:ev-sih-guidance-by-analogy" in {
        n["iri"] for n in evidence["csfg:ev-first-line-mri"]["notes"]
    }
    assert {r["code"] for r in data["recommendations"][1:]} == {
        "defer-spinal-intervention", "document-medical-necessity", "monitor-red-flags",
    }  # fmt: skip
    assert [(m["code"], m["blocking"]) for m in data["missing_data"]] == [
        ("red-flag-screen", False), ("brain-mri", False), ("spine-mri", False),
    ]  # fmt: skip


def test_explain_text_reads_from_next_step_down_to_the_facts(cli) -> None:
    result = cli("explain", str(SEED))
    assert result.code == 0 and result.err == ""
    out = " ".join(result.out.split())
    order = [
        "Next step: obtain MRI of brain with contrast and whole spine.",
        "Do not do the planned medial branch block now.",
        "Screen now for: ",
        "Decision support for the treating clinician, not a diagnosis; the article is pending human review.",
        "Patient ex:seed, assessed on 2026-01-29.",
        "Next step: obtain MRI of brain with contrast and whole spine",
        'Rule: "headache without strong imaging evidence or adequate MRI: obtain MRI of brain and spine".',
        "It applies because a headache is present (orthostatic headache: present), and none of these is"
        " the case: definite or probable imaging evidence of a leak; brain and spine MRI done to protocol.",
        "Evidence that supports it, strongest first:",
        "- MRI of the brain with contrast",
        "Claims of the article the graph corrects (not counted as support):",
        "Also: defer the planned spinal intervention",
        "It applies because a spinal procedure is planned (medial branch block: planned).",
        "Not recorded: red-flag screen; brain MRI; spine MRI.",
    ]
    at = 0
    for line in order:  # each after the one before
        at = out.index(line, at) + len(line)
    # plain words: no double negative, no prefixed name in the prose
    assert "(not met)" not in out and "excludes" not in out and "csfg:" not in out


def test_explain_json_for_one_patient_of_a_file(cli) -> None:
    path = DATA / "input" / "two-patients.ttl"
    data = explained(cli, str(path), "--patient", "ex:bob")
    assert data["patient"] == "ex:bob"
    assert data["recommendations"][0]["iri"] == "csfg:urgent-evaluation"
    both = explained(cli, str(path), "--all")
    assert [d["patient"] for d in both] == ["ex:alice", "ex:bob"]
    several = cli("explain", str(path))
    assert several.code == 2 and "--patient" in one_sentence(several.err)


def test_explain_today_moves_a_post_dural_puncture_headache_past_its_14_days(cli) -> None:
    path = (
        VIGNETTES / "leak-recent-conservative.ttl"
    )  # onset 2 days after a dural puncture, leak signs, no patch
    recent = explained(cli, str(path))
    assert recent["recommendations"][0]["iri"] == "csfg:post-dural-puncture-care"
    later = explained(cli, str(path), "--today", "2026-04-01")  # 40 days later
    assert later["recommendations"][0]["iri"] == "csfg:epidural-blood-patch"
    criteria = {c["iri"]: c for c in later["recommendations"][0]["branches"][0]["criteria"]}
    assert criteria["csfg:crit-two-non-targeted-ebps"] == {
        "iri": "csfg:crit-two-non-targeted-ebps", "label": "two or more non-targeted blood patches done",
        "relation": "excludes", "met": False, "facts": [],
    }  # fmt: skip


def test_explain_non_conforming_patient_shows_violations_and_exits_1(cli) -> None:
    result = cli("explain", str(DATA / "queries" / "red-flag-nonconforming.ttl"))
    assert result.code == 1
    out = " ".join(result.out.split())
    assert "does not conform" in out and "is recorded both present and absent" in out


@pytest.mark.parametrize(
    "args, words",
    [
        (["explain", "no/such/file.ttl"], ["File not found"]),
        (["explain", str(SEED), "--patient", "ex:nobody"], ["nobody", "not in the file"]),
        (["explain", str(SEED), "--today", "tomorrow"], ["--today", "YYYY-MM-DD"]),
        (["findings", "knee"], ["knee"]),
    ],
)
def test_explain_and_findings_mistakes(cli, args: list[str], words: list[str]) -> None:
    result = cli(*args)
    assert result.code == 2 and result.out == ""
    line = one_sentence(result.err)
    assert all(word in line for word in words), line
