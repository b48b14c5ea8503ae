"""Renderers: results -> text for a clinician (``csfkg recommend``, ``csfkg explain``), JSON for a
program, Turtle for a triple store. Renderers return strings; they never print.

Every text output of a patient opens the same way (:func:`_headline`): the next step in one
line, "Do not do the planned ... now" when a recommendation defers a planned procedure, the red
flags to screen now when the screen is incomplete, and the line that says what the output is
(decision support, not a diagnosis) with the status of the source article. Then why (facts ->
rule), what is missing, and the evidence: what supports the recommendation, strongest tier
first, apart from the article's claims the graph corrects. Text names things by their labels;
the JSON (:meth:`~csfkg.pipeline.results.PatientResult.as_dict`) by prefixed names.
"""

from __future__ import annotations

import json
import re
import textwrap

from csfkg.model.vocab import prefixed_name, prefixed_names_in
from csfkg.pipeline.assess import AssessmentRun
from csfkg.pipeline.results import (
    DISCLAIMER,
    BernScore,
    Branch,
    Criterion,
    HeadacheSubtype,
    PatientResult,
    RecommendationItem,
    Statement,
)

WIDTH = 80
"""Text is wrapped to fit an 80-column terminal."""
SHOWN_SUPPORTS = 5
"""How many supporting statements the text of ``csfkg recommend`` shows; the JSON has them all."""
CORRECTED_BY = "corrected by"
"""The one verb for a correction, in every output."""


def render_json(run: AssessmentRun) -> str:
    """One JSON object for one patient; a JSON array for several (the shape of
    ``ontology/shapes/patient-result.schema.json``)."""
    items = [r.as_dict() for r in run.results]
    return json.dumps(items[0] if len(items) == 1 else items, indent=2, ensure_ascii=False) + "\n"


def render_turtle(run: AssessmentRun) -> str:
    """The derived result graph, with its provenance, as Turtle."""
    return run.derived.serialize(format="turtle")


def render_text(run: AssessmentRun) -> str:
    """``csfkg recommend``: per patient, the headline, why, what to do besides, what is missing,
    the strongest evidence for the next step and the article's claims the graph corrects."""
    return "\n".join(_recommend_text(r) for r in run.results)


def render_explain(run: AssessmentRun) -> str:
    """``csfkg explain``: per patient, the headline, then each recommendation with the rule it
    comes from, why that rule applies (criteria met and not met, with the patient facts), and
    all its evidence in the two groups."""
    return "\n".join(_explain_text(r) for r in run.results)


def bern_line(score: BernScore) -> str:
    """``Bern score 5 (high probability) of a brain MRI; incomplete: missing ...``, one sentence."""
    text = f"Bern score {score.score} ({score.class_label}) of a brain MRI"
    if score.missing:
        text += "; incomplete: missing " + ", ".join(code for code, _ in score.missing)
        text += " (the score counts the recorded elements only)"
    text += "."
    return f"{text} {score.caveat}" if score.caveat else text


def subtype_line(subtype: HeadacheSubtype) -> str:
    """``Likely subtype, from the dates: <label>.`` and the statement behind it, one paragraph."""
    text = f"Likely subtype, from the dates of onset and procedures (not a diagnosis): {subtype.label}."
    return f"{text} {subtype.statement}" if subtype.statement else text


def readable(message: str, named: dict[str, str] | None = None) -> str:
    """A message for a person: each node of ``named`` (IRI or blank node identifier -> label) as
    its label, each other IRI as a prefixed name (``ex:seed-second-mbb``)."""
    for node, label in (named or {}).items():
        message = message.replace(f"<{node}>", f"({label})").replace(node, f"({label})")
    return prefixed_names_in(message)


def _wrap(text: str, indent: str = "", hang: str = "  ") -> str:
    return textwrap.fill(
        text,
        width=WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + hang,
        break_on_hyphens=False,
        break_long_words=False,
    )


# -------------------------------------------------------------------------------------------
# the parts every text output shares
# -------------------------------------------------------------------------------------------
def disclaimer_sentence(result: PatientResult) -> str:
    """What the output is (decision support, not a diagnosis), with the status of the source."""
    status = "; ".join(s.label for s in result.source_status)
    return DISCLAIMER[:-1] + (f"; {status}." if status else ".")


