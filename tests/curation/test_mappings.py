"""SSSOM mapping tables: the same mappings as the ontology's skos triples, both ways, with only
verified identifiers, complete metadata, and a reader that rejects what SSSOM rejects."""

from __future__ import annotations

import re

import pytest
from ontology_facts import VERIFIED, merged
from rdflib import OWL, RDF, Graph, Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from csfkg.curation.mappings import (
    MAPPING_PREDICATES,
    SEMAPV,
    SSSOM,
    multivalued,
    packaged_mapping_sets,
    parse_sssom,
    skos_triples,
    sssom_rdf,
)
from csfkg.model.errors import InputError

from conftest import REPO

MAPPING_FILES = sorted((REPO / "ontology" / "mappings").glob("*.sssom.tsv"))


def ontology_mappings() -> set[tuple[URIRef, URIRef, URIRef]]:
    graph = merged()
    return {(s, p, o) for p in MAPPING_PREDICATES for s, o in graph.subject_objects(p)}


def table_mappings() -> set[tuple[URIRef, URIRef, URIRef]]:
    return {m.triple for s in packaged_mapping_sets() for m in s.mappings}


def test_the_tables_are_the_packaged_files() -> None:
    assert [s.name for s in packaged_mapping_sets()] == [p.name for p in MAPPING_FILES]
    assert len(MAPPING_FILES) >= 4


def test_sssom_rows_and_ontology_skos_triples_are_the_same_set() -> None:
    ontology, tables = ontology_mappings(), table_mappings()
    assert sorted(map(str, ontology - tables)) == [], (
        "skos triples of the ontology missing from the SSSOM tables"
    )
    assert sorted(map(str, tables - ontology)) == [], "SSSOM rows the ontology does not assert"


def test_no_mapping_is_listed_twice() -> None:
    rows = [m.triple for s in packaged_mapping_sets() for m in s.mappings]
    assert len(rows) == len(set(rows))


def test_every_object_is_a_verified_identifier() -> None:
    # VERIFIED holds the local names of the IRIs, as test_ontology.py reads them (HP_0002315, G96.02)
    unverified = [
        m.object_id
        for s in packaged_mapping_sets()
        for m in s.mappings
        if str(m.object).rsplit("/", 1)[-1] not in VERIFIED
    ]
    assert unverified == []


def test_one_file_per_target_vocabulary() -> None:
    for mapping_set in packaged_mapping_sets():
        prefixes = {m.object_id.split(":", 1)[0] for m in mapping_set.mappings}
        assert len(prefixes) == 1, mapping_set.name
        assert mapping_set.name == f"csfkg-{prefixes.pop().lower()}.sssom.tsv"


