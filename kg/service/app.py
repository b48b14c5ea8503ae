"""The Starlette application of the CDS Hooks service (``csfkg serve`` runs it with uvicorn).

Routes (CDS Hooks 2.0):

- ``GET /cds-services``: discovery (:mod:`csfkg.service.discovery`);
- ``POST /cds-services/{id}``: the hook request is checked (:mod:`.hook_requests`), the draft
  orders to look at are imported one by one with the patient and asked whether they are spinal
  procedures (:mod:`.orders`); when none is, the answer is ``{"cards": []}``; else prefetch and
  draft orders are imported as one Bundle (``csfkg.fhir.bundles.graph_from_bundle``) and assessed
  as ``csfkg recommend`` assesses a patient file (:func:`csfkg.pipeline.assess.assess`, in
  memory), and the answer is the card of the result (:mod:`.cards`);
- ``POST /cds-services/{id}/feedback``: accepted (200) when it is a JSON object with a
  ``feedback`` list; it is logged, not stored.

Every error is a JSON problem, ``{"error": "one sentence"}``: 400 for a malformed request or FHIR
the import refuses, 404 for an unknown service, 412 for a missing prefetch, 413 for a request
over the size limit. A 500 would be a defect; it is answered as JSON too. The first request costs what every later one costs: the knowledge, the
queries and the FHIR models are loaded at start-up by assessing one patient.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any, NamedTuple

from rdflib import Graph, URIRef
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from csfkg.model.errors import CsfkgError
from csfkg.model.vocab import PATIENT
from csfkg.pipeline.assess import assess
from csfkg.service.cards import card
from csfkg.service.discovery import SERVICES, Service, discovery
from csfkg.service.hook_requests import MAX_REQUEST_BYTES, Resource, ServiceProblem, parse_hook_request
from csfkg.service.orders import patient_bundle, spinal_orders

LOG = logging.getLogger("csfkg.service")


class Imported(NamedTuple):
    """What the FHIR import gives the service: the patient graph, its patients, and the sentence
    that counts what it ignored ("" when nothing)."""

    graph: Graph
    patients: list[URIRef]
    ignored: str


BundleImporter = Callable[[Resource], Imported]
"""A FHIR Bundle (JSON) -> :class:`Imported`."""


def fhir_importer(today: date | None) -> BundleImporter:
    """``csfkg.fhir.bundles.graph_from_bundle`` with ``today``."""
    from pydantic import ValidationError

    from csfkg.fhir.bundles import graph_from_bundle

    def import_bundle(bundle: Resource) -> Imported:
        try:
            imported = graph_from_bundle(bundle, today=today)
        except ValidationError as error:  # the import's own sentence is expected; never a 500
            first = error.errors()[0] if error.errors() else {}
            where = ".".join(str(part) for part in first.get("loc", ()))
            raise ServiceProblem(
                400, f"The FHIR resources are not valid FHIR R4 ({where}: {first.get('msg')})."
            ) from None
        return Imported(imported.graph, list(imported.patients), imported.ignored_sentence())

    return import_bundle


def answer_hook(
    service: Service, body: bytes, *, today: date | None, importer: BundleImporter | None = None
) -> dict[str, Any]:
    """The response body of ``POST /cds-services/{id}`` (synchronous; run in a worker thread).
    ``importer``: default, the FHIR import (:func:`fhir_importer`).

    Raises:
        ServiceProblem: the request is malformed (400), lacks prefetch (412) or is too large (413).
        CsfkgError: the FHIR import refuses the resources (one sentence).
    """
    request = parse_hook_request(service, body)
    importer = importer if importer is not None else fhir_importer(today)
    patient = URIRef(PATIENT[request.patient_id])
    orders = spinal_orders(request, patient, lambda bundle: importer(bundle).graph)
    if not orders:
        return {"cards": []}
    imported = importer(patient_bundle(request))
    if patient not in imported.patients:
        raise ServiceProblem(
            400, f"The prefetch's Patient {request.patient_id} was not imported as a patient."
        )
    run = assess(imported.graph, [patient], today=today)
    try:
        return {"cards": [card(run, run.results[0], orders, import_note=imported.ignored)]}
    finally:
        run.store.close()


def warm_up() -> None:
    """Load everything a request needs once: the knowledge, the shapes, the queries (by assessing
    the article's patient as the quick-lookup flags describe it and building its card), the FHIR
    models and the FHIR import."""
    from csfkg.io.flags import PatientFlags, build_patient_graph
    from csfkg.io.patient_files import select_patients

    graph = build_patient_graph(
        PatientFlags(
            symptoms=["orthostatic-headache"],
            prior_procedures=["medial-branch-block"],
            levels="L1-L4",
            planned_procedures=["medial-branch-block"],
            insurance_required=True,
        )
    )
    run = assess(graph, select_patients(graph, patient=None, all_patients=True))
    card(run, run.results[0], [])
    run.store.close()
    fhir_importer(None)(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "Patient", "id": "warm-up"}}],
        }
    )


async def _body(request: Request) -> bytes:
    """The request body, refused as soon as it passes :data:`MAX_REQUEST_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise ServiceProblem(
                413, f"The request is larger than {MAX_REQUEST_BYTES} bytes, the limit of a request."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _service(request: Request) -> Service:
    service = SERVICES.get(request.path_params["id"])
    if service is None:
        raise ServiceProblem(
            404, f"There is no CDS service {request.path_params['id']!r}; GET /cds-services lists them."
        )
    return service


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _on_problem(request: Request, error: Exception) -> Response:
    if isinstance(error, ServiceProblem):
        return _problem(error.status, str(error))
    return _problem(400, str(error))  # any other CsfkgError: input the user (the client) can correct


async def _on_http(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return _problem(error.status_code, f"{error.detail}: {request.method} {request.url.path}.")


async def _on_defect(request: Request, error: Exception) -> Response:
    LOG.exception("a defect answered as 500")
    return _problem(500, f"The service failed on this request ({type(error).__name__}); this is a defect.")


def create_app(*, today: date | None = None, warm: bool = True) -> Starlette:
    """The application. ``today``: the assessment date of every request (default: the import's,
    from the Bundle, else the current date); ``warm``: load everything at start-up."""

    async def get_discovery(request: Request) -> Response:
        return JSONResponse(discovery())

    async def post_hook(request: Request) -> Response:
        service = _service(request)
        body = await _body(request)
        return JSONResponse(await run_in_threadpool(answer_hook, service, body, today=today))

    async def post_feedback(request: Request) -> Response:
        service = _service(request)
        body = await _body(request)
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise ServiceProblem(400, "The feedback is not JSON.") from None
        if not isinstance(document, dict) or not isinstance(document.get("feedback"), list):
            raise ServiceProblem(400, "The feedback is not a JSON object with a feedback list.")
        LOG.info("feedback for %s: %d items", service.id, len(document["feedback"]))
        return Response(status_code=200)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if warm:
            await run_in_threadpool(warm_up)
        yield

    return Starlette(
        routes=[
            Route("/cds-services", get_discovery, methods=["GET"]),
            Route("/cds-services/{id}", post_hook, methods=["POST"]),
            Route("/cds-services/{id}/feedback", post_feedback, methods=["POST"]),
        ],
        exception_handlers={
            CsfkgError: _on_problem,
            HTTPException: _on_http,
            Exception: _on_defect,
        },
        # CORS, for CDS clients that call from a browser (CDS Hooks, "Cross-Origin Resource Sharing")
        middleware=[
            Middleware(
                CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"], allow_headers=["*"]
            )
        ],
        lifespan=lifespan,
    )
