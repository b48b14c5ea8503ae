"""The release through the OWL API (the library Protege and ROBOT are built on), the XML catalog
Protege resolves imports with, and `csfkg export`.

The OWL API tests compile tests/java/ProfileCheck.java with javac into a temporary folder and
run it on the Debian package libowlapi-java (jars under /usr/share/java; .ci/run installs it).
They are skipped only when java, javac or the OWL API jar is missing; a missing dependency jar
of an installed OWL API is a failure, not a skip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, BNode, Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS

from conftest import DATA, REPO, SEED

ONTOLOGY = REPO / "ontology"
CATALOG = ONTOLOGY / "catalog-v001.xml"
JAVA_DIR = Path("/usr/share/java")
OWLAPI_JAR = JAVA_DIR / "owlapi-distribution.jar"
# libowlapi-java 5.1 and what it needs at run time, all pulled in by `apt-get install
# libowlapi-java` (rdf4j-rio-jsonld and httpclient-cache: the JSON-LD parser).
DEPENDENCY_JARS = (
    "guava",
    "caffeine",
    "commons-io",
    "commons-codec",
    "commons-logging",
    "commons-rdf-api",
    "jsonld-java",
    "jackson-core",
    "jackson-databind",
    "jackson-annotations",
    "slf4j-api",
    "slf4j-nop",
    "atinject-jsr330-api",
    "hppcrt",
    "xz",
    "jsr305",
    "httpclient",
    "httpcore",
    "httpclient-cache",
    "rdf4j-model-api",
    "rdf4j-model",
    "rdf4j-model-vocabulary",
    "rdf4j-util",
    "rdf4j-rio-api",
    "rdf4j-rio-datatypes",
    "rdf4j-rio-languages",
    "rdf4j-rio-jsonld",
)
ONTOLOGY_FILES = ("csfkg.ttl", "guideline.ttl", "article.ttl")

needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="HermiT needs Java (installed on the project machines and in CI)"
)


# =============================================================================================
# The profile checker
# =============================================================================================
@dataclass
class Check:
    code: int
    out: str

    def lines(self, kind: str) -> list[str]:
        return [line.split(": ", 1)[1] for line in self.out.splitlines() if line.startswith(kind + ": ")]

    @property
    def violations(self) -> list[str]:
        return self.lines("violation")

    @property
    def unparsed(self) -> list[str]:
        return self.lines("unparsed-triple")

    def counts(self) -> dict[str, int]:
        (line,) = self.lines("counts")
        return {k: int(v) for k, v in (item.split("=") for item in line.split())}


@pytest.fixture(scope="module")
def profile_check(tmp_path_factory: pytest.TempPathFactory):
    """Compile ProfileCheck.java; returns ``check(path, catalog=None) -> Check``."""
    java, javac = shutil.which("java"), shutil.which("javac")
    if java is None or javac is None:
        pytest.skip("the OWL API check needs java and javac (a JDK)")
    if not OWLAPI_JAR.is_file():
        pytest.skip(f"the OWL API is not installed ({OWLAPI_JAR} is missing: apt-get install libowlapi-java)")
    missing = [name for name in DEPENDENCY_JARS if not (JAVA_DIR / f"{name}.jar").is_file()]
    assert missing == [], f"libowlapi-java is installed but these jars are missing from {JAVA_DIR}: {missing}"
    classpath = [str(OWLAPI_JAR)] + [str(JAVA_DIR / f"{name}.jar") for name in DEPENDENCY_JARS]
    classes = tmp_path_factory.mktemp("profile-check")
    compiled = subprocess.run(
        [
            javac,
            "-d",
            str(classes),
            "-cp",
            ":".join(classpath),
            str(REPO / "tests" / "java" / "ProfileCheck.java"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert compiled.returncode == 0, compiled.stderr

    def check(path: Path, catalog: Path | None = None) -> Check:
        args = [java, "-cp", ":".join([*classpath, str(classes)]), "ProfileCheck"]
        if catalog is not None:
            args += ["--catalog", str(catalog)]
        done = subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=600)
        print(done.stdout, done.stderr)  # shown by pytest when an assertion fails
        return Check(code=done.returncode, out=done.stdout)

    return check


def _assert_clean(result: Check, ontology_iri: str) -> None:
    assert result.lines("parsed") and result.lines("parsed")[0].startswith(ontology_iri + " "), result.out
    assert result.violations == [], "OWL 2 DL profile violations:\n" + "\n".join(result.violations)
    assert result.unparsed == [], "triples the OWL API could not map to OWL:\n" + "\n".join(result.unparsed)
    assert result.lines("violations") == ["0"]
    assert result.code == 0, result.out


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The merged release in the three formats, written by `csfkg export`."""
    from csfkg.cli.main import run

    folder = tmp_path_factory.mktemp("release")
    paths = {fmt: folder / f"csfkg.{fmt}" for fmt in ("owl", "ttl", "jsonld")}
    for path in paths.values():
        assert run(["export", "--output", str(path)]) == 0
    return paths


