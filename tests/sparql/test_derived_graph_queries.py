"""What a derivation writes is what update-clear-derived removes and cohort-result-graph reads:
a derive query that writes a new property on patient data fails here until both list it."""

from __future__ import annotations

import re

import pytest
from rdflib import RDF, Namespace, URIRef
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Variable

from csfkg.model.vocab import CSF
from csfkg.sparql.library import derivation_queries, get_query

ONTOLOGY = Namespace(str(CSF))  # open: the derived properties are not all in the vocabulary module
MINTED_KINDS = {CSF.Recommendation, CSF.CriterionAssessment, CSF.MissingDataReport}


def _written_on_data() -> set[URIRef]:
    """Properties the derive-* templates write on nodes they did not mint."""
    written: set[URIRef] = set()
    for query in derivation_queries():
        template = prepareQuery(query.text).algebra.template
        minted = {s for s, p, o in template if p == RDF.type and o in MINTED_KINDS}
        written |= {p for s, p, o in template if isinstance(s, Variable) and s not in minted}
    return written


def _listed(name: str) -> set[URIRef]:
    text = get_query(name).text
    block = re.search(r"VALUES \?property \{([^}]*)\}", text)
    assert block, f"{name} has no VALUES ?property block"
    return {URIRef(str(CSF) + local) for local in re.findall(r"csf:(\w+)", block.group(1))}


@pytest.mark.parametrize("name", ["update-clear-derived", "cohort-result-graph"])
def test_every_property_a_derivation_writes_on_patient_data_is_listed(name: str) -> None:
    written = _written_on_data()
    assert ONTOLOGY.hasNextStep in written and ONTOLOGY.conformsToProtocol in written  # the walk finds them
    assert written == _listed(name)
