"""A CDS Hooks request (CDS Hooks 2.0, "Calling a CDS Service"), read and checked before anything
else runs: a malformed request is a :class:`ServiceProblem` with status 400 and one sentence; a
request without the prefetch the service needs is one with status 412 ("the CDS Service is
unable to obtain required data because it cannot access the FHIR server and the request did not
contain the necessary prefetch keys"). The checks are of the request's shape only; whether the
resources are valid FHIR R4 is the FHIR import's to say (``fhir.resources``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from csfkg.model.errors import CsfkgError
from csfkg.pipeline.render_fhir import FHIR_ID
from csfkg.service.discovery import PREFETCH, Service

MAX_REQUEST_BYTES = 4 * 1024 * 1024
"""The largest request body read (the limit of a patient file); a larger one is answered 413."""

Resource = dict[str, Any]


class ServiceProblem(CsfkgError):
    """A request the service cannot answer: the HTTP status, and ``str(problem)`` one sentence
    for the JSON problem body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class HookRequest:
    """The parts of a hook request the service reads. ``selections``: the ``Type/id`` of the
    newly selected orders (``order-select``; empty for ``order-sign``); ``prefetch``: each
    prefetch key's resource, or None when the client had no data for it."""

    hook: str
    hook_instance: str
    patient_id: str
    draft_orders: list[Resource]
    selections: list[str] = field(default_factory=list)
    prefetch: dict[str, Resource | None] = field(default_factory=dict)

    def orders_to_check(self) -> list[Resource]:
        """The draft orders decision support looks at: the selected ones for ``order-select``
        (the hook's "decision support should focus on the 'selected' orders"), every draft order
        for ``order-sign``."""
        if not self.selections:
            return list(self.draft_orders)
        return [order for order in self.draft_orders if reference_of(order) in self.selections]


def reference_of(resource: Resource) -> str | None:
    """``Type/id`` of a resource, or None when it has no id."""
    resource_id = resource.get("id")
    return f"{resource['resourceType']}/{resource_id}" if isinstance(resource_id, str) else None


def _bad(message: str) -> ServiceProblem:
    return ServiceProblem(400, message)


def _string(container: dict[str, Any], key: str, where: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(f"The request has no {where}{key} (a non-empty string).")
    return value


def _resource(value: Any, where: str) -> Resource:
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise _bad(f"{where} is not a FHIR resource (a JSON object with a resourceType).")
    return value


def _bundle_resources(bundle: Resource, where: str) -> list[Resource]:
    """The resources of a Bundle's entries."""
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise _bad(f"{where}.entry is not a list.")
    resources = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _bad(f"{where}.entry[{index}] is not a JSON object.")
        resources.append(_resource(entry.get("resource"), f"{where}.entry[{index}].resource"))
    return resources


def parse_hook_request(service: Service, body: bytes) -> HookRequest:
    """Read the body of ``POST /cds-services/{id}`` for ``service``.

    Raises:
        ServiceProblem: 413 for a body over :data:`MAX_REQUEST_BYTES`; 400 when it is not a JSON
            object of the hook's shape (hook, hookInstance, context.userId, context.patientId,
            context.draftOrders as a Bundle, context.selections for ``order-select``); 412 when a
            prefetch key of the service is missing.
    """
    if len(body) > MAX_REQUEST_BYTES:
        raise ServiceProblem(
            413, f"The request is larger than {MAX_REQUEST_BYTES} bytes, the limit of a request."
        )
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise _bad(f"The request body is not JSON ({error}).") from None
    if not isinstance(document, dict):
        raise _bad("The request body is not a JSON object.")
    hook = _string(document, "hook", "")
    if hook != service.hook:
        raise _bad(f"The service {service.id} answers the {service.hook} hook, not {hook}.")
    hook_instance = _string(document, "hookInstance", "")
    context = document.get("context")
    if not isinstance(context, dict):
        raise _bad("The request has no context (a JSON object).")
    _string(context, "userId", "context.")
    patient_id = _string(context, "patientId", "context.")
    if not FHIR_ID.fullmatch(patient_id):
        raise _bad("context.patientId is not a FHIR id (1 to 64 letters, digits, '-' and '.').")
    draft_bundle = _resource(context.get("draftOrders"), "context.draftOrders")
    if draft_bundle["resourceType"] != "Bundle":
        raise _bad("context.draftOrders is not a Bundle.")
    draft_orders = _bundle_resources(draft_bundle, "context.draftOrders")
    selections: list[str] = []
    if hook == "order-select":
        selections = context.get("selections")  # type: ignore[assignment]
        if (
            not isinstance(selections, list)
            or not selections
            or not all(isinstance(s, str) for s in selections)
        ):
            raise _bad("The request has no context.selections (a non-empty list of Type/id strings).")
        known = {reference_of(order) for order in draft_orders}
        unknown = [s for s in selections if s not in known]
        if unknown:
            raise _bad(f"context.selections names {unknown[0]}, which is not in context.draftOrders.")
    for key in ("fhirServer",):
        if key in document and not isinstance(document[key], str):
            raise _bad(f"{key} is not a string.")
    prefetch = document.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise _bad("prefetch is not a JSON object.")
    missing = [key for key in PREFETCH if key not in (prefetch or {})]
    if missing:
        raise ServiceProblem(
            412,
            f"The request lacks the prefetch {', '.join(missing)}; this service does not fetch from "
            "the FHIR server: send every prefetch key of the discovery response (null when there is no data).",
        )
    assert prefetch is not None
    found: dict[str, Resource | None] = {}
    for key in PREFETCH:
        value = prefetch[key]
        found[key] = None if value is None else _resource(value, f"prefetch.{key}")
    patient = found["patient"]
    if patient is None:
        raise ServiceProblem(412, f"The prefetch patient is null: the Patient {patient_id} is needed.")
    if patient["resourceType"] != "Patient" or patient.get("id") != patient_id:
        raise _bad(f"prefetch.patient is not the Patient {patient_id} of context.patientId.")
    return HookRequest(
        hook=hook,
        hook_instance=hook_instance,
        patient_id=patient_id,
        draft_orders=draft_orders,
        selections=selections,
        prefetch=found,
    )


def prefetched_resources(request: HookRequest) -> list[Resource]:
    """Every resource of the prefetch: a single resource as it is, a (searchset) Bundle as its
    entries' resources."""
    resources: list[Resource] = []
    for key, value in request.prefetch.items():
        if value is None:
            continue
        if value["resourceType"] == "Bundle":
            resources += _bundle_resources(value, f"prefetch.{key}")
        else:
            resources.append(value)
    return resources
