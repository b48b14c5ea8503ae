"""What a derivation writes is what update-clear-derived removes and cohort-result-graph reads:
a derive query that writes a new property fails here until the queries list it."""

from __future__ import annotations

import re

from rdflib import RDF, Namespace, URIRef
from rdflib.plugins.sparql import prepareQuery, prepareUpdate
from rdflib.plugins.sparql.algebra import traverse
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from csfkg.model.vocab import CSF
from csfkg.sparql.library import derivation_queries, get_query

ONTOLOGY = Namespace(str(CSF))  # open: the derived properties are not all in the vocabulary module
MINTED_KINDS = {
    ONTOLOGY.Recommendation,
    ONTOLOGY.CriterionAssessment,
    ONTOLOGY.MissingDataReport,
    ONTOLOGY.BernAssessment,
}


def _typed(pattern: object) -> set[Variable]:
    """The variables a query pattern's basic graph patterns type as one of the minted kinds."""
    found: set[Variable] = set()

    def visit(node: object) -> None:
        if isinstance(node, CompValue) and node.name == "BGP":
            found.update(s for s, p, o in node.triples if p == RDF.type and o in MINTED_KINDS)

    traverse(pattern, visitPost=visit)
    return found


def _written() -> tuple[set[URIRef], set[URIRef]]:
    """Properties the derive-* templates write: on the nodes they mint, and on other nodes."""
    on_minted: set[URIRef] = set()
    on_data: set[URIRef] = set()
    for query in derivation_queries():
        algebra = prepareQuery(query.text).algebra
        template = algebra.template
        # a node the template types as a minted kind, or that the pattern finds as one (a query
        # that adds to what another minted, as derive-recommendation-provenance does)
        minted = {s for s, p, o in template if p == RDF.type and o in MINTED_KINDS} | _typed(algebra.p)
        for s, p, _ in template:
            if isinstance(s, Variable):
                (on_minted if s in minted else on_data).add(p)
    return on_minted, on_data


def _deleted() -> tuple[set[URIRef], set[URIRef], list[URIRef]]:
    """update-clear-derived's deleted properties: on the minted kinds' nodes, on any node, and
    the order of all its operations."""
    on_minted: set[URIRef] = set()
    on_data: set[URIRef] = set()
    order: list[URIRef] = []
    for operation in prepareUpdate(get_query("update-clear-derived").text).algebra:
        ((_, predicate, _),) = operation.delete.triples
        order.append(predicate)
        where = str(operation.where)
        (on_minted if "MissingDataReport" in where else on_data).add(predicate)
    return on_minted, on_data, order


def test_update_clear_derived_removes_every_property_a_derivation_writes() -> None:
    written_minted, written_data = _written()
    deleted_minted, deleted_data, order = _deleted()
    assert ONTOLOGY.hasNextStep in written_data and ONTOLOGY.recommendedAction in written_minted
    assert deleted_minted == written_minted
    assert deleted_data == written_data
    # a minted node is found by its type: the type goes after every other property of it
    assert order.index(RDF.type) == len(written_minted) - 1


def test_cohort_result_graph_reads_every_property_a_derivation_writes_on_patient_data() -> None:
    text = get_query("cohort-result-graph").text
    block = re.search(r"VALUES \?property \{([^}]*)\}", text)
    assert block, "cohort-result-graph has no VALUES ?property block"
    listed = {URIRef(str(CSF) + local) for local in re.findall(r"csf:(\w+)", block.group(1))}
    assert listed == _written()[1]
