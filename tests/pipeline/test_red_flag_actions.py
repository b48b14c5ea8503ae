"""Issue 21, red flags with actions: the red-flag list and its action groups, from the issue's
own words, against the ontology and the output of ``csfkg recommend`` and ``csfkg explain``.

The rule, copied here from the issue (not from the ontology or the code): the article's nine red
flags plus nine the clinical review added; each belongs to one action group, and the urgent
evaluation names the action of the group of every red flag present:

- spinal compression (back/leg pain, leg weakness or numbness, incontinence, retention, saddle
  anaesthesia) -> emergency MRI of the spine for haematoma, abscess or cauda equina compression;
- infection (fever, neck stiffness, injection-site signs) -> same-day assessment for meningitis or
  epidural abscess;
- intracranial (altered mental status, seizure, focal deficit, visual disturbance, thunderclap,
  worsening headache, loss of postural pattern) -> emergency brain imaging for subdural
  haematoma, cerebral venous thrombosis or haemorrhage.

Acceptance: "every present red flag's action appears in the output", and ``--red-flag`` takes
every red flag (the kebab-case of its label).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from csfkg.model.codes import RED_FLAG, code_list, codes_under
from csfkg.model.knowledge import knowledge_graph

CSF = "https://w3id.org/csfkg/ontology#"
CSFG = "https://w3id.org/csfkg/guideline#"

SPINAL, INFECTION, INTRACRANIAL = "spinal-compression", "infection", "intracranial"
ARTICLE_NINE = {
    "new-severe-back-pain": SPINAL,
    "new-severe-leg-pain": SPINAL,
    "lower-limb-weakness": SPINAL,
    "lower-limb-sensory-change": SPINAL,
    "urinary-incontinence": SPINAL,
    "fecal-incontinence": SPINAL,
    "fever": INFECTION,
    "worsening-headache": INTRACRANIAL,
    "altered-mental-status": INTRACRANIAL,
}
CLINICAL_REVIEW_NINE = {
    "seizure": INTRACRANIAL,
    "visual-loss-or-double-vision": INTRACRANIAL,
    "neck-stiffness": INFECTION,
    "thunderclap-onset": INTRACRANIAL,
    "loss-of-postural-pattern": INTRACRANIAL,
    "saddle-anaesthesia": SPINAL,
    "urinary-retention": SPINAL,
    "focal-deficit-beyond-the-legs": INTRACRANIAL,
    "injection-site-infection": INFECTION,
}
GROUP_OF = ARTICLE_NINE | CLINICAL_REVIEW_NINE
# words of each action, from the issue
ACTION_WORDS = {
    SPINAL: ("emergency mri of the spine", "haematoma, abscess or cauda equina compression"),
    INFECTION: ("same-day assessment", "meningitis or epidural abscess"),
    INTRACRANIAL: (
        "emergency brain imaging",
        "subdural haematoma, cerebral venous thrombosis or haemorrhage",
    ),
}
TIERS = {SPINAL: "clinical-review", INFECTION: "clinical-review", INTRACRANIAL: "clinical-review"}


def _label_of(code: str) -> str:
    return str(knowledge_graph().value(codes_under(RED_FLAG)[code], RDFS.label))


def _patients_file(tmp_path: Path, cases: dict[str, tuple[str, ...]]) -> Path:
    """One patient per case: orthostatic headache present and the case's red flags present."""
    classes = codes_under(RED_FLAG)
    lines = [f"@prefix csf: <{CSF}> .", "@prefix ex: <https://example.org/rfa/> ."]
    for name, flags in cases.items():
        findings = ["[ a csf:OrthostaticHeadache ; csf:findingStatus csf:present ]"]
        findings += [f"[ a <{classes[f]}> ; csf:findingStatus csf:present ]" for f in flags]
        lines.append(
            f"ex:{name} a csf:Patient ; csf:assessmentDate '2026-03-01'^^<http://www.w3.org/2001/XMLSchema#date> ;"
            f" csf:hasFinding {' , '.join(findings)} ."
        )
    path = tmp_path / "patients.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _urgent_actions(result: dict) -> dict[str, set[str]]:
    """group code -> red flag codes, from the next step of one patient's JSON result."""
    (step,) = [r for r in result["recommendations"] if r["role"] == "next-step"]
    assert step["code"] == "urgent-evaluation", step
    return {a["code"]: {f["code"] for f in a["red_flags"]} for a in step.get("red_flag_actions", [])}


def _expected(flags: tuple[str, ...]) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for flag in flags:
        groups.setdefault(GROUP_OF[flag], set()).add(flag)
    return groups


# ---------------------------------------------------------------------------------------------
# the ontology holds the rule
# ---------------------------------------------------------------------------------------------
def test_the_red_flags_are_the_article_nine_and_the_clinical_review_nine() -> None:
    assert set(code_list(RED_FLAG)) == set(GROUP_OF)


