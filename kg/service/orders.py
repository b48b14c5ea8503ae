"""The patient's data as one FHIR Bundle, and which draft orders are spinal procedures.

Whether an order is a spinal procedure is the graph's to say, not a code list's: the order is
imported with the patient (the FHIR import recognises its code through the ontology's
mappings), and ``queries/planned-spinal-procedures.rq`` asks the graph for a planned procedure of
a class under csf:SpinalProcedure. An order the import does not recognise gives no row, and no
card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Graph, URIRef

from csfkg.model.knowledge import add_rules
from csfkg.service.hook_requests import HookRequest, Resource, prefetched_resources, reference_of
from csfkg.sparql.library import get_query
from csfkg.stores import OxigraphStore, SelectResult


@dataclass(frozen=True)
class SpinalOrder:
    """A draft order the graph takes for a planned spinal procedure: its ``Type/id`` (None
    without an id) and the classes and labels of the procedures it was imported as."""

    reference: str | None
    classes: frozenset[str]
    label: str


def collection(resources: list[Resource]) -> Resource:
    """A Bundle of type ``collection`` of ``resources``, each ``Type/id`` once (the later one
    wins: a draft order over the same order found by the prefetch's search)."""
    by_reference: dict[str, Resource] = {}
    anonymous: list[Resource] = []
    for resource in resources:
        reference = reference_of(resource)
        if reference is None:
            anonymous.append(resource)
        else:
            by_reference.pop(reference, None)
            by_reference[reference] = resource
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in [*by_reference.values(), *anonymous]],
    }


def patient_bundle(request: HookRequest) -> Resource:
    """The prefetch and every draft order in one Bundle: what the FHIR import reads."""
    return collection([*prefetched_resources(request), *request.draft_orders])


@dataclass(frozen=True)
class PlannedProcedure:
    """A planned spinal procedure: its node, its most specific class and that class's label."""

    procedure: str
    cls: str
    label: str


def planned_spinal_procedures(graph: Graph, patient: URIRef) -> list[PlannedProcedure]:
    """Each planned spinal procedure of ``patient`` in ``graph`` (``planned-spinal-procedures.rq``,
    over the graph and the ontology)."""
    store = OxigraphStore()
    try:
        add_rules(store)
        store.add_graph(graph)
        result = store.query(get_query("planned-spinal-procedures").text, {"patient": patient})
        assert isinstance(result, SelectResult)
        return [
            PlannedProcedure(str(row["procedure"]), str(row["class"]), str(row["label"]))
            for row in result.dicts()
        ]
    finally:
        store.close()


def spinal_orders(
    request: HookRequest, patient: URIRef, import_bundle: Callable[[Resource], Graph]
) -> list[SpinalOrder]:
    """The draft orders to check (:meth:`HookRequest.orders_to_check`) that the graph takes for
    planned spinal procedures, each imported alone with the patient so that what the graph says
    about it is about that order."""
    patient_resource = request.prefetch["patient"]
    assert patient_resource is not None
    found = []
    for order in request.orders_to_check():
        graph = import_bundle(collection([patient_resource, order]))
        procedures = planned_spinal_procedures(graph, patient)
        if procedures:
            found.append(
                SpinalOrder(
                    reference=reference_of(order),
                    classes=frozenset(p.cls for p in procedures),
                    label=", ".join(dict.fromkeys(p.label for p in procedures)),
                )
            )
    return found
