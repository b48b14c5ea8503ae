"""Every query file parses, has a header, and the derivation stages are in order."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.sparql import prepareQuery

from csfkg.sparql.library import all_queries, derivation_queries, parse_header

from conftest import REPO

QUERY_FILES = sorted((REPO / "queries").glob("*.rq"))


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_query_file_parses_and_has_a_header(path) -> None:
    text = path.read_text(encoding="utf-8")
    header = parse_header(text)
    assert header.get("summary"), "a query needs #+ summary:"
    assert "params" in header and "example" in header
    if path.name.startswith("update-"):
        from rdflib.plugins.sparql import prepareUpdate

        prepareUpdate(text)
    else:
        prepareQuery(text)
    if path.name.startswith("derive-"):
        assert int(header["stage"]) > 0


def test_every_file_is_in_the_library() -> None:
    assert sorted(all_queries()) == sorted(p.stem for p in QUERY_FILES)


def test_header_continuation_lines_join() -> None:
    header = parse_header("#+ summary: one\n#+ description: first\n#+   second\nSELECT * {}\n")
    assert header == {"summary": "one", "description": "first second"}


def test_criterion_queries_match_the_criteria_of_the_guideline() -> None:
    """Every csfg:crit-* names its derive query, and that query derives exactly that criterion."""
    guideline = Graph().parse(REPO / "ontology" / "guideline.ttl")
    derived_by = URIRef("https://w3id.org/csfkg/ontology#derivedByQuery")
    pairs = list(guideline.subject_objects(derived_by))
    assert len(pairs) == 19
    for criterion, query_iri in pairs:
        name = str(query_iri).rsplit("/", 1)[-1]
        text = all_queries()[name].text
        local = str(criterion).rsplit("#", 1)[-1]
        assert f"csfg:{local} ." in text, name
        assert f"<{query_iri}>" in text, name


def test_stages_put_criteria_before_branches_before_next_step() -> None:
    names = [q.name for q in derivation_queries()]
    assert names.index("derive-sequence-matches") < names.index("derive-protocol-conformance")
    assert names.index("derive-protocol-conformance") < names.index(
        "derive-criterion-imaging-normal-and-conforming"
    )
    assert names.index("derive-criterion-mri-leak-signs") < names.index("derive-criterion-leak-suspected")
    assert names.index("derive-criterion-leak-excluded") < names.index("derive-applicable-branches")
    assert names.index("derive-applicable-branches") < names.index("derive-next-step")
    assert names[-1] == "derive-missing-data"
