"""The Bern score (Dobrocky et al., JAMA Neurology 2019; clinical-notes.md "Bern score"), derived
by queries/derive-bern-score.rq, derive-bern-missing-elements.rq and
derive-criterion-bern-high.rq from the element individuals of guideline.ttl.

The expected scores are worked out here from the paper, not from the queries: major signs 2 points
each (pachymeningeal enhancement, venous sinus engorgement, suprasellar cistern <= 4.0 mm), minor
1 point each (subdural fluid collection, prepontine cistern <= 5.0 mm, mamillopontine distance
<= 6.5 mm); low <= 2, intermediate 3-4, high >= 5. Only recorded elements count; an element
neither recorded present/absent nor measured is reported missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from rdflib import Graph, URIRef

from csfkg.pipeline.assess import assess

P = "https://example.org/csfkg/patient/"
CSFG = "https://w3id.org/csfkg/guideline#"
SIGN_CLASS = {
    "pachymeningeal-enhancement": "PachymeningealEnhancement",
    "venous-sinus-engorgement": "VenousSinusEngorgement",
    "subdural-fluid-collection": "SubduralFluidCollection",
    "brain-sagging": "BrainSagging",
    "pituitary-enlargement": "PituitaryEnlargement",
}
MEASURE_PROPERTY = {
    "suprasellar-cistern": "suprasellarCisternMm",
    "prepontine-cistern": "prepontineCisternMm",
    "mamillopontine-distance": "mamillopontineDistanceMm",
}
ALL_ELEMENTS = [
    "pachymeningeal-enhancement",
    "venous-sinus-engorgement",
    "suprasellar-cistern",
    "subdural-fluid-collection",
    "prepontine-cistern",
    "mamillopontine-distance",
]  # in the paper's order (major, then minor), which is the elements' display order


@dataclass
class Study:
    present: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    mm: dict[str, str] = field(default_factory=dict)


def patient_file(*studies: Study) -> Graph:
    """A patient with orthostatic headache and one brain MRI (with leak signs) per study."""
    lines = [
        "@prefix csf: <https://w3id.org/csfkg/ontology#> .",
        f"@prefix ex: <{P}> .",
        "ex:p a csf:Patient ; csf:assessmentDate '2026-03-01'^^<http://www.w3.org/2001/XMLSchema#date> ;",
        "    csf:hasFinding ex:p-oh .",
        "ex:p-oh a csf:OrthostaticHeadache ; csf:findingStatus csf:present .",
    ]
    for n, study in enumerate(studies):
        node = f"ex:p-brain-{n}"
        lines.append(f"ex:p csf:hasImagingStudy {node} .")
        lines.append(f"{node} a csf:BrainMRI ; csf:studyResult csf:leakSignsResult .")
        for code in study.present:
            lines.append(
                f"{node} csf:showsFinding ex:p-{n}-{code} . ex:p-{n}-{code} a csf:{SIGN_CLASS[code]} ."
            )
        for code in study.absent:
            lines.append(
                f"{node} csf:assessedAbsentFinding ex:p-{n}-no-{code} . ex:p-{n}-no-{code} a csf:{SIGN_CLASS[code]} ."
            )
        for code, value in study.mm.items():
            lines.append(f"{node} csf:{MEASURE_PROPERTY[code]} {value} .")
    return Graph().parse(data="\n".join(lines), format="turtle")


def scored(*studies: Study):
    run = assess(patient_file(*studies), [URIRef(P + "p")], today=date(2026, 3, 1))
    (result,) = run.results
    assert result.validation.conforms, result.validation.results
    criteria = {
        str(row["criterion"])
        for row in run.store.query(
            "SELECT ?criterion WHERE { <"
            + P
            + "p> <https://w3id.org/csfkg/ontology#meetsCriterion> ?criterion }"
        ).dicts()
    }
    return result.bern_scores, CSFG + "crit-bern-high" in criteria


COMPLETE_NONE = Study(
    absent=["pachymeningeal-enhancement", "venous-sinus-engorgement", "subdural-fluid-collection"],
    mm={"suprasellar-cistern": "8.0", "prepontine-cistern": "9.0", "mamillopontine-distance": "9.0"},
)


def with_(study: Study, *, present: list[str] = (), mm: dict[str, str] | None = None) -> Study:  # type: ignore[assignment]
    """``study`` with signs turned present and measurements replaced."""
    return Study(
        present=[*study.present, *present],
        absent=[c for c in study.absent if c not in present],
        mm={**study.mm, **(mm or {})},
    )


CASES = [
    # name, study, expected score (from the paper), class, high criterion
    ("nothing met", COMPLETE_NONE, 0, "low", False),
    ("one minor sign", with_(COMPLETE_NONE, present=["subdural-fluid-collection"]), 1, "low", False),
    ("one major sign", with_(COMPLETE_NONE, present=["pachymeningeal-enhancement"]), 2, "low", False),
    (
        "major and minor: 3 is intermediate",
        with_(COMPLETE_NONE, present=["venous-sinus-engorgement", "subdural-fluid-collection"]),
        3,
        "intermediate",
        False,
    ),
    (
        "two majors: 4 is intermediate, not high",
        with_(COMPLETE_NONE, present=["pachymeningeal-enhancement", "venous-sinus-engorgement"]),
        4,
        "intermediate",
        False,
    ),
    (
        "exactly 5 is high: two majors and prepontine 5.0 mm",
        with_(
            COMPLETE_NONE,
            present=["pachymeningeal-enhancement", "venous-sinus-engorgement"],
            mm={"prepontine-cistern": "5.0"},
        ),
        5,
        "high",
        True,
    ),
    ("suprasellar 4.1 mm scores 0", with_(COMPLETE_NONE, mm={"suprasellar-cistern": "4.1"}), 0, "low", False),
    ("suprasellar 4.0 mm scores 2", with_(COMPLETE_NONE, mm={"suprasellar-cistern": "4.0"}), 2, "low", False),
    ("prepontine 5.1 mm scores 0", with_(COMPLETE_NONE, mm={"prepontine-cistern": "5.1"}), 0, "low", False),
    (
        "mamillopontine 6.5 mm scores 1",
        with_(COMPLETE_NONE, mm={"mamillopontine-distance": "6.5"}),
        1,
        "low",
        False,
    ),
    (
        "mamillopontine 6.6 mm scores 0",
        with_(COMPLETE_NONE, mm={"mamillopontine-distance": "6.6"}),
        0,
        "low",
        False,
    ),
    ("a cistern of 0.0 mm is met", with_(COMPLETE_NONE, mm={"suprasellar-cistern": "0.0"}), 2, "low", False),
    (
        "every element met: 9",
        Study(
            present=["pachymeningeal-enhancement", "venous-sinus-engorgement", "subdural-fluid-collection"],
            mm={"suprasellar-cistern": "3.0", "prepontine-cistern": "4.0", "mamillopontine-distance": "5.5"},
        ),
        9,
        "high",
        True,
    ),
    (
        "brain sagging and pituitary enlargement are no Bern elements",
        Study(
            present=["brain-sagging", "pituitary-enlargement"],
            absent=COMPLETE_NONE.absent,
            mm=COMPLETE_NONE.mm,
        ),
        0,
        "low",
        False,
    ),
]


@pytest.mark.parametrize("study, score, klass, high", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_complete_record_scores_as_the_paper_says(study: Study, score: int, klass: str, high: bool) -> None:
    (bern,), meets_high = scored(study)
    assert (bern.score, bern.class_code, bern.missing) == (score, klass, [])
    assert meets_high is high


def test_an_incomplete_record_lists_its_missing_elements_and_still_scores() -> None:
    (bern,), meets_high = scored(
        Study(
            present=["venous-sinus-engorgement"],
            absent=["subdural-fluid-collection"],
            mm={"prepontine-cistern": "4.0"},
        )
    )
    assert (bern.score, bern.class_code, meets_high) == (3, "intermediate", False)
    assert [code for code, _ in bern.missing] == [
        "pachymeningeal-enhancement",
        "suprasellar-cistern",
        "mamillopontine-distance",
    ]
    assert bern.caveat is None


def test_an_incomplete_score_that_reaches_5_is_high() -> None:
    (bern,), meets_high = scored(
        Study(
            present=["pachymeningeal-enhancement"],
            mm={"suprasellar-cistern": "3.5", "mamillopontine-distance": "6.0"},
        )
    )
    assert (bern.score, bern.class_code, meets_high) == (5, "high", True)
    assert [code for code, _ in bern.missing] == [
        "venous-sinus-engorgement",
        "subdural-fluid-collection",
        "prepontine-cistern",
    ]


def test_a_sign_recorded_absent_is_recorded_but_scores_nothing() -> None:
    (bern,), _ = scored(Study(absent=["pachymeningeal-enhancement"]))
    assert bern.score == 0 and bern.class_code == "low"
    assert [code for code, _ in bern.missing] == [
        e for e in ALL_ELEMENTS if e != "pachymeningeal-enhancement"
    ]


def test_a_low_score_carries_the_caveat_that_it_does_not_exclude_a_leak() -> None:
    (bern,), _ = scored(COMPLETE_NONE)
    assert bern.caveat is not None and "does not exclude" in bern.caveat


def test_a_study_with_no_element_recorded_gets_no_score() -> None:
    scores, meets_high = scored(Study(present=["brain-sagging"]))
    assert scores == [] and meets_high is False


def test_each_brain_mri_is_scored_and_any_high_one_meets_the_criterion() -> None:
    high = with_(
        COMPLETE_NONE,
        present=["pachymeningeal-enhancement", "venous-sinus-engorgement", "subdural-fluid-collection"],
    )
    scores, meets_high = scored(COMPLETE_NONE, high)
    assert sorted((b.score, b.class_code) for b in scores) == [(0, "low"), (5, "high")]
    assert meets_high is True
