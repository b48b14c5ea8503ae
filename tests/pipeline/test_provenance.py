"""The result graph answers "why?": next step -> branch -> criteria -> patient facts, and branch
-> evidence -> tier and source; every derived node names the query that made it."""

from __future__ import annotations

from rdflib import Graph, URIRef
from rdflib.namespace import PROV

from csfkg.io.patient_files import read_patient_file
from csfkg.model.vocab import CSFG, CSFQ
from csfkg.pipeline.assess import assess

from conftest import SEED

P = "https://example.org/csfkg/patient/"
C = "https://w3id.org/csfkg/ontology#"


def _seed_run():
    graph = read_patient_file(SEED)
    return assess(graph, [URIRef(P + "seed")])


def test_next_step_provenance_chain_reaches_the_patient_fact_and_the_evidence() -> None:
    run = _seed_run()
    derived: Graph = run.derived
    seed = URIRef(P + "seed")
    steps = list(derived.objects(seed, URIRef(C + "hasNextStep")))
    assert len(steps) == 1
    step = steps[0]
    assert (step, PROV.wasGeneratedBy, CSFQ["derive-next-step"]) in derived
    assert (step, URIRef(C + "fromBranch"), CSFG["br-obtain-mri"]) in derived
    sources = set(derived.objects(step, PROV.wasDerivedFrom))
    assessments = [
        s for s in sources if (s, URIRef(C + "criterion"), CSFG["crit-headache-present"]) in derived
    ]
    assert len(assessments) == 1
    assert (assessments[0], PROV.wasDerivedFrom, URIRef(P + "seed-orthostatic-headache")) in derived
    assert (assessments[0], PROV.wasGeneratedBy, CSFQ["derive-criterion-headache-present"]) in derived

    item = run.results[0].next_step
    assert item is not None
    tiers = {e.tier for e in item.evidence.supports}
    assert {"guideline", "article-claim", "unverified-guideline-detail"} <= tiers
    first_line = next(e for e in item.evidence.supports if e.iri == str(CSFG["ev-first-line-mri"]))
    assert first_line.sources == ["UK consensus guideline on spontaneous intracranial hypotension (2023)"]
    assert first_line.cites == [2]  # the article's reference 2, not one of the guideline's
    assert {c.iri for c in first_line.linked} >= {str(CSFG["ev-contrast-source-specific"])}


def test_every_derived_recommendation_and_assessment_names_its_query() -> None:
    derived = _seed_run().derived
    for kind in ("Recommendation", "CriterionAssessment", "MissingDataReport"):
        nodes = list(
            derived.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef(C + kind))
        )
        assert nodes, kind
        for node in nodes:
            query = derived.value(node, PROV.wasGeneratedBy)
            assert query is not None and str(query).startswith(str(CSFQ)), node


def test_seed_result_matches_the_article() -> None:
    result = _seed_run().results[0]
    assert result.next_step is not None and result.next_step.code == "obtain-mri-brain-and-spine"
    assert [r.code for r in result.recommendations if r.role == "companion"] == [
        "defer-spinal-intervention",
        "document-medical-necessity",
        "monitor-red-flags",
    ]
    protocols = {p.protocol.rsplit("#", 1)[-1]: p.requirements for p in result.next_step.protocols}
    assert set(protocols) == {"brain-mri-protocol", "spine-mri-protocol"}
    assert len(protocols["brain-mri-protocol"]) == 5 and len(protocols["spine-mri-protocol"]) == 3
    assert {m.code for m in result.missing_data} == {"red-flag-screen", "brain-mri", "spine-mri"}
    assert not any(m.blocking for m in result.missing_data)
