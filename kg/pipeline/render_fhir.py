"""The recommendation as FHIR R4 (``csfkg recommend --format fhir``), and the FHIR resources the
CDS Hooks cards suggest: what the result graph says, in the resources CPG-on-FHIR's ``$apply``
returns.

Per patient a ``GuidanceResponse`` (the evaluation: status, the line that says what the output is,
what is missing) whose ``result`` is a ``RequestGroup`` (the proposal): the next step first, with
its reasons and evidence (``documentation``: what supports it as ``justification``, the article's
claims the graph corrects as ``documentation`` labelled so) and, when it is imaging, one
``ServiceRequest`` proposal per MRI study by its LOINC code (``queries/report-imaging-orders.rq``);
then "do not do the planned ... now", the red flags to screen now and the recommendations besides.
How urgent it is (``queries/report-urgency.rq``) is the RequestGroup's priority. Everything goes
in one ``Bundle`` of type ``collection``, with ``urn:uuid`` identifiers derived from the patient's
IRI (the same input gives the same output).

The resources are plain JSON objects; ``tests/pipeline/test_render_fhir.py`` parses every
vignette's output with ``fhir.resources.R4B``. Renderers return strings; they never print.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from rdflib import URIRef

from csfkg.model.vocab import (
    FHIR_ACTION_TYPE,
    GUIDELINE_IRI,
    PATIENT,
    URI_IDENTIFIER_SYSTEM,
)
from csfkg.pipeline.assess import AssessmentRun
from csfkg.pipeline.render import (
    disclaimer_sentence,
    headline_sentences,
    missing_sentence,
    readable,
    source_note,
    why_sentences,
)
from csfkg.pipeline.results import PatientResult, Statement
from csfkg.sparql.library import get_query
from csfkg.stores import SelectResult, Store

Resource = dict[str, Any]

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""FHIR R4's id datatype: what a Patient.id may be, and so the last part of a patient's IRI."""

PRIORITY = {"critical": "stat", "warning": "routine", "info": "routine"}
"""The RequestGroup priority of each urgency of ``report-urgency.rq``: a red flag calls for
evaluation now; a deferral or a next step is routine."""


@dataclass(frozen=True)
class ImagingOrder:
    """An MRI study to order: its class in the ontology, label, and code (FHIR system + code)."""

    study_class: str
    label: str
    system: str
    code: str


def _rows(store: Store, name: str, bindings: dict[str, URIRef]) -> list[SimpleNamespace]:
    result = store.query(get_query(name).text, bindings)
    assert isinstance(result, SelectResult)
    return [SimpleNamespace(**row) for row in result.dicts()]


def fhir_coding(term: str, iri: str) -> tuple[str, str] | None:
    """``(system, code)`` of the terminology IRI ``iri`` that ``term`` is mapped to
    (``https://loinc.org/24587-8`` -> ``("http://loinc.org", "24587-8")``), read from the one
    table of the ontology's FHIR codings (:func:`csfkg.fhir.codes.code_table`, which also teaches
    the importer its codes); None when the table has no such recognised coding."""
    from csfkg.fhir.codes import code_table

    local = iri.rsplit("/", 1)[-1]
    for coding in code_table().codings_of(URIRef(term)):
        if coding.match != "own" and coding.code == local:
            return coding.system, coding.code
    return None


def read_urgency(store: Store, patient: str) -> str:
    """``critical``, ``warning`` or ``info`` for a derived patient (``report-urgency.rq``)."""
    rows = _rows(store, "report-urgency", {"patient": URIRef(patient)})
    return str(rows[0].urgency) if rows else "info"


def read_imaging_orders(store: Store, action: str) -> list[ImagingOrder]:
    """The MRI studies ``action`` calls for, by LOINC code (``report-imaging-orders.rq``); none
    for an action that is not imaging."""
    orders = []
    for row in _rows(store, "report-imaging-orders", {"action": URIRef(action)}):
        coding = fhir_coding(str(row.studyClass), str(row.code))
        if coding is not None:
            orders.append(ImagingOrder(str(row.studyClass), str(row.label), *coding))
    return orders


def patient_reference(patient: str) -> Resource:
    """A Reference to the patient: ``Patient/<id>`` for a patient of the ``ex:`` namespace (the
    IRI a FHIR Patient.id is imported as), else the IRI as an identifier."""
    if patient.startswith(str(PATIENT)) and FHIR_ID.fullmatch(patient[len(str(PATIENT)) :]):
        return {"reference": f"Patient/{patient[len(str(PATIENT)) :]}"}
    return {"identifier": {"system": URI_IDENTIFIER_SYSTEM, "value": patient}}