@pytest.mark.parametrize("code", sorted(GROUP_OF))
def test_each_red_flag_belongs_to_the_group_the_issue_gives(code: str) -> None:
    graph = knowledge_graph()
    groups = list(graph.objects(codes_under(RED_FLAG)[code], URIRef(CSF + "actionGroup")))
    assert [str(graph.value(g, URIRef(CSF + "code"))) for g in groups] == [GROUP_OF[code]]


@pytest.mark.parametrize("code", sorted(GROUP_OF))
def test_the_code_is_the_kebab_case_of_the_label(code: str) -> None:
    assert _label_of(code).replace(" ", "-") == code


def test_each_group_states_its_action_with_evidence_of_the_clinical_review_tier() -> None:
    graph = knowledge_graph()
    for group, words in ACTION_WORDS.items():
        (node,) = graph.subjects(URIRef(CSF + "code"), Literal(group))
        assert (node, RDF.type, URIRef(CSF + "RedFlagActionGroup")) in graph
        text = str(graph.value(node, URIRef(CSF + "actionText"))).lower()
        assert all(w in text for w in words), text
        tiers = {
            str(graph.value(graph.value(statement, URIRef(CSF + "confidenceTier")), URIRef(CSF + "code")))
            for statement in graph.objects(node, URIRef(CSF + "supportedBy"))
        }
        assert tiers == {TIERS[group]}


def test_the_article_list_keeps_its_article_claim_tier() -> None:
    graph = knowledge_graph()
    tier = graph.value(URIRef(CSFG + "ev-red-flags"), URIRef(CSF + "confidenceTier"))
    assert tier == URIRef(CSFG + "tier-article-claim")


def test_the_monitor_red_flags_rationale_names_every_red_flag() -> None:
    rationale = str(knowledge_graph().value(URIRef(CSFG + "cb-monitor-red-flags"), URIRef(CSF + "rationale")))
    missing = [code for code in GROUP_OF if _label_of(code) not in rationale]
    assert not missing, missing


# ---------------------------------------------------------------------------------------------
# every present red flag's action appears in the output
# ---------------------------------------------------------------------------------------------
def test_the_command_line_takes_every_red_flag(cli) -> None:
    result = cli(
        "recommend", *itertools.chain(*(("--red-flag", c) for c in sorted(GROUP_OF))), "--format", "json"
    )
    assert result.code == 0, result.err
    assert _urgent_actions(json.loads(result.out)) == _expected(tuple(GROUP_OF))


def test_each_red_flag_alone_and_each_pair_gives_the_actions_of_their_groups(cli, tmp_path: Path) -> None:
    cases = {f"one-{code}": (code,) for code in GROUP_OF}
    cases |= {f"two-{a}-{b}": (a, b) for a, b in itertools.combinations(sorted(GROUP_OF), 2)}
    result = cli("recommend", str(_patients_file(tmp_path, cases)), "--all", "--format", "json")
    assert result.code == 0, result.err
    got = {r["patient"].rsplit("/", 1)[-1].rstrip(">"): _urgent_actions(r) for r in json.loads(result.out)}
    assert got == {name: _expected(flags) for name, flags in cases.items()}


def test_seizure_and_fever_name_both_actions_in_the_text(cli) -> None:
    result = cli(
        "recommend", "--red-flag", "seizure", "--red-flag", "fever", "--symptom", "orthostatic-headache"
    )
    assert result.code == 0, result.err
    text = " ".join(result.out.lower().split())
    for group in (INTRACRANIAL, INFECTION):
        assert all(w in text for w in ACTION_WORDS[group]), (group, result.out)
    assert not any(w in text for w in ACTION_WORDS[SPINAL])
    assert "(seizure)" in text and "(fever)" in text


def test_no_red_flag_no_action(cli) -> None:
    result = cli("recommend", "--symptom", "orthostatic-headache", "--format", "json")
    assert result.code == 0, result.err
    assert not any(r["red_flag_actions"] for r in json.loads(result.out)["recommendations"])
    text = cli("recommend", "--symptom", "orthostatic-headache").out.lower()
    assert not any(w[0] in text for w in ACTION_WORDS.values())


def test_the_result_graph_links_the_urgent_evaluation_to_each_group_and_finding(cli) -> None:
    result = cli("recommend", "--red-flag", "fever", "--red-flag", "new-severe-back-pain", "--format", "ttl")
    assert result.code == 0, result.err
    graph = Graph().parse(data=result.out, format="turtle")
    (step,) = graph.subjects(URIRef(CSF + "recommendedAction"), URIRef(CSFG + "urgent-evaluation"))
    groups = {str(g) for g in graph.objects(step, URIRef(CSF + "callsForAction"))}
    assert groups == {CSFG + "red-flag-group-infection", CSFG + "red-flag-group-spinal-compression"}
    findings = {
        str(s).rsplit("/", 1)[-1]
        for s in graph.objects(step, PROV.wasDerivedFrom)
        if (s, URIRef(CSF + "findingStatus"), None) in graph or "/finding/" in str(s)
    }
    assert findings == {"fever", "new-severe-back-pain"}