def headline_sentences(result: PatientResult) -> list[str]:
    """The opening every output of a patient shares, as sentences: next step, what not to do
    now, the red flags to screen now, what this output is, whose result it is."""
    step = result.next_step
    sentences = [
        f"Next step: {step.label}."
        if step is not None
        else "No next step: the patient data does not conform."
    ]
    sentences += [f"Do not do the planned {procedure.label} now." for procedure in result.deferred]
    if result.screen_now:
        sentences.append("Screen now for: " + ", ".join(f.label for f in result.screen_now) + ".")
    sentences.append(disclaimer_sentence(result))
    assessed = f", assessed on {result.assessment_date}" if result.assessment_date else ""
    sentences.append(f"Patient {prefixed_name(result.patient)}{assessed}.")
    return sentences


def _headline(result: PatientResult) -> list[str]:
    """Next step, what not to do now, the red flags to screen now, what this output is."""
    return [_wrap(sentence) for sentence in headline_sentences(result)]


def _violations(result: PatientResult) -> list[str]:
    lines = ["To correct in the record:"]
    for v in result.validation.results:
        if v.is_violation:
            lines.append(_wrap(f"- [{v.name}] {readable(v.message)}", "  "))
    return lines


def _warnings(result: PatientResult) -> list[str]:
    warnings = [r for r in result.validation.results if not r.is_violation]
    if not warnings:
        return []
    named = {d.node: d.label for d in result.deferred}
    return ["Warnings:", *(_wrap(f"- {readable(w.message, named)}", "  ") for w in warnings)]


def _fact_texts(criterion: Criterion, patient: str) -> list[str]:
    """The patient facts ``criterion`` rests on, as ``type: value`` (``type recorded`` for a fact
    without a value); the patient's record itself (a criterion on its dates) is not a fact to show."""
    return [
        f"{fact.type}: {fact.value}" if fact.value else f"{fact.type} recorded"
        for fact in criterion.facts
        if fact.type and fact.node != prefixed_name(patient)
    ]


def _facts(branch: Branch, patient: str) -> list[str]:
    """The patient facts the met criteria of ``branch`` rest on, each once."""
    found: list[str] = []
    for criterion in branch.criteria:
        if criterion.relation == "requires" and criterion.met:
            found += [shown for shown in _fact_texts(criterion, patient) if shown not in found]
    return found


def why_sentences(item: RecommendationItem, patient: str) -> list[str]:
    """``Why: facts -> rule "label". rationale``, one sentence for each branch."""
    sentences = []
    for branch in item.branches:
        facts = _facts(branch, patient)
        chain = "; ".join(facts) + " -> " if facts else ""
        sentences.append(f'Why: {chain}rule "{branch.label}". {branch.rationale}')
    return sentences


def _why(item: RecommendationItem, patient: str) -> list[str]:
    return [_wrap(sentence) for sentence in why_sentences(item, patient)]


def missing_sentence(result: PatientResult) -> str | None:
    """``Not recorded: ...; ... (blocks the next step).``, or None when nothing is missing."""
    if not result.missing_data:
        return None
    shown = [d.label + (" (blocks the next step)" if d.blocking else "") for d in result.missing_data]
    return "Not recorded: " + "; ".join(shown) + "."


def _missing(result: PatientResult) -> list[str]:
    sentence = missing_sentence(result)
    return [] if sentence is None else [_wrap(sentence)]


def _about(result: PatientResult) -> list[str]:
    lines = []
    if result.headache_subtype is not None:
        lines.append(_wrap(subtype_line(result.headache_subtype)))
    lines += [_wrap(bern_line(score)) for score in result.bern_scores]
    return lines


def source_note(statement: Statement) -> str:
    """``tier; source, source; article's reference N``: whose statement it is, and the numbers of
    the references of the source article linked to it (csf:citesReference), named as the
    article's so that they do not read as references of the other source."""
    text = f"{statement.tier.replace('-', ' ')}; {', '.join(statement.sources)}"
    if statement.cites:
        numbers = ", ".join(str(n) for n in statement.cites)
        text += f"; article's reference{'s' if len(statement.cites) > 1 else ''} {numbers}"
    return text


def _statement_lines(statement: Statement, indent: str, *, full: bool) -> list[str]:
    """One statement (its label, or its text when ``full``) with its source, then its notes or,
    for a contested claim, what it is corrected by."""
    said = statement.text if full else statement.label
    lines = [_wrap(f"- {said} ({source_note(statement)})", indent)]
    verb = CORRECTED_BY if statement.contested else "note"
    for linked in statement.linked:
        said = linked.text if full else linked.label
        lines.append(_wrap(f"{verb}: {said} ({source_note(linked)})", indent + "    "))
    return lines