@pytest.mark.parametrize("path", MAPPING_FILES, ids=lambda p: p.name)
def test_metadata_block(path) -> None:
    mapping_set = parse_sssom(path.read_text(encoding="utf-8"), name=path.name)
    meta = mapping_set.metadata
    assert meta["mapping_set_id"] == f"https://w3id.org/csfkg/mappings/{path.name}"
    assert meta["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(meta["mapping_date"]))
    ontology = Graph().parse(REPO / "ontology" / "csfkg.ttl")
    assert meta["mapping_set_version"] == str(
        ontology.value(URIRef("https://w3id.org/csfkg/ontology"), OWL.versionInfo)
    )
    assert meta["mapping_set_title"] and meta["mapping_set_description"] and meta["creator_label"]
    # canonical SSSOM: no built-in prefix declared, every declared prefix used
    used = {m.subject_id.split(":")[0] for m in mapping_set.mappings} | {
        m.object_id.split(":")[0] for m in mapping_set.mappings
    }
    assert set(mapping_set.curie_map) == used
    assert list(mapping_set.curie_map) == sorted(mapping_set.curie_map)


@pytest.mark.parametrize("path", MAPPING_FILES, ids=lambda p: p.name)
def test_rows(path) -> None:
    labels = merged()
    for mapping in parse_sssom(path.read_text(encoding="utf-8"), name=path.name).mappings:
        assert mapping.justification == SEMAPV.ManualMappingCuration
        assert mapping.subject_label == str(labels.value(mapping.subject, RDFS.label)), mapping.subject_id
        assert mapping.object_label, mapping.object_id
        assert mapping.row["author_label"] and mapping.comment


def test_an_identifier_has_one_label_across_all_tables() -> None:
    labels: dict[str, set[str]] = {}
    for mapping_set in packaged_mapping_sets():
        for mapping in mapping_set.mappings:
            labels.setdefault(mapping.object_id, set()).add(mapping.object_label)
    assert {k: v for k, v in labels.items() if len(v) != 1} == {}


def test_object_labels_follow_the_clinical_notes() -> None:
    by_id = {m.object_id: m.object_label for s in packaged_mapping_sets() for m in s.mappings}
    assert by_id["HP:0002315"] == "headache"
    assert by_id["HP:4000182"] == "positionally dependent pain"
    assert by_id["ICD10CM:R51.0"] == "headache with orthostatic component, not elsewhere classified"
    assert by_id["SNOMEDCT:230744007"] == "cerebrospinal fluid leak"
    assert by_id["LOINC:24589-4"] == "MR brain with IV contrast"


def test_metadata_reader_agrees_with_a_yaml_parser() -> None:
    yaml = pytest.importorskip("yaml")
    for path in MAPPING_FILES:
        block = [line[1:] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
        expected = yaml.safe_load("\n".join(block))
        assert parse_sssom(path.read_text(encoding="utf-8"), name=path.name).metadata == {
            k: (str(v) if not isinstance(v, (list, dict)) else v) for k, v in expected.items()
        }


def test_skos_triples_render_the_tables() -> None:
    assert set(skos_triples()) == ontology_mappings()


def test_sssom_rdf_has_a_mapping_set_per_file_and_an_axiom_per_row() -> None:
    graph = sssom_rdf()
    sets = set(graph.subjects(RDF.type, SSSOM.MappingSet))
    assert sets == {URIRef(f"https://w3id.org/csfkg/mappings/{p.name}") for p in MAPPING_FILES}
    axioms = set(graph.subjects(RDF.type, OWL.Axiom))
    assert len(axioms) == len(table_mappings())
    record = next(
        a
        for a in axioms
        if graph.value(a, OWL.annotatedTarget) == URIRef("http://purl.obolibrary.org/obo/HP_0001945")
    )
    assert graph.value(record, OWL.annotatedSource) == URIRef("https://w3id.org/csfkg/ontology#Fever")
    assert graph.value(record, OWL.annotatedProperty) == SKOS.exactMatch
    assert graph.value(record, SSSOM.mapping_justification) == SEMAPV.ManualMappingCuration
    assert graph.value(record, SSSOM.object_label) == Literal("fever")


def test_sssom_rdf_is_the_same_on_every_run() -> None:
    assert sssom_rdf().serialize(format="nt", encoding=None) == sssom_rdf().serialize(
        format="nt", encoding=None
    )


# --- the reader rejects what SSSOM rejects ----------------------------------------------------------
HEADER = (
    "#curie_map:\n#  HP: http://purl.obolibrary.org/obo/HP_\n#  csf: https://w3id.org/csfkg/ontology#\n"
    "#mapping_set_id: https://example.org/set.sssom.tsv\n#license: https://creativecommons.org/licenses/by/4.0/\n"
)
COLUMNS = "subject_id\tpredicate_id\tobject_id\tmapping_justification\n"
ROW = "csf:Fever\tskos:exactMatch\tHP:0001945\tsemapv:ManualMappingCuration\n"


def test_a_minimal_table_parses() -> None:
    mapping_set = parse_sssom(HEADER + COLUMNS + ROW, name="minimal")
    assert [m.triple for m in mapping_set.mappings] == [
        (
            URIRef("https://w3id.org/csfkg/ontology#Fever"),
            SKOS.exactMatch,
            URIRef("http://purl.obolibrary.org/obo/HP_0001945"),
        )
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEADER + COLUMNS + ROW.replace("HP:0001945", "MONDO:0001"),
            "prefix 'MONDO' of MONDO:0001 is not declared",
        ),
        (
            HEADER + COLUMNS + ROW.replace("HP:0001945", "http://purl.obolibrary.org/obo/HP_0001945"),
            "is not a CURIE",
        ),
        (
            HEADER + COLUMNS.replace("mapping_justification", "comment") + ROW,
            "no column 'mapping_justification'",
        ),
        (
            HEADER.replace("#mapping_set_id: https://example.org/set.sssom.tsv\n", "") + COLUMNS + ROW,
            "no 'mapping_set_id'",
        ),
        (
            HEADER + COLUMNS + ROW.replace("skos:exactMatch", "owl:equivalentClass"),
            "not a SKOS mapping predicate",
        ),
        (HEADER + COLUMNS + "csf:Fever\tskos:exactMatch\tHP:0001945\n", "does not have 4 columns"),
        (HEADER + COLUMNS + ROW.replace("csf:Fever", ""), "empty subject_id"),
        (HEADER + "#creator_label: &anchor csfkg\n" + COLUMNS + ROW, "must not use"),
        (HEADER + "#creator_label: *anchor\n" + COLUMNS + ROW, "must not use"),
        (HEADER + "#creator_label: !!python/object:os.system x\n" + COLUMNS + ROW, "must not use"),
        (HEADER + "#license: https://example.org/other\n" + COLUMNS + ROW, "the key 'license' is set twice"),
        (HEADER + "#  stray: value\n" + COLUMNS + ROW, "not valid YAML at line 6"),
        (HEADER + "#creator_label:\n#  - one\n#  two: three\n" + COLUMNS + ROW, "not valid YAML at line 8"),
        (HEADER + "#creator_label: [one, two\n" + COLUMNS + ROW, "not valid YAML at line 6"),
        ("#- curie_map\n#- license\n" + COLUMNS + ROW, "not a map of slot names"),
        (HEADER.replace("#curie_map:\n", "#curie_map: csf\n#other:\n") + COLUMNS + ROW, "must be a map"),
    ],
    ids=[
        "undeclared-prefix",
        "iri-not-curie",
        "missing-column",
        "missing-set-id",
        "non-skos-predicate",
        "ragged-row",
        "empty-cell",
        "yaml-anchor",
        "yaml-alias",
        "yaml-tag",
        "duplicate-key",
        "stray-indentation",
        "list-and-map",
        "unclosed-flow-sequence",
        "block-not-a-map",
        "curie-map-not-a-map",
    ],
)
def test_malformed_tables_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse_sssom(text, name="bad.sssom.tsv")


def test_metadata_block_with_padding_flow_lists_and_quotes() -> None:
    text = (
        "# curie_map:\n#   csf: https://w3id.org/csfkg/ontology#\n#   HP: http://purl.obolibrary.org/obo/HP_\n"
        "# mapping_set_id: 'https://example.org/set.sssom.tsv'\n# license: https://creativecommons.org/licenses/by/4.0/\n"
        '# creator_label: ["one, two", three]\n# mapping_set_description: "say \\"hi\\" - ok"\n'
    )
    meta = parse_sssom(text + COLUMNS + ROW, name="padded").metadata
    assert meta["creator_label"] == ["one, two", "three"]
    assert meta["mapping_set_description"] == 'say "hi" - ok'
    assert meta["mapping_set_id"] == "https://example.org/set.sssom.tsv"


def test_multivalued_cells_split_on_unescaped_pipes() -> None:
    assert multivalued("a|b") == ["a", "b"]
    assert multivalued(r"a\|b|c") == ["a|b", "c"]
    assert multivalued(r"a\\|b") == ["a\\", "b"]
    assert multivalued("") == []
