"""Protocol conformance is decided twice - by SPARQL for the derivation
(derive-sequence-matches.rq, derive-protocol-conformance.rq) and by SHACL for the report
(protocol-shapes.ttl). Both must agree on every variant of a study, and both must follow the
protocol individuals of the guideline graph."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

import pytest
from rdflib import RDF, Graph, Literal, URIRef

from csfkg.model.knowledge import rules_graph
from csfkg.model.vocab import CSF
from csfkg.pipeline.derive import derive
from csfkg.validation.report import validate

from conftest import DATA

BASE = DATA / "shapes" / "conforming-excluded-leak.ttl"
P = "https://example.org/csfkg/patient/"
SH = "https://w3id.org/csfkg/shapes#NormalStudyMissingRequirementConstraint"
CONFORMS = URIRef(str(CSF._NS) + "conformsToProtocol")


def _alternatives(predicate: URIRef, value: object) -> list[URIRef]:
    """The other values of the dimension and plane (where the tolerance of issue 21 acts),
    read from the ontology."""
    value_class = {CSF.dimension: "AcquisitionDimension", CSF.plane: "ImagingPlane"}.get(predicate)
    if value_class is None:
        return []
    rules = rules_graph()
    return sorted(v for v in rules.subjects(RDF.type, URIRef(str(CSF._NS) + value_class)) if v != value)  # type: ignore[misc]


def _variants() -> list[tuple[str, Graph]]:
    base = Graph().parse(BASE)
    variants: list[tuple[str, Graph]] = [("complete", base)]
    for study in ("ok-brain", "ok-spine"):
        sequences = sorted(
            base.objects(URIRef(P + study), CSF.performedSequence),
            key=lambda s: sorted(base.predicate_objects(s)),
        )
        for index, sequence in enumerate(sequences):
            dropped = Graph()
            dropped += base
            dropped.remove((URIRef(P + study), CSF.performedSequence, sequence))
            variants.append((f"{study}-drop-{index}", dropped))
            for predicate, value in list(base.predicate_objects(sequence)):
                changed = Graph()
                changed += base
                changed.remove((sequence, predicate, value))
                variants.append((f"{study}-{index}-without-{predicate.split('#')[-1]}", changed))
                for other in _alternatives(predicate, value):
                    swapped = Graph()
                    swapped += changed
                    swapped.add((sequence, predicate, other))
                    variants.append(
                        (f"{study}-{index}-{predicate.split('#')[-1]}-{other.split('#')[-1]}", swapped)
                    )
                if isinstance(value, Literal) and value.datatype and "decimal" in value.datatype:
                    for delta in (Decimal("-1.5"), Decimal("1.5")):
                        shifted = Graph()
                        shifted += changed
                        shifted.add((sequence, predicate, Literal(value.toPython() + delta)))
                        variants.append((f"{study}-{index}-{predicate.split('#')[-1]}{delta:+}", shifted))
    return variants


VARIANTS = _variants()
BY_NAME = dict(VARIANTS)


@cache
def _sparql_conformance(name: str) -> tuple[bool, bool]:
    derived = derive(BY_NAME[name]).derived
    return tuple(any(derived.objects(URIRef(P + s), CONFORMS)) for s in ("ok-brain", "ok-spine"))  # type: ignore[return-value]


@pytest.mark.parametrize("name, graph", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_sparql_and_shacl_agree_on_conformance(name: str, graph: Graph) -> None:
    report = validate(graph)
    for study, sparql_conforms in zip(("ok-brain", "ok-spine"), _sparql_conformance(name), strict=False):
        node = URIRef(P + study)
        shacl_conforms = not [r for r in report.results if r.shape == SH and r.focus == str(node)]
        assert sparql_conforms == shacl_conforms, (
            f"{name}: {study} SPARQL={sparql_conforms} SHACL={shacl_conforms}"
        )
        if name == "complete":
            assert sparql_conforms
        elif name.startswith(f"{study}-drop"):
            assert not sparql_conforms


def test_variants_cover_both_outcomes() -> None:
    outcomes = set()
    for name, _ in VARIANTS:
        outcomes.update(_sparql_conformance(name))
    assert outcomes == {True, False}
    assert len(VARIANTS) > 30
