"""The mapping corrections of issue 22, each checked twice: in the ontology the program loads
(skos triples of the knowledge graph) and in the SSSOM tables (ontology/mappings/), so that a
regression in either one fails.

SKOS reads a mapping from the subject's side: ``csf:X skos:narrowMatch Y`` says that Y is
narrower than csf:X, ``csf:X skos:broadMatch Y`` that Y is broader. The expected predicates below
are written that way, with the reason for each (the tables' comment column gives the source)."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SKOS

from csfkg.curation.mappings import MAPPING_PREDICATES, Mapping, packaged_mapping_sets
from csfkg.model.knowledge import knowledge_graph

# Written out here rather than read from the tables' curie_map: the test must not take its
# expectations from the files it checks.
PREFIXES = {
    "csf": "https://w3id.org/csfkg/ontology#",
    "skos": str(SKOS),
    "HP": "http://purl.obolibrary.org/obo/HP_",
    "ICD10CM": "http://purl.bioontology.org/ontology/ICD10CM/",
    "LOINC": "https://loinc.org/",
    "CPT": "http://purl.bioontology.org/ontology/CPT/",
}

# (subject, predicate, object, why) - the table of issue 22, verified before it was applied
CORRECTED = [
    ("csf:SpontaneousSpinalCSFLeak", "skos:broadMatch", "HP:0032934", "HPO's term covers cranial or spinal"),
    ("csf:SpinalSubduralHygroma", "skos:broadMatch", "HP:6001070", "HPO: CSF in the subdural space, no site"),
    ("csf:SubduralFluidCollection", "skos:narrowMatch", "HP:0100309", "an intracranial hemorrhage in HPO"),
    ("csf:SubduralFluidCollection", "skos:relatedMatch", "HP:6001070", "CSF only but any site: not narrower"),
    ("csf:AlteredMentalStatus", "skos:narrowMatch", "HP:0004372", "reduced consciousness is one change"),
    ("csf:AlteredMentalStatus", "skos:narrowMatch", "HP:0001289", "confusion is one change"),
    ("csf:IatrogenicCSFLeak", "skos:narrowMatch", "ICD10CM:G97.0", "spinal puncture only"),
    ("csf:SpinalCSFLeak", "skos:narrowMatch", "ICD10CM:G96.09", "spinal, not spontaneous"),
    ("csf:SpinalCSFLeak", "skos:narrowMatch", "ICD10CM:G96.02", "spinal, spontaneous"),
    ("csf:SecondaryIntracranialHypotension", "skos:narrowMatch", "ICD10CM:G97.84", "after other procedure"),
    ("csf:SecondaryIntracranialHypotension", "skos:narrowMatch", "ICD10CM:G96.819", "other: not spontaneous"),
    ("csf:PostDuralPunctureHeadache", "skos:broadMatch", "ICD10CM:G97.1", "any reaction to spinal puncture"),
    ("csf:CSFLeak", "skos:exactMatch", "ICD10CM:G96.0", "the category, as Mondo maps it"),
    ("csf:CSFLeak", "skos:narrowMatch", "ICD10CM:G96.00", "the unspecified code, kept for billing"),
    ("csf:IntracranialHypotension", "skos:exactMatch", "ICD10CM:G96.81", "the category, as Mondo maps it"),
    (
        "csf:IntracranialHypotension",
        "skos:narrowMatch",
        "ICD10CM:G96.810",
        "the unspecified code, kept for billing",
    ),
    ("csf:BrainMRIWithContrast", "skos:exactMatch", "LOINC:24587-8", "without and with IV contrast"),
    ("csf:BrainMRIWithContrast", "skos:relatedMatch", "LOINC:24589-4", "with contrast only"),
    ("csf:SpineMRI", "skos:relatedMatch", "LOINC:36400-0", "contrast the leak protocol does not use"),
    ("csf:SpineMRI", "skos:closeMatch", "LOINC:36531-2", "the non-contrast leak protocol"),
    ("csf:MedialBranchBlock", "skos:relatedMatch", "CPT:64493", "also covers intra-articular injection"),
]

LABELS = {
    "ICD10CM:G97.41": "accidental puncture or laceration of dura during a procedure",
    "ICD10CM:G96.0": "cerebrospinal fluid leak",
    "ICD10CM:G96.81": "intracranial hypotension",
    "LOINC:24587-8": "MR brain without and with IV contrast",
    "LOINC:36531-2": "MR spine without contrast",
}

BOILERPLATE = "Identifier listed as verified in clinical-notes.md."


def iri(curie: str) -> URIRef:
    prefix, local = curie.split(":", 1)
    return URIRef(PREFIXES[prefix] + local)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return knowledge_graph()


@pytest.fixture(scope="module")
def rows() -> list[Mapping]:
    return [m for mapping_set in packaged_mapping_sets() for m in mapping_set.mappings]


@pytest.mark.parametrize(("subject", "predicate", "target", "why"), CORRECTED, ids=lambda v: str(v))
def test_the_ontology_asserts_the_corrected_predicate_and_no_other(
    ontology: Graph, subject: str, predicate: str, target: str, why: str
) -> None:
    asserted = {p for p in MAPPING_PREDICATES if (iri(subject), p, iri(target)) in ontology}
    assert asserted == {iri(predicate)}, why


@pytest.mark.parametrize(("subject", "predicate", "target", "why"), CORRECTED, ids=lambda v: str(v))
def test_the_sssom_table_has_one_row_with_the_corrected_predicate_and_its_reason(
    rows: list[Mapping], subject: str, predicate: str, target: str, why: str
) -> None:
    found = [m for m in rows if (m.subject_id, m.object_id) == (subject, target)]
    assert [m.predicate_id for m in found] == [predicate], why
    (row,) = found
    assert row.predicate == iri(predicate) and row.subject == iri(subject) and row.object == iri(target)
    # the justification is recorded: a reason for the predicate, not the generic note
    assert row.comment and row.comment != BOILERPLATE


@pytest.mark.parametrize(("curie", "label"), sorted(LABELS.items()))
def test_object_labels_are_the_official_titles(rows: list[Mapping], curie: str, label: str) -> None:
    assert {m.object_label for m in rows if m.object_id == curie} == {label}


def test_cpt_64493_is_the_single_level_code(rows: list[Mapping]) -> None:
    (label,) = {m.object_label for m in rows if m.object_id == "CPT:64493"}
    assert "single level" in label and "first level" not in label
    assert "facet joint or facet joint nerve" in label  # the joint as well as its nerves


def test_exact_and_narrow_matches_to_one_code_agree_with_the_class_hierarchy(ontology: Graph) -> None:
    """Direction check: if A skos:exactMatch X and B skos:narrowMatch X, X is narrower than B
    and the same as A, so A must be B or a subclass of B (and the mirror case for broadMatch).
    A mapping written the wrong way round breaks this."""
    problems = []
    for a, target in ontology.subject_objects(SKOS.exactMatch):
        ancestors = set(ontology.transitive_objects(a, RDFS.subClassOf))
        for b in ontology.subjects(SKOS.narrowMatch, target):
            if b not in ancestors:
                problems.append(f"{a} exactMatch {target}, {b} narrowMatch it, but {a} is not under {b}")
        for b in ontology.subjects(SKOS.broadMatch, target):
            if a not in set(ontology.transitive_objects(b, RDFS.subClassOf)):
                problems.append(f"{a} exactMatch {target}, {b} broadMatch it, but {b} is not under {a}")
    assert problems == []
    # the case the rule exists for: G96.02 is the spontaneous spinal leak, narrower than spinal
    assert (iri("csf:SpontaneousSpinalCSFLeak"), SKOS.exactMatch, iri("ICD10CM:G96.02")) in ontology


def test_the_tables_state_the_reading_direction() -> None:
    for mapping_set in packaged_mapping_sets():
        description = str(mapping_set.metadata["mapping_set_description"])
        assert "skos:broadMatch X says that X is broader than the csfkg term" in description, mapping_set.name
        assert "skos:narrowMatch X that X is narrower" in description, mapping_set.name