def imaging_service_request(
    order: ImagingOrder, patient: str, *, intent: str, reason: str, resource_id: str | None = None
) -> Resource:
    """A draft ServiceRequest for one MRI study, coded with its LOINC code."""
    resource: Resource = {"resourceType": "ServiceRequest"}
    if resource_id is not None:
        resource["id"] = resource_id
    resource |= {
        "status": "draft",
        "intent": intent,
        "code": {
            "coding": [{"system": order.system, "code": order.code, "display": order.label}],
            "text": order.label,
        },
        "subject": patient_reference(patient),
        "reasonCode": [{"text": reason}],
    }
    return resource


def _uuid(patient: str, role: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{patient}#{role}"))


def _artifacts(statements: list[Statement], *, contested: bool) -> list[Resource]:
    return [
        {
            "type": "documentation" if contested else "justification",
            "label": "corrected by the graph, not counted as support" if contested else statement.tier,
            "display": f"{statement.label} ({source_note(statement)})",
        }
        for statement in statements
    ]


def _guidance(result: PatientResult, store: Store) -> list[tuple[str, Resource]]:
    """The entries of one patient: GuidanceResponse, RequestGroup, ServiceRequest proposals."""
    patient = result.patient
    subject = patient_reference(patient)
    guidance_id = _uuid(patient, "guidance")
    guidance: Resource = {
        "resourceType": "GuidanceResponse",
        "id": guidance_id,
        "moduleUri": str(GUIDELINE_IRI),
        "status": "success" if result.validation.conforms else "failure",
        "subject": subject,
        "note": [{"text": disclaimer_sentence(result)}],
    }
    if result.assessment_date:
        guidance["occurrenceDateTime"] = result.assessment_date
    step = result.next_step
    if not result.validation.conforms or step is None:
        guidance["note"] += [
            {"text": f"To correct in the record: [{v.name}] {readable(v.message)}"}
            for v in result.validation.results
            if v.is_violation
        ]
        return [(guidance_id, guidance)]
    missing = missing_sentence(result)
    if missing is not None:
        guidance["note"].append({"text": missing})

    urgency = read_urgency(store, patient)
    entries: list[tuple[str, Resource]] = []
    orders = []
    reason = " ".join(why_sentences(step, patient))
    for order in read_imaging_orders(store, step.iri):
        order_id = _uuid(patient, f"order/{order.study_class}")
        entries.append(
            (
                order_id,
                imaging_service_request(
                    order, patient, intent="proposal", reason=reason, resource_id=order_id
                ),
            )
        )
        orders.append({"title": order.label, "resource": {"reference": f"urn:uuid:{order_id}"}})
    next_action: Resource = {
        "title": headline_sentences(result)[0],
        "description": reason,
        "priority": PRIORITY[urgency],
    }
    documentation = _artifacts(step.evidence.supports, contested=False) + _artifacts(
        step.evidence.contested, contested=True
    )
    if documentation:
        next_action["documentation"] = documentation
    sub_actions = orders + [
        {
            "title": f"{action.label} ({', '.join(f.label for f in action.red_flags)})",
            "description": action.action,
            "priority": PRIORITY[urgency],
        }
        for action in step.red_flag_actions
    ]
    if sub_actions:
        next_action["action"] = sub_actions
    actions = [next_action]
    actions += [
        {
            "title": f"Do not do the planned {procedure.label} now.",
            "type": {"coding": [{"system": FHIR_ACTION_TYPE, "code": "remove"}]},
        }
        for procedure in result.deferred
    ]
    if result.screen_now:
        actions.append(
            {
                "title": "Screen now for red flags.",
                "description": "Screen now for: " + ", ".join(f.label for f in result.screen_now) + ".",
            }
        )
    actions += [
        {"title": item.label, "description": item.rationale}
        for item in result.recommendations
        if item.role != "next-step"
    ]
    group_id = _uuid(patient, "request-group")
    group: Resource = {
        "resourceType": "RequestGroup",
        "id": group_id,
        "instantiatesUri": [str(GUIDELINE_IRI)],
        "status": "draft",
        "intent": "proposal",
        "priority": PRIORITY[urgency],
        "subject": subject,
        "note": [{"text": disclaimer_sentence(result)}],
        "action": actions,
    }
    if result.assessment_date:
        group["authoredOn"] = result.assessment_date
    guidance["result"] = {"reference": f"urn:uuid:{group_id}"}
    return [(guidance_id, guidance), (group_id, group), *entries]


def fhir_bundle(run: AssessmentRun) -> Resource:
    """The Bundle (type ``collection``) of every patient's GuidanceResponse, RequestGroup and
    ServiceRequest proposals, in the order of the patients."""
    entries = [
        {"fullUrl": f"urn:uuid:{resource_id}", "resource": resource}
        for result in run.results
        for resource_id, resource in _guidance(result, run.store)
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def render_fhir(run: AssessmentRun) -> str:
    """``csfkg recommend --format fhir``: :func:`fhir_bundle` as JSON."""
    return json.dumps(fhir_bundle(run), indent=2, ensure_ascii=False) + "\n"