# =============================================================================================
# The release through the OWL API
# =============================================================================================
def test_the_merged_release_in_rdf_xml_is_owl2_dl_with_zero_violations(profile_check, releases) -> None:
    result = profile_check(releases["owl"])
    _assert_clean(result, "https://w3id.org/csfkg/merged")
    assert result.lines("imports-closure") == ["1"], "the release imports nothing"
    counts = result.counts()
    assert counts["classes"] >= 90 and counts["logical"] >= 1000 and counts["individuals"] >= 200


def test_the_turtle_and_json_ld_releases_hold_the_same_axioms(profile_check, releases) -> None:
    owl = profile_check(releases["owl"])
    for fmt in ("ttl", "jsonld"):
        other = profile_check(releases[fmt])
        _assert_clean(other, "https://w3id.org/csfkg/merged")
        assert other.counts() == owl.counts(), fmt


@needs_java
def test_the_reasoned_release_is_owl2_dl_with_zero_violations(profile_check, tmp_path: Path) -> None:
    from csfkg.cli.main import run

    path = tmp_path / "csfkg-full.owl"
    assert run(["export", "--reasoned", "--output", str(path)]) == 0
    result = profile_check(path)
    _assert_clean(result, "https://w3id.org/csfkg/full")


def test_the_source_files_resolve_their_imports_offline_through_the_catalog(profile_check) -> None:
    result = profile_check(ONTOLOGY / "article.ttl", catalog=CATALOG)
    _assert_clean(result, "https://w3id.org/csfkg/article")
    assert result.lines("imports-closure") == ["3"], "article imports guideline, which imports the TBox"


def test_an_import_the_catalog_does_not_map_fails_the_load(profile_check, tmp_path: Path) -> None:
    for name in ONTOLOGY_FILES:
        shutil.copy(ONTOLOGY / name, tmp_path / name)
    text = CATALOG.read_text(encoding="utf-8")
    crippled = "\n".join(
        line
        for line in text.splitlines()
        if "w3id.org/csfkg/guideline" not in line and "releases/2026-11-26/guideline" not in line
    )
    (tmp_path / "catalog-v001.xml").write_text(crippled, encoding="utf-8")
    result = profile_check(tmp_path / "article.ttl", catalog=tmp_path / "catalog-v001.xml")
    assert result.code == 2
    (error,) = result.lines("load-error")
    assert "https://w3id.org/csfkg/guideline" in error, "the unmapped import is not looked up on the web"


def test_the_checker_reports_planted_violations(profile_check) -> None:
    result = profile_check(DATA / "reasoning" / "not-owl2-dl.ttl")
    assert result.code == 1
    kinds = {v.split(":", 1)[0] for v in result.violations}
    assert {"UseOfUndeclaredDatatype", "UseOfUndeclaredAnnotationProperty"} <= kinds
    assert any("xsd:date" in v for v in result.violations)


