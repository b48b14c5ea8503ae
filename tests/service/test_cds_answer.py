"""The service's answer to a hook request (``answer_hook``), with a stand-in for the FHIR import:
until ``csfkg.fhir.bundles`` is installed, each resource of a Bundle is "imported" as the
subject of examples/seed-patient.ttl with the resource's id (the seed requests name them so), and
the patient keeps only its links to the resources given. What this checks is the service's own
part: which draft orders it looks at, one card or none, which order a deferral deletes. The
real import's answer is checked over HTTP in test_cds_server.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cds_support import REPO, RESPONSE, seed_request
from rdflib import Graph

from csfkg.model.vocab import CSF, PATIENT
from csfkg.service.app import Imported, answer_hook
from csfkg.service.discovery import SERVICES

SEED = Graph().parse(REPO / "examples" / "seed-patient.ttl")
LINKS = (CSF.hasProcedure, CSF.hasFinding)


def stand_in_import(bundle: dict[str, Any]) -> Imported:
    """The triples of the seed record about the Bundle's resources (by id); a resource without
    an id is counted as ignored."""
    ids = {entry["resource"].get("id") for entry in bundle["entry"]}
    nodes = {PATIENT[i] for i in ids if isinstance(i, str)}
    graph = Graph()
    for s, p, o in SEED:
        if s in nodes and (p not in LINKS or o in nodes):
            graph.add((s, p, o))
    anonymous = sum(1 for entry in bundle["entry"] if "id" not in entry["resource"])
    ignored = f"ignored {anonymous} resources: {anonymous} without an id" if anonymous else ""
    return Imported(graph, [PATIENT["seed"]] if PATIENT["seed"] in nodes else [], ignored)


def _answer(hook: str, request: dict[str, Any]) -> dict[str, Any]:
    service = SERVICES[f"csfkg-{hook}"]
    answer = answer_hook(service, json.dumps(request).encode(), today=None, importer=stand_in_import)
    RESPONSE.validate(answer)
    return answer


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_a_spinal_draft_order_gets_one_card_that_deletes_it(hook: str) -> None:
    [card] = _answer(hook, seed_request(hook))["cards"]
    assert card["summary"] == "Next step: obtain MRI of brain with contrast and whole spine."
    deletes = [a for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert [a["resourceId"] for a in deletes] == ["ServiceRequest/seed-second-mbb"]


def _with_second_order(request: dict[str, Any]) -> dict[str, Any]:
    """The seed request with a second draft order the graph knows nothing of (a lab test)."""
    other = {"resourceType": "ServiceRequest", "id": "glucose", "status": "draft", "intent": "order",
             "subject": {"reference": "Patient/seed"}}  # fmt: skip
    request["context"]["draftOrders"]["entry"].append({"resource": other})
    return request


def test_order_select_looks_at_the_selected_orders_only() -> None:
    request = _with_second_order(seed_request("order-select"))
    request["context"]["selections"] = ["ServiceRequest/glucose"]
    assert _answer("order-select", request) == {"cards": []}
    request["context"]["selections"] = ["ServiceRequest/glucose", "ServiceRequest/seed-second-mbb"]
    assert len(_answer("order-select", request)["cards"]) == 1


def test_order_sign_looks_at_every_draft_order_and_deletes_only_the_spinal_one() -> None:
    [card] = _answer("order-sign", _with_second_order(seed_request("order-sign")))["cards"]
    deletes = [a["resourceId"] for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert deletes == ["ServiceRequest/seed-second-mbb"]


def test_no_spinal_draft_order_no_card() -> None:
    request = seed_request("order-sign")
    request["context"]["draftOrders"]["entry"] = []
    assert _answer("order-sign", request) == {"cards": []}


def test_what_the_import_ignored_ends_the_detail() -> None:
    request = seed_request("order-sign")
    request["prefetch"]["observations"] = {"resourceType": "Observation", "status": "final"}
    [card] = _answer("order-sign", request)["cards"]
    assert card["detail"].endswith("\nFHIR import: ignored 1 resources: 1 without an id\n")
    [card] = _answer("order-sign", seed_request("order-sign"))["cards"]
    assert "FHIR import:" not in card["detail"]