def test_explain_shows_each_action_with_the_red_flags_that_call_for_it(cli, tmp_path: Path) -> None:
    path = _patients_file(tmp_path, {"pair": ("neck-stiffness", "saddle-anaesthesia", "urinary-retention")})
    result = cli("explain", str(path), "--format", "json")
    assert result.code == 0, result.err
    (step,) = [r for r in json.loads(result.out)["recommendations"] if r["role"] == "next-step"]
    got = {a["code"]: {f["code"] for f in a["red_flags"]} for a in step["red_flag_actions"]}
    assert got == {INFECTION: {"neck-stiffness"}, SPINAL: {"saddle-anaesthesia", "urinary-retention"}}
    assert all(
        a["evidence"] and a["evidence"][0]["tier"] == "clinical-review" for a in step["red_flag_actions"]
    )
    text = " ".join(cli("explain", str(path)).out.lower().split())
    for group in (INFECTION, SPINAL):
        assert all(w in text for w in ACTION_WORDS[group]), text
    assert "red flags present: saddle anaesthesia, urinary retention" in text
    assert "red flag present: neck stiffness" in text


# ---------------------------------------------------------------------------------------------
# the screen: a new red flag makes an old complete screen incomplete; one negative record covers all
# ---------------------------------------------------------------------------------------------
def _screened(tmp_path: Path, absent: set[str] | None) -> str:
    classes = codes_under(RED_FLAG)
    findings = [  # no headache of either kind (issue 21: both recorded absent)
        "[ a csf:OrthostaticHeadache ; csf:findingStatus csf:absent ]",
        "[ a csf:NonOrthostaticHeadache ; csf:findingStatus csf:absent ]",
    ]
    if absent is None:
        findings.append("[ a csf:RedFlagSign ; csf:findingStatus csf:absent ]")
    else:
        findings += [f"[ a <{classes[c]}> ; csf:findingStatus csf:absent ]" for c in sorted(absent)]
    path = tmp_path / "screened.ttl"
    path.write_text(
        f"@prefix csf: <{CSF}> .\n<https://example.org/rfa/s> a csf:Patient ;"
        " csf:assessmentDate '2026-03-01'^^<http://www.w3.org/2001/XMLSchema#date> ;"
        f" csf:hasFinding {' , '.join(findings)} ;"
        " csf:hasProcedure [ a csf:MedialBranchBlock ; csf:procedureStatus csf:planned ] .\n",
        encoding="utf-8",
    )
    return str(path)


@pytest.mark.parametrize(
    ("absent", "next_step"),
    [
        (set(ARTICLE_NINE), "insufficient-data"),
        (set(GROUP_OF) - {"seizure"}, "insufficient-data"),
        (set(GROUP_OF), "proceed-with-planned-procedure"),
        (None, "proceed-with-planned-procedure"),  # one negative-screen record
    ],
    ids=["article-nine", "all-but-seizure", "all-eighteen", "negative-screen-record"],
)
def test_a_go_ahead_needs_every_red_flag_screened(cli, tmp_path: Path, absent, next_step: str) -> None:
    result = cli("recommend", _screened(tmp_path, absent), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["next_step"]["code"] == next_step
    blocking = [m["code"] for m in data["missing_data"] if m["blocking"]]
    assert blocking == (["red-flag-screen"] if next_step == "insufficient-data" else [])


def test_on_a_synthetic_cohort_each_red_flag_present_has_its_action_and_screens_list_every_flag() -> None:
    from io import StringIO

    from csfkg.cohort.synth import write_cohort
    from csfkg.pipeline.derive import derive

    text = StringIO()
    write_cohort(text, patients=3000, seed=11)
    patients = Graph().parse(data=text.getvalue(), format="nt")
    code_of = {cls: code for code, cls in codes_under(RED_FLAG).items()}
    status, has_finding = URIRef(CSF + "findingStatus"), URIRef(CSF + "hasFinding")
    expected: dict[URIRef, set[str]] = {}
    screened: dict[URIRef, set[str]] = {}
    for patient, record in patients.subject_objects(has_finding):
        for cls in patients.objects(record, RDF.type):
            if cls in code_of and patients.value(record, status) == URIRef(CSF + "present"):
                expected.setdefault(patient, set()).add(GROUP_OF[code_of[cls]])
            if cls in code_of:
                screened.setdefault(patient, set()).add(code_of[cls])
    knowledge = knowledge_graph()
    derived = derive(patients).derived
    got: dict[URIRef, set[str]] = {}
    for recommendation, group in derived.subject_objects(URIRef(CSF + "callsForAction")):
        patient = derived.value(recommendation, URIRef(CSF + "recommendationFor"))
        got.setdefault(patient, set()).add(str(knowledge.value(group, URIRef(CSF + "code"))))
    assert len(expected) > 30 and got == expected
    # a screen recorded sign by sign lists all eighteen (synth reads the list from the ontology)
    by_sign = [codes for codes in screened.values() if len(codes) > 1]
    assert by_sign and all(codes == set(GROUP_OF) for codes in by_sign)
