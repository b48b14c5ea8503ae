"""SPARQL derivation, the one loop every command runs: the ``derive-*.rq`` queries, stage by
stage, as SPARQL Updates inside the store (each stage sees what the earlier ones added), after
the previous run's derived triples are cleared (``update-clear-derived.rq``): what a store holds
as derived is always a function of its current data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Graph

from csfkg.model.knowledge import add_rules
from csfkg.model.vocab import PREFIXES, STANDARD_PREFIXES
from csfkg.sparql.library import derivation_queries, get_query
from csfkg.stores import OxigraphStore, Store

Progress = Callable[[str, int, int], None]
"""A callback: stage name, steps done, steps in all."""

RESULT_GRAPH_QUERY = "cohort-result-graph"


@dataclass
class Derivation:
    """``store`` holds everything (rules + patients + derived); ``derived`` only the derived triples."""

    store: Store
    derived: Graph


def new_result_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    graph.bind("prov", STANDARD_PREFIXES["prov"])
    return graph


def clear_derived(store: Store) -> None:
    """Remove what an earlier derivation added to the store (``update-clear-derived.rq``)."""
    store.update(get_query("update-clear-derived").text)


def derive_in(store: Store, *, progress: Progress | None = None) -> None:
    """Run the derivation in a store that already holds rules and patients: the earlier run's
    derived triples are cleared, then each ``derive-*`` query inserts its triples."""
    clear_derived(store)
    queries = derivation_queries()
    for index, query in enumerate(queries, start=1):
        store.insert(query.text)
        if progress:
            progress("derive", index, len(queries))


def derived_graph(store: Store) -> Graph:
    """The derived result graph (``cohort-result-graph.rq``): recommendations, criterion
    assessments, missing data reports, protocol conformance, with their provenance."""
    graph = new_result_graph()
    result = store.query(get_query(RESULT_GRAPH_QUERY).text)
    assert isinstance(result, Graph)
    graph += result
    return graph


def derive(patients: Graph, store: Store | None = None) -> Derivation:
    """Derive criteria, applicable branches, next step, companions and missing data for every
    patient in ``patients``, in ``store`` (default: a new embedded Oxigraph store in memory: it
    parses SPARQL in Rust, where rdflib's pure-Python parser costs most of a command's start)."""
    store = store if store is not None else OxigraphStore()
    add_rules(store)
    store.add_graph(patients)
    derive_in(store)
    return Derivation(store=store, derived=derived_graph(store))
