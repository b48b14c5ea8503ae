"""The CDS Hooks service over HTTP: ``csfkg serve`` runs for real (uvicorn on 127.0.0.1, a free
port), and every answer is checked against the shapes the CDS Hooks 2.0 specification gives
(tests/service/*.schema.json). Malformed requests get 400 and a JSON problem, a request without
the prefetch gets 412, never a 500. The cards of the seed requests need the FHIR import
(csfkg.fhir.bundles, issue 23's other half): those tests are skipped until it is installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cds_support
import pytest
from cds_support import DISCOVERY, RESPONSE, SEED_TODAY, seed_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csfkg.service.discovery import PREFETCH

SERVICE = {"order-select": "/cds-services/csfkg-order-select", "order-sign": "/cds-services/csfkg-order-sign"}
HOOKS = sorted(SERVICE)
cds_server = cds_support.cds_server  # the module's real server (a fixture)


def _problem(status: int, body: Any) -> str:
    """The one sentence of a JSON problem body."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    message = body["error"]
    assert (
        isinstance(message, str)
        and message.endswith(".")
        and "\n" not in message
        and "Traceback" not in message
    )
    return message


# ---------------------------------------------------------------------------------------------
# discovery and feedback
# ---------------------------------------------------------------------------------------------
def test_discovery_lists_one_service_per_hook_with_the_prefetch_templates(cds_server) -> None:
    status, body = cds_server.get("/cds-services")
    assert status == 200
    DISCOVERY.validate(body)
    services = {s["hook"]: s for s in body["services"]}
    assert sorted(services) == HOOKS
    for hook, service in services.items():
        assert SERVICE[hook] == f"/cds-services/{service['id']}"
        templates = service["prefetch"]
        asked = {template.split("?")[0].split("/")[0] for template in templates.values()}
        assert asked == {
            "Patient", "Condition", "Procedure", "ServiceRequest", "ImagingStudy", "DiagnosticReport", "Observation",
        }  # fmt: skip
        assert templates["patient"] == "Patient/{{context.patientId}}"
        assert all("{{context.patientId}}" in template for template in templates.values())


def test_feedback_of_the_specification_example_is_accepted(cds_server) -> None:
    feedback = {
        "feedback": [
            {
                "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
                "outcomeTimestamp": "2020-12-11T00:00:00Z",
            }
        ]
    }
    assert cds_server.post("/cds-services/csfkg-order-select/feedback", feedback) == (200, None)
    status, body = cds_server.post("/cds-services/csfkg-order-sign/feedback", b"{not json")
    assert status == 400 and "not JSON" in _problem(status, body)
    status, body = cds_server.post("/cds-services/csfkg-order-sign/feedback", {"card": "x"})
    assert status == 400 and "feedback list" in _problem(status, body)


def test_an_unknown_service_is_404_with_a_problem(cds_server) -> None:
    status, body = cds_server.post("/cds-services/no-such-service", seed_request("order-select"))
    assert status == 404 and "no-such-service" in _problem(status, body)
    status, body = cds_server.get("/no-such-path")
    assert status == 404 and "/no-such-path" in _problem(status, body)


# ---------------------------------------------------------------------------------------------
# 412: the prefetch the service needs is missing (it never fetches from fhirServer)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hook", HOOKS)
def test_a_request_without_prefetch_is_412(cds_server, hook: str) -> None:
    request = seed_request(hook)
    del request["prefetch"]
    status, body = cds_server.post(SERVICE[hook], request)
    assert status == 412
    message = _problem(status, body)
    assert all(key in message for key in PREFETCH)


@pytest.mark.parametrize("key", sorted(PREFETCH))
def test_a_request_lacking_one_prefetch_key_is_412_naming_it(cds_server, key: str) -> None:
    request = seed_request("order-sign")
    del request["prefetch"][key]
    status, body = cds_server.post(SERVICE["order-sign"], request)
    assert status == 412
    assert f"prefetch {key};" in _problem(status, body)


def test_a_null_patient_prefetch_is_412(cds_server) -> None:
    request = seed_request("order-select")
    request["prefetch"]["patient"] = None
    status, body = cds_server.post(SERVICE["order-select"], request)
    assert status == 412 and "Patient seed" in _problem(status, body)


# ---------------------------------------------------------------------------------------------
# 400: malformed requests
# ---------------------------------------------------------------------------------------------
def _edit(path: str, value: Any) -> dict[str, Any]:
    """The seed order-select request with the element at ``path`` (dots) set to ``value``, or
    removed when ``value`` is ``...``."""
    request = seed_request("order-select")
    *parents, last = path.split(".")
    node = request
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return request


