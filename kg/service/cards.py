"""The CDS Hooks card of one patient's result (CDS Hooks 2.0, "CDS Service Response"), built
from the same derivation and renderers as ``csfkg recommend``:

- ``summary``: the next step in one line (the first sentence of the text output), under 140
  characters;
- ``indicator``: how urgent the result graph says it is (``queries/report-urgency.rq``: critical
  for a red flag present, warning when a planned procedure is deferred, info otherwise);
- ``detail``: the text output's parts as Markdown (:func:`csfkg.pipeline.render.render_markdown`);
- ``source``: the ontology, by its IRI;
- ``suggestions``: create the MRI orders the next step calls for (by LOINC code,
  ``queries/report-imaging-orders.rq``), and delete the draft orders whose procedure the result
  defers (``queries/report-deferred-procedures.rq``), with ``selectionBehavior`` ``any``;
- ``links``: the ontology's documentation.

A record that violates a shape gets a warning card that names what to correct and suggests
nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from rdflib import URIRef

from csfkg.model.vocab import ONTOLOGY_IRI
from csfkg.pipeline.assess import AssessmentRun
from csfkg.pipeline.render import headline_sentences, markdown_text, render_markdown, why_sentences
from csfkg.pipeline.render_fhir import imaging_service_request, read_imaging_orders, read_urgency
from csfkg.pipeline.results import PatientResult
from csfkg.service.orders import SpinalOrder
from csfkg.sparql.library import get_query
from csfkg.stores import SelectResult

SUMMARY_LIMIT = 140
"""CDS Hooks: "one-sentence, <140-character summary"."""

SOURCE_LABEL = "csfkg: CSF leak after spinal procedures (knowledge graph)"
LINK_LABEL = "csfkg ontology and guideline knowledge"

Card = dict[str, Any]


def summary_line(result: PatientResult) -> str:
    """The first sentence of the text output, shortened with an ellipsis to fit the limit."""
    sentence = headline_sentences(result)[0]
    if len(sentence) < SUMMARY_LIMIT:
        return sentence
    return sentence[: SUMMARY_LIMIT - 2].rstrip() + "…"


def deferred_classes(run: AssessmentRun, patient: str) -> set[str]:
    """The classes of the planned procedures the patient's result defers."""
    result = run.store.query(get_query("report-deferred-procedures").text, {"patient": URIRef(patient)})
    assert isinstance(result, SelectResult)
    return {str(row["class"]) for row in result.dicts()}


def _suggestions(
    run: AssessmentRun, result: PatientResult, orders: list[SpinalOrder]
) -> list[dict[str, Any]]:
    step = result.next_step
    assert step is not None
    suggestions = []
    reason = " ".join(why_sentences(step, result.patient))
    imaging = read_imaging_orders(run.store, step.iri)
    if imaging:
        suggestions.append(
            {
                "label": f"Order {step.label}",
                "uuid": str(uuid.uuid4()),
                "isRecommended": True,
                "actions": [
                    {
                        "type": "create",
                        "description": f"Order {order.label} (LOINC {order.code}).",
                        "resource": imaging_service_request(
                            order, result.patient, intent="order", reason=reason
                        ),
                    }
                    for order in imaging
                ],
            }
        )
    deferred = deferred_classes(run, result.patient)
    to_delete = [o for o in orders if o.reference is not None and o.classes & deferred]
    if to_delete:
        suggestions.append(
            {
                "label": "Cancel the draft order: " + "; ".join(o.label for o in to_delete),
                "uuid": str(uuid.uuid4()),
                "isRecommended": True,
                "actions": [
                    {
                        "type": "delete",
                        "description": f"Do not do the planned {o.label} now: remove the draft order {o.reference}.",
                        "resourceId": o.reference,
                    }
                    for o in to_delete
                ],
            }
        )
    return suggestions


def card(
    run: AssessmentRun, result: PatientResult, orders: list[SpinalOrder], *, import_note: str = ""
) -> Card:
    """The card of ``result`` (one patient of ``run``), with the draft ``orders`` that are
    spinal procedures (the ones a deferral suggests deleting); ``import_note``, what the FHIR
    import ignored, ends the detail."""
    conforms = result.validation.conforms and result.next_step is not None
    built: Card = {
        "uuid": str(uuid.uuid4()),
        "summary": summary_line(result),
        "indicator": read_urgency(run.store, result.patient) if conforms else "warning",
        "detail": render_markdown(result)
        + (f"\nFHIR import: {markdown_text(import_note)}\n" if import_note else ""),
        "source": {"label": SOURCE_LABEL, "url": str(ONTOLOGY_IRI)},
    }
    suggestions = _suggestions(run, result, orders) if conforms else []
    if suggestions:
        built["suggestions"] = suggestions
        built["selectionBehavior"] = "any"
    built["links"] = [{"label": LINK_LABEL, "url": str(ONTOLOGY_IRI), "type": "absolute"}]
    return built