def test_patient_dates_must_become_strings_for_owl2_dl(profile_check, tmp_path: Path) -> None:
    """Why kg/reasoning.py converts date literals: with them the ontology plus the seed patient
    leaves OWL 2 DL (xsd:date is not in the datatype map); converted, it is clean."""
    from csfkg.curation.reasoning import owl_compatible
    from csfkg.model.knowledge import knowledge_graph

    seed = Graph().parse(SEED, format="turtle")
    raw = Graph() + knowledge_graph() + seed
    raw.remove((None, OWL.imports, None))
    raw.serialize(tmp_path / "raw.owl", format="xml")
    converted = Graph() + knowledge_graph() + owl_compatible(seed)
    converted.remove((None, OWL.imports, None))
    converted.serialize(tmp_path / "converted.owl", format="xml")

    before = profile_check(tmp_path / "raw.owl")
    assert before.code == 1 and any("xsd:date" in v for v in before.violations)
    after = profile_check(tmp_path / "converted.owl")
    assert after.violations == [] and after.code == 0


# =============================================================================================
# The XML catalog (no Java needed)
# =============================================================================================
def _catalog_entries() -> dict[str, Path]:
    root = ET.parse(CATALOG).getroot()
    return {
        element.get("name", ""): (CATALOG.parent / element.get("uri", "")).resolve()
        for element in root.iter()
        if element.tag.endswith("}uri")
    }


def test_the_catalog_has_the_odk_shape() -> None:
    root = ET.parse(CATALOG).getroot()
    assert root.tag == "{urn:oasis:names:tc:entity:xmlns:xml:catalog}catalog"
    assert root.get("prefer") == "public"
    groups = [e for e in root if e.tag.endswith("}group")]
    assert len(groups) == 1 and "Auto-Update=false" in (groups[0].get("id") or "")
    assert all(e.get("id") == "User Entered Import Resolution" for e in root if e.tag.endswith("}uri"))


def test_every_import_of_every_ontology_file_is_mapped_to_an_existing_file() -> None:
    entries = _catalog_entries()
    imports = []
    for path in sorted(ONTOLOGY.glob("**/*.ttl")):
        graph = Graph().parse(path, format="turtle")
        imports += [(path.name, str(target)) for target in graph.objects(None, OWL.imports)]
    assert len(imports) >= 2, "guideline imports the TBox and article imports guideline"
    unmapped = [
        f"{name} imports {target}"
        for name, target in imports
        if target not in entries or not entries[target].is_file()
    ]
    assert unmapped == []


def test_every_ontology_and_version_iri_is_mapped_to_its_own_file() -> None:
    entries = _catalog_entries()
    for name in ONTOLOGY_FILES:
        graph = Graph().parse(ONTOLOGY / name, format="turtle")
        (ontology,) = graph.subjects(RDF.type, OWL.Ontology)
        version = graph.value(ontology, OWL.versionIRI)
        for iri in (ontology, version):
            assert entries.get(str(iri)) == (ONTOLOGY / name).resolve(), f"{iri} should map to {name}"


def test_the_catalog_ships_in_the_package() -> None:
    from csfkg.model.resources import ontology_dir

    assert ontology_dir().joinpath("catalog-v001.xml").is_file()


# =============================================================================================
# csfkg export (no Java needed unless --reasoned)
# =============================================================================================
MERGED = URIRef("https://w3id.org/csfkg/merged")


def _exported(cli, *args: str) -> str:
    result = cli("export", *args)
    assert result.code == 0, result.err
    return result.out


def test_export_turtle_has_one_header_with_version_iri_and_metadata_and_no_imports(cli) -> None:
    graph = Graph().parse(data=_exported(cli, "--format", "ttl"), format="turtle")
    assert list(graph.subjects(RDF.type, OWL.Ontology)) == [MERGED]
    assert list(graph.triples((None, OWL.imports, None))) == []
    version = graph.value(MERGED, OWL.versionIRI)
    assert re.fullmatch(r"https://w3id\.org/csfkg/releases/\d{4}-\d{2}-\d{2}/merged", str(version))
    assert str(version).split("/")[-2] == str(graph.value(MERGED, OWL.versionInfo))
    for predicate in (DCTERMS.title, DCTERMS.description, DCTERMS.license):
        assert graph.value(MERGED, predicate) is not None, predicate
    assert isinstance(graph.value(MERGED, DCTERMS.license), URIRef)
    sources = {str(s) for s in graph.objects(MERGED, DCTERMS.source)}
    assert sources == {
        f"https://w3id.org/csfkg/releases/{version.split('/')[-2]}/{n}"
        for n in ("ontology", "guideline", "article")
    }
    for component in ("ontology", "guideline", "article"):
        assert (URIRef(f"https://w3id.org/csfkg/{component}"), None, None) not in graph, (
            "component headers are gone"
        )