def _evidence(
    item: RecommendationItem, indent: str, what: str, *, limit: int | None, full: bool
) -> list[str]:
    lines = []
    supports = item.evidence.supports
    shown = supports if limit is None else supports[:limit]
    if supports:
        lines.append(f"{indent}Evidence that supports {what}, strongest first:")
        for statement in shown:
            lines += _statement_lines(statement, indent + "  ", full=full)
        if len(supports) > len(shown):
            lines.append(
                _wrap(
                    f"and {len(supports) - len(shown)} more (csfkg explain or --format json lists them all).",
                    indent + "  ",
                )
            )
    if item.evidence.contested:
        lines.append(f"{indent}Claims of the article the graph corrects (not counted as support):")
        for statement in item.evidence.contested:
            lines += _statement_lines(statement, indent + "  ", full=full)
    return lines


# -------------------------------------------------------------------------------------------
# csfkg recommend
# -------------------------------------------------------------------------------------------
def _recommend_text(result: PatientResult) -> str:
    lines = _headline(result)
    if not result.validation.conforms:
        return "\n".join(lines + _violations(result)) + "\n"
    step = result.next_step
    assert step is not None  # conforming data always gets one next step
    lines += _why(step, result.patient)
    if step.protocols:
        lines.append("Protocols:")
    for protocol in step.protocols:
        lines.append(_wrap(f"- {protocol.protocol_label}: " + "; ".join(protocol.requirements) + ".", "  "))
    if step.red_flag_actions:
        lines.append("For the red flags present:")
    for action in step.red_flag_actions:
        flags = ", ".join(f.label for f in action.red_flags)
        lines.append(_wrap(f"- {action.label} ({flags}): {action.action}", "  "))
    lines += _missing(result)
    companions = [r for r in result.recommendations if r.role != "next-step"]
    if companions:
        lines.append("Also:")
        for item in companions:
            lines.append(_wrap(f"- {item.label}: {item.rationale}", "  "))
    lines += _about(result)
    lines += _warnings(result)
    lines += _evidence(step, "", "the next step", limit=SHOWN_SUPPORTS, full=False)
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------
# csfkg explain
# -------------------------------------------------------------------------------------------
def _criterion_text(criterion: Criterion, patient: str) -> str:
    facts = "; ".join(_fact_texts(criterion, patient))
    return criterion.label + (f" ({facts})" if facts else "")


def _applies(branch: Branch, patient: str) -> list[str]:
    """Why the rule applies, in plain words: the criteria it requires that are met, and those
    whose presence would rule it out that are not met (no "excludes ... not met")."""
    required = [_criterion_text(c, patient) for c in branch.criteria if c.relation == "requires" and c.met]
    absent = [c.label for c in branch.criteria if c.relation == "excludes" and not c.met]
    reasons = []
    if required:
        reasons.append("; ".join(required))
    if absent:
        lead = "none of these is the case: " if len(absent) > 1 else "this is not the case: "
        reasons.append(lead + "; ".join(absent))
    lines = [_wrap("It applies because " + ", and ".join(reasons) + ".", "    ")] if reasons else []
    unmet = [c.label for c in branch.criteria if c.relation == "requires" and not c.met]
    present = [c.label for c in branch.criteria if c.relation == "excludes" and c.met]
    if unmet or present:  # cannot happen for a derived recommendation; said plainly if it does
        lines.append(_wrap("It does not apply because: " + "; ".join(unmet + present) + ".", "    "))
    return lines


def _not_applying(branch: Branch) -> str:
    """``- "rule" does not apply because ...``: the criteria it requires that are not met, and
    those it excludes that are met, in plain words."""
    unmet = [c.label for c in branch.criteria if c.relation == "requires" and not c.met]
    present = [c.label for c in branch.criteria if c.relation == "excludes" and c.met]
    reasons = []
    if unmet:
        reasons.append(
            ("none of these is the case: " if len(unmet) > 1 else "this is not the case: ") + "; ".join(unmet)
        )
    if present:
        reasons.append(
            ("these are the case: " if len(present) > 1 else "this is the case: ") + "; ".join(present)
        )
    return f'- "{branch.label}" does not apply because ' + ", and ".join(reasons) + "."


