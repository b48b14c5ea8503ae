"""What is published for FHIR users is generated from the graph and committed in step with it:
our CodeSystem (ontology/csfkg.codesystem.json, packaged with the ontology) and the mapping
table of docs/fhir-mapping.md. `python -m csfkg.fhir.publish .` writes both again."""

from __future__ import annotations

import json
from importlib import resources

from fhir.resources.R4B.codesystem import CodeSystem
from rdflib import OWL, RDFS, Literal

from csfkg.fhir.publish import CODE_SYSTEM_FILE, MAPPING_DOC, code_system, code_system_json, mapping_markdown
from csfkg.model.knowledge import ontology_graph
from csfkg.model.vocab import CSF_NS

from conftest import REPO

HINT = "regenerate with `python -m csfkg.fhir.publish .` and commit the result"


def test_the_committed_code_system_is_the_one_the_ontology_gives() -> None:
    assert (REPO / "ontology" / CODE_SYSTEM_FILE).read_text(encoding="utf-8") == code_system_json(), HINT


def test_the_code_system_is_valid_fhir_and_packaged_with_the_ontology() -> None:
    packaged = json.loads(
        resources.files("csfkg.ontology").joinpath(CODE_SYSTEM_FILE).read_text(encoding="utf-8")
    )
    CodeSystem.model_validate(packaged)
    assert packaged["url"] == "https://w3id.org/csfkg/fhir/CodeSystem/csfkg"
    assert packaged["count"] == len(packaged["concept"])


def test_the_code_system_has_a_code_for_every_labelled_term_named_by_its_local_name() -> None:
    graph = ontology_graph()
    labelled = {
        str(s).removeprefix(str(CSF_NS))
        for s in graph.subjects(RDFS.label, None)
        if str(s).startswith(str(CSF_NS)) and (s, OWL.deprecated, Literal(True)) not in graph
    }
    codes = {c["code"] for c in code_system()["concept"]}
    assert codes == labelled
    assert {
        "OrthostaticHeadache",
        "L1",
        "insuranceStepTherapy",
        "t2Weighting",
        "mamillopontineDistanceMm",
    } <= codes
    by_code = {c["code"]: c for c in code_system()["concept"]}
    assert by_code["OrthostaticHeadache"]["display"] == "orthostatic headache"


def test_the_committed_mapping_table_is_the_one_the_graph_gives() -> None:
    assert (REPO / MAPPING_DOC).read_text(encoding="utf-8") == mapping_markdown(), HINT


def test_the_mapping_table_lists_what_is_imported_and_what_is_not() -> None:
    text = mapping_markdown()
    assert (
        "| ServiceRequest | code | http://www.ama-assn.org/go/cpt | 64493 | csf:LumbarFacetJointInjection | exact |"
        in text
    )
    assert (
        "| ServiceRequest | code | http://www.ama-assn.org/go/cpt | 64493 | csf:MedialBranchBlock | related |"
        in text
    )
    assert "| DiagnosticReport | code | http://loinc.org | 24590-2 | csf:BrainMRI | exact |" in text
    assert "| Condition | code | http://purl.obolibrary.org/obo/hp | HP:0001945 | csf:Fever | exact |" in text