def test_export_holds_every_triple_of_the_three_source_files_but_their_headers(cli) -> None:
    from csfkg.model.knowledge import knowledge_graph

    graph = Graph().parse(data=_exported(cli), format="turtle")
    headers = {URIRef(f"https://w3id.org/csfkg/{c}") for c in ("ontology", "guideline", "article")}
    source = [t for t in knowledge_graph() if t[0] not in headers and t[1] != OWL.imports]
    ground = [t for t in source if not any(isinstance(term, BNode) for term in t)]
    assert [t for t in ground if t not in graph] == []
    assert len(graph) >= len(source)


def test_export_owl_is_rdf_xml_and_jsonld_is_json(cli) -> None:
    owl = _exported(cli, "--format", "owl")
    assert owl.lstrip().startswith("<?xml") and "rdf:RDF" in owl
    assert (MERGED, RDF.type, OWL.Ontology) in Graph().parse(data=owl, format="xml")
    data = json.loads(_exported(cli, "--format", "jsonld"))
    assert data["@context"]["csf"] == "https://w3id.org/csfkg/ontology#"
    assert "brick" not in data["@context"], "only the prefixes the release uses"


def test_export_output_file_takes_its_format_from_the_extension(cli, tmp_path: Path) -> None:
    path = tmp_path / "csfkg.owl"
    result = cli("export", "--output", str(path))
    assert result.code == 0 and result.out == ""
    assert path.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert [p.name for p in tmp_path.iterdir()] == ["csfkg.owl"], "no temporary file left behind"


def test_export_format_that_contradicts_the_extension_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("export", "--format", "ttl", "--output", str(tmp_path / "csfkg.owl"))
    assert result.code == 2
    assert result.err.startswith("csfkg: --format ttl does not match") and result.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_export_to_a_missing_folder_is_exit_2(cli, tmp_path: Path) -> None:
    result = cli("export", "--output", str(tmp_path / "no" / "such" / "csfkg.ttl"))
    assert result.code == 2 and "does not exist" in result.err


@needs_java
def test_export_reasoned_adds_inferred_subclass_axioms_marked_is_inferred(cli) -> None:
    csf = Namespace("https://w3id.org/csfkg/ontology#")
    is_inferred = URIRef("http://www.geneontology.org/formats/oboInOwl#is_inferred")
    graph = Graph().parse(data=_exported(cli, "--reasoned"), format="turtle")
    full = URIRef("https://w3id.org/csfkg/full")
    assert list(graph.subjects(RDF.type, OWL.Ontology)) == [full]
    assert str(graph.value(full, OWL.versionIRI)).endswith("/full")
    assert (is_inferred, RDF.type, OWL.AnnotationProperty) in graph
    inferred = {
        (
            graph.value(a, OWL.annotatedSource),
            graph.value(a, OWL.annotatedProperty),
            graph.value(a, OWL.annotatedTarget),
        )
        for a in graph.subjects(RDF.type, OWL.Axiom)
        if str(graph.value(a, is_inferred)) == "true"
    }
    assert (
        csf.PatientWithSuspectedPostProceduralLeakAndPlannedIntervention,
        RDFS.subClassOf,
        csf.PatientWithSuspectedLeakAndPlannedIntervention,
    ) in inferred
    assert (csf.MedialBranchBlock, RDFS.subClassOf, csf.SpinalProcedureOtherThanLeakProcedure) in inferred
    assert all(triple in graph for triple in inferred), "each annotated axiom is also asserted"
    plain = Graph().parse(data=_exported(cli), format="turtle")
    assert (csf.MedialBranchBlock, RDFS.subClassOf, csf.SpinalProcedureOtherThanLeakProcedure) not in plain


def test_the_release_carries_every_sssom_mapping_as_a_skos_triple(cli) -> None:
    from csfkg.curation.mappings import skos_triples

    graph = Graph().parse(data=_exported(cli), format="turtle")
    mappings = skos_triples()
    assert len(mappings) > 0
    assert [t for t in mappings if t not in graph] == []
