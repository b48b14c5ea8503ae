"""A patient file in N-Triples is read as N-Triples' grammar says (regressions the differential
fuzzer, tests/fuzz, found): ``recommend`` takes what the cohort engines take."""

from __future__ import annotations

from pathlib import Path

from rdflib import BNode, Literal, URIRef

from csfkg.io.patient_files import read_patient_file

PATIENT = "<https://w3id.org/csfkg/ontology#Patient>"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def test_an_iri_with_a_no_break_space_is_read(tmp_path: Path) -> None:
    """N-Triples' IRIREF excludes only #x00-#x20 and <>"{}|^`\\; RFC 3987 allows U+00A0
    (ucschar). rdflib's N-Triples parser refused the line."""
    path = tmp_path / "p.nt"
    path.write_text(f"<https://example.org/p\u00a0x> {TYPE} {PATIENT} .\n", encoding="utf-8")
    assert (
        URIRef("https://example.org/p\u00a0x"),
        URIRef(TYPE[1:-1]),
        URIRef(PATIENT[1:-1]),
    ) in read_patient_file(path)


def test_a_simple_literal_and_its_xsd_string_form_are_one_term(tmp_path: Path) -> None:
    """RDF 1.1, 3.3: "daily" is "daily"^^xsd:string; the file's two triples are one."""
    path = tmp_path / "p.nt"
    string = "<http://www.w3.org/2001/XMLSchema#string>"
    path.write_text(
        f"<https://example.org/p> {TYPE} {PATIENT} .\n"
        f'<https://example.org/p> <https://example.org/f> "daily" .\n'
        f'<https://example.org/p> <https://example.org/f> "daily"^^{string} .\n',
        encoding="utf-8",
    )
    graph = read_patient_file(path)
    assert list(graph.objects(URIRef("https://example.org/p"), URIRef("https://example.org/f"))) == [
        Literal("daily")
    ]


def test_blank_node_labels_are_the_file_s(tmp_path: Path) -> None:
    path = tmp_path / "p.nt"
    path.write_text(f"_:patient {TYPE} {PATIENT} .\n", encoding="utf-8")
    assert set(read_patient_file(path).subjects()) == {BNode("patient")}