MALFORMED: dict[str, tuple[bytes | dict[str, Any] | list[Any], str]] = {
    "not JSON": (b'{"hook": "order-select",', "not JSON"),
    "not UTF-8": (b"\xff\xfe{}", "not JSON"),
    "a JSON array": (b"[]", "not a JSON object"),
    "a JSON string": (b'"order-select"', "not a JSON object"),
    "no hook": (_edit("hook", ...), "no hook"),
    "hook a number": (_edit("hook", 42), "no hook"),
    "another hook": (_edit("hook", "patient-view"), "not patient-view"),
    "no hookInstance": (_edit("hookInstance", ...), "hookInstance"),
    "context a list": (_edit("context", []), "no context"),
    "no patientId": (_edit("context.patientId", ...), "context.patientId"),
    "patientId not a FHIR id": (_edit("context.patientId", "seed patient/1"), "not a FHIR id"),
    "no userId": (_edit("context.userId", ...), "context.userId"),
    "draftOrders a list": (_edit("context.draftOrders", []), "context.draftOrders"),
    "draftOrders not a Bundle": (_edit("context.draftOrders", {"resourceType": "Patient"}), "not a Bundle"),
    "draft order not a resource": (
        _edit("context.draftOrders.entry", [{"resource": 3}]),
        "entry[0].resource",
    ),
    "selections a string": (_edit("context.selections", "ServiceRequest/seed-second-mbb"), "selections"),
    "selection not drafted": (_edit("context.selections", ["ServiceRequest/other"]), "ServiceRequest/other"),
    "prefetch a list": (_edit("prefetch", []), "prefetch is not"),
    "prefetch not a resource": (
        _edit("prefetch.conditions", "Condition?patient=seed"),
        "prefetch.conditions",
    ),
    "prefetch of another patient": (
        _edit("prefetch.patient", {"resourceType": "Patient", "id": "x"}),
        "Patient seed",
    ),
    "fhirServer a number": (_edit("fhirServer", 7), "fhirServer"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_request_is_400_with_one_sentence(cds_server, case: str) -> None:
    body, said = MALFORMED[case]
    status, answer = cds_server.post(SERVICE["order-select"], body)
    assert status == 400, answer
    assert said in _problem(status, answer)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["hook", "hookInstance", "context", "prefetch", "patientId", "userId", "draftOrders", "selections",
             "resourceType", "entry", "resource", "id", "patient", *PREFETCH]
        ) | st.text(max_size=6),
        children,
        max_size=6,
    ),
    max_leaves=20,
)  # fmt: skip


def _mutated_seed(hook: str, path: list[str], value: object) -> dict[str, Any]:
    request = seed_request(hook)
    node: Any = request
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return request
    node[path[-1]] = value
    return request


PATHS = st.sampled_from(
    [["hook"], ["context"], ["context", "patientId"], ["context", "selections"], ["context", "draftOrders"],
     ["context", "draftOrders", "entry"], ["prefetch"], ["prefetch", "patient"], ["prefetch", "conditions"],
     ["prefetch", "procedures", "entry"], ["hookInstance"]]
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON_VALUES, hook=st.sampled_from(HOOKS), path=PATHS, value=JSON_VALUES, mutate=st.booleans())
def test_no_request_body_gets_a_500(cds_server, body, hook, path, value, mutate) -> None:
    """Random JSON, and the seed request with one element replaced by random JSON: a JSON answer,
    never a 500."""
    sent = _mutated_seed(hook, path, value) if mutate else body
    status, answer = cds_server.post(SERVICE[hook], sent)
    assert status in (200, 400, 412), (status, answer)
    if status == 200:
        RESPONSE.validate(answer)
    else:
        _problem(status, answer)


# ---------------------------------------------------------------------------------------------
# the cards of the seed requests (need the FHIR import)
# ---------------------------------------------------------------------------------------------
def _seed_recommendation() -> dict[str, Any]:
    """What ``csfkg recommend examples/seed-patient.ttl --format json`` says (the console script)."""
    script = Path(sys.executable).with_name("csfkg")
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [
            str(script),
            "recommend",
            str(repo / "examples" / "seed-patient.ttl"),
            "--format",
            "json",
            "--today",
            SEED_TODAY,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


@pytest.mark.parametrize("hook", HOOKS)
def test_the_seed_request_gets_the_card_of_the_seed_patient(cds_server, hook: str) -> None:
    status, body = cds_server.post(SERVICE[hook], seed_request(hook))
    assert status == 200, body
    RESPONSE.validate(body)
    [card] = body["cards"]
    expected = _seed_recommendation()
    assert card["summary"] == f"Next step: {expected['next_step']['label']}."
    assert card["indicator"] == "warning"  # the planned block is deferred; no red flag
    detail = card["detail"]
    # deferred as in the Turtle record; named by the class the order's code maps to (CPT 64493 is a
    # lumbar facet joint injection, of which the Turtle's medial branch block is one kind)
    deferred = expected["do_not_do_now"]
    assert deferred and detail.count("Do not do the planned ") == len(deferred)
    assert "Decision support for the treating clinician, not a diagnosis" in detail
    assert card["source"]["url"] == "https://w3id.org/csfkg/ontology"
    assert card["selectionBehavior"] == "any"
    actions = [action for suggestion in card["suggestions"] for action in suggestion["actions"]]
    created = sorted(
        coding["code"]
        for action in actions
        if action["type"] == "create"
        for coding in action["resource"]["code"]["coding"]
        if coding["system"] == "http://loinc.org"
    )
    assert created == ["24587-8", "36531-2"]
    assert [a["resourceId"] for a in actions if a["type"] == "delete"] == ["ServiceRequest/seed-second-mbb"]


def test_a_draft_order_that_is_not_a_spinal_procedure_gets_no_card(cds_server) -> None:
    request = seed_request("order-select")
    order = request["context"]["draftOrders"]["entry"][0]["resource"]
    order["code"] = {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]}
    status, body = cds_server.post(SERVICE["order-select"], request)
    assert (status, body) == (200, {"cards": []})


# ---------------------------------------------------------------------------------------------
# csfkg serve on the command line: what it refuses, in one sentence
# ---------------------------------------------------------------------------------------------
def test_serve_refuses_an_address_in_use_and_an_impossible_date(cli) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.code == 2 and result.out == ""
    assert (
        result.err.startswith(f"csfkg: Cannot listen on 127.0.0.1:{port} (") and result.err.count("\n") == 1
    )
    result = cli("serve", "--port", "1", "--today", "2026-02-30")
    assert result.code == 2 and "--today" in result.err and result.err.count("\n") == 1
