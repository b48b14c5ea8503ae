"""SPARQL derivation: run every ``derive-*.rq`` query, stage by stage, over ontology +
guideline + patient data; each CONSTRUCT adds its triples to the store (so later stages see
them) and to the result graph (what was derived, with its provenance)."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph

from .knowledge import add_rules
from .query_library import derivation_queries
from .stores import OxigraphStore, Store
from .vocab import PREFIXES, STANDARD_PREFIXES


@dataclass
class Derivation:
    """``store`` holds everything (rules + patients + derived); ``derived`` only the new triples."""

    store: Store
    derived: Graph


def new_result_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    graph.bind("prov", STANDARD_PREFIXES["prov"])
    return graph


def derive_in(store: Store) -> Graph:
    """Run the derivation in a store that already holds rules and patients; returns what was
    derived (also added to the store)."""
    derived = new_result_graph()
    for query in derivation_queries():
        result = store.query(query.text)
        assert isinstance(result, Graph), f"{query.name} is not a CONSTRUCT query"
        store.add_graph(result)
        derived += result
    return derived


def derive(patients: Graph, store: Store | None = None) -> Derivation:
    """Derive criteria, applicable branches, next step, companions and missing data for every
    patient in ``patients``, in ``store`` (default: a new embedded Oxigraph store in memory: it
    parses SPARQL in Rust, where rdflib's pure-Python parser costs most of a command's start)."""
    store = store if store is not None else OxigraphStore()
    add_rules(store)
    store.add_graph(patients)
    return Derivation(store=store, derived=derive_in(store))
