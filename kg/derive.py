"""SPARQL derivation: run every ``derive-*.rq`` query, stage by stage, over ontology +
guideline + patient data; each CONSTRUCT adds its triples to the working graph (so later
stages see them) and to the result graph (what was derived, with its provenance)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rdflib import Graph
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

from .knowledge import rules_graph
from .query_library import derivation_queries, get_query
from .vocab import PREFIXES


@dataclass
class Derivation:
    """``work`` is everything (rules + patients + derived); ``derived`` only the new triples."""

    work: Graph
    derived: Graph


@cache
def prepared(name: str) -> Query:
    """A packaged query, parsed once per process."""
    return prepareQuery(get_query(name).text)


def derive(patients: Graph) -> Derivation:
    """Derive criteria, applicable branches, next step, companions and missing data for every
    patient in ``patients``."""
    work = Graph()
    derived = Graph()
    for prefix, namespace in PREFIXES.items():
        work.bind(prefix, namespace)
        derived.bind(prefix, namespace)
    derived.bind("prov", "http://www.w3.org/ns/prov#")
    work += rules_graph()
    work += patients
    for query in derivation_queries():
        for triple in list(work.query(prepared(query.name))):
            work.add(triple)  # type: ignore[arg-type]
            derived.add(triple)  # type: ignore[arg-type]
    return Derivation(work=work, derived=derived)