def _explain_text(result: PatientResult) -> str:
    lines = _headline(result)
    if not result.validation.conforms:
        return "\n".join(lines + _violations(result)) + "\n"
    for item in result.recommendations:
        lines.append("")
        lines.append(_wrap(("Next step" if item.role == "next-step" else "Also") + f": {item.label}"))
        for branch in item.branches:
            lines.append(_wrap(f'Rule: "{branch.label}".', "  "))
            lines += _applies(branch, result.patient)
            lines.append(_wrap(branch.rationale, "    "))
        if item.rules_tried_before:
            lines.append(
                _wrap("Rules tried before it, in order (the first that applies gives the next step):", "  ")
            )
            lines += [_wrap(_not_applying(branch), "    ", "    ") for branch in item.rules_tried_before]
        for action in item.red_flag_actions:
            lines.append(_wrap(f"Action for {action.label}: {action.action}", "  "))
            present = "Red flags present: " if len(action.red_flags) > 1 else "Red flag present: "
            lines.append(_wrap(present + ", ".join(f.label for f in action.red_flags) + ".", "    "))
            for statement in action.evidence:
                lines += _statement_lines(statement, "    ", full=True)
        lines += _evidence(item, "  ", "it", limit=None, full=True)
    about = _about(result)
    if about:
        lines += ["", *about]
    missing = _missing(result) + _warnings(result)
    if missing:
        lines += ["", *missing]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------
# Markdown: the detail of a CDS Hooks card, in the order of csfkg recommend
# -------------------------------------------------------------------------------------------
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<|])")


def markdown_text(text: str) -> str:
    """``text`` with the characters GitHub Flavored Markdown would read as markup escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _md_statements(statements: list[Statement], *, limit: int | None, contested: bool) -> list[str]:
    shown = statements if limit is None else statements[:limit]
    lines = []
    verb = CORRECTED_BY if contested else "note"
    for statement in shown:
        lines.append(f"- {markdown_text(statement.label)} ({markdown_text(source_note(statement))})")
        lines += [
            f"  - {verb}: {markdown_text(linked.label)} ({markdown_text(source_note(linked))})"
            for linked in statement.linked
        ]
    if len(statements) > len(shown):
        lines.append(f"- and {len(statements) - len(shown)} more (csfkg explain lists them all)")
    return lines


def render_markdown(result: PatientResult) -> str:
    """One patient's result as GitHub Flavored Markdown (the ``detail`` of a CDS Hooks card), in
    the order of ``csfkg recommend``'s text: the headline (next step and what not to do now in
    bold), why, the protocols and red flag actions, what is missing, what to do besides, the
    evidence that supports the next step (strongest first, the first :data:`SHOWN_SUPPORTS`)
    apart from the article's claims the graph corrects."""
    headline = headline_sentences(result)
    emphasised = 1 + len(result.deferred)
    blocks = [
        f"**{markdown_text(s)}**" if i < emphasised else markdown_text(s) for i, s in enumerate(headline)
    ]
    step = result.next_step
    if not result.validation.conforms or step is None:
        corrections = [
            f"- [{markdown_text(v.name)}] {markdown_text(readable(v.message))}"
            for v in result.validation.results
        ]
        blocks.append("To correct in the record:\n\n" + "\n".join(corrections))
        return "\n\n".join(blocks) + "\n"
    blocks += [markdown_text(sentence) for sentence in why_sentences(step, result.patient)]
    if step.protocols:
        blocks.append(
            "Protocols:\n\n"
            + "\n".join(
                f"- {markdown_text(p.protocol_label)}: {markdown_text('; '.join(p.requirements))}."
                for p in step.protocols
            )
        )
    if step.red_flag_actions:
        actions = [
            f"- {markdown_text(a.label)} ({markdown_text(', '.join(f.label for f in a.red_flags))}): {markdown_text(a.action)}"
            for a in step.red_flag_actions
        ]
        blocks.append("For the red flags present:\n\n" + "\n".join(actions))
    missing = missing_sentence(result)
    if missing is not None:
        blocks.append(markdown_text(missing))
    companions = [r for r in result.recommendations if r.role != "next-step"]
    if companions:
        blocks.append(
            "Also:\n\n"
            + "\n".join(f"- {markdown_text(r.label)}: {markdown_text(r.rationale)}" for r in companions)
        )
    if step.evidence.supports:
        supports = _md_statements(step.evidence.supports, limit=SHOWN_SUPPORTS, contested=False)
        blocks.append("Evidence that supports the next step, strongest first:\n\n" + "\n".join(supports))
    if step.evidence.contested:
        contested = _md_statements(step.evidence.contested, limit=None, contested=True)
        blocks.append(
            "Claims of the article the graph corrects (not counted as support):\n\n" + "\n".join(contested)
        )
    return "\n\n".join(blocks) + "\n"
