"""Renderers: results -> text for a person, JSON for a program, Turtle for a triple store.
Renderers return strings; they never print."""

from __future__ import annotations

import json
import textwrap

from csfkg.pipeline.assess import AssessmentRun
from csfkg.pipeline.results import BernScore, Evidence, HeadacheSubtype, PatientResult, RecommendationItem

TIER_NOTE = {
    "guideline": "guideline",
    "classification": "ICHD-3",
    "meta-analysis": "meta-analysis",
    "reviewer-note": "reviewer note",
    "clinical-review": "clinical review",
    "unverified-guideline-detail": "unverified guideline detail",
    "validated-score": "validated score",
    "article-claim": "article's own claim",
}


def render_json(run: AssessmentRun) -> str:
    """One JSON object for one patient; a JSON array for several."""
    items = [r.as_dict() for r in run.results]
    return json.dumps(items[0] if len(items) == 1 else items, indent=2, ensure_ascii=False) + "\n"


def render_turtle(run: AssessmentRun) -> str:
    """The derived result graph, with its provenance, as Turtle."""
    return run.derived.serialize(format="turtle")


def render_text(run: AssessmentRun) -> str:
    """A few lines per patient: next step, why, what is missing, the citations."""
    return "\n".join(_patient_text(r) for r in run.results)


def bern_line(score: BernScore) -> str:
    """``Bern score 5 (high probability) of <study>; incomplete: missing ...``, one sentence."""
    text = f"Bern score {score.score} ({score.class_label}) of <{score.study}>"
    if score.missing:
        text += "; incomplete: missing " + ", ".join(code for code, _ in score.missing)
        text += " (the score counts the recorded elements only)"
    text += "."
    return f"{text} {score.caveat}" if score.caveat else text


def subtype_line(subtype: HeadacheSubtype) -> str:
    """``Likely subtype, from the dates: <label>.`` and the statement behind it, one paragraph."""
    text = f"Likely subtype, from the dates of onset and procedures (not a diagnosis): {subtype.label}."
    return f"{text} {subtype.statement}" if subtype.statement else text


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ")


def _patient_text(result: PatientResult) -> str:
    lines = [f"Patient <{result.patient}>, assessed {result.assessment_date}"]
    violations = [r for r in result.validation.results if r.is_violation]
    warnings = [r for r in result.validation.results if not r.is_violation]
    if violations:
        lines.append("The patient data does not conform, so no next step was derived:")
        lines += [_wrap(f"- [{v.name}] {v.message}", "  ") for v in violations]
        return "\n".join(lines) + "\n"
    step = result.next_step
    assert step is not None  # conforming data always gets one next step
    citations: list[str] = []
    numbers: dict[str, int] = {}

    def number(evidence: Evidence) -> int:
        if evidence.iri not in numbers:
            citations.append(
                f"{evidence.label} -- {TIER_NOTE.get(evidence.confidence, evidence.confidence)}; {evidence.source}"
            )
            numbers[evidence.iri] = len(citations)
            marks = [str(number(c)) for c in evidence.corrections]
            if marks:
                citations[numbers[evidence.iri] - 1] += f" (qualified by [{', '.join(marks)}])"
        return numbers[evidence.iri]

    def cite(item: RecommendationItem) -> str:
        marks = [str(number(e)) for e in item.evidence]
        return f" [{', '.join(marks)}]" if marks else ""

    lines.append(f"Next step: {step.label} ({step.code})")
    lines.append(_wrap("Why: " + " ".join(step.rationale) + cite(step), "  "))
    for protocol in step.protocols:
        lines.append(_wrap(f"{protocol.protocol_label}: " + "; ".join(protocol.requirements) + ".", "  "))
    if step.red_flag_actions:
        lines.append("  For the red flags present:")
    for action in step.red_flag_actions:
        flags = ", ".join(f.label for f in action.red_flags)
        marks = [str(number(e)) for e in action.evidence]
        cited = f" [{', '.join(marks)}]" if marks else ""
        lines.append(_wrap(f"- {action.label} ({flags}): {action.action}{cited}", "    "))
    companions = [r for r in result.recommendations if r.role != "next-step"]
    if companions:
        lines.append("Also:")
        for item in companions:
            lines.append(_wrap(f"- {item.label} ({item.code}): " + " ".join(item.rationale), "  "))
    if result.headache_subtype is not None:
        lines.append(_wrap(subtype_line(result.headache_subtype), ""))
    lines += [_wrap(bern_line(score), "") for score in result.bern_scores]
    if result.missing_data:
        shown = [d.label + (" (blocks the next step)" if d.blocking else "") for d in result.missing_data]
        lines.append(_wrap("Not recorded: " + "; ".join(shown) + ".", ""))
    if warnings:
        lines.append("Warnings:")
        lines += [_wrap(f"- {w.message}", "  ") for w in warnings]
    if citations:
        lines.append(
            "Evidence for the next step (tier; source); --format json lists the evidence of every recommendation:"
        )
        lines += [_wrap(f"[{n}] {text}", "  ") for n, text in enumerate(citations, start=1)]
    return "\n".join(lines) + "\n"
