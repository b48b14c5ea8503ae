"""Traceability of the source article to ontology/article.ttl.

The test segments its own copy of the article (tests/data/seed-article.txt, a byte-identical
copy of the source) into the sentences and bullets of the body, independently of how
article.ttl was written, and checks that:

(a) every body sentence has a csf:ArticleStatement whose csf:verbatimText equals it;
(b) every csf:ArticleStatement has one verbatim text found in the article, a confidence
    tier, the seed article as source, and csf:about links to typed nodes;
(c) the segmentation found a plausible number of sentences (no vacuous pass);
(d) every printed citation number that exists in the reference list is a csf:citesReference.

Segmentation rules (see ``segment_article``):
- the body is the title line, then everything from the heading
  "Wait for MRI Before Proceeding with Second Medial Branch Block" up to the "References"
  heading; the website boilerplate in between (review status, "Personalize", ...) and
  everything from "References" on is not a sentence;
- a bullet ("•") is one statement; a non-bullet line that ends with ".", ":" or "?" after its
  citation numbers are removed is prose (a paragraph is split into sentences); any other
  non-bullet line is a heading;
- trailing citation numbers ("... procedures 1", "... treated 5, 6", "... include 2:") are
  removed from the text and kept as the sentence's printed citations.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

REPO = Path(__file__).resolve().parents[2]
ONTOLOGY_DIR = REPO / "ontology"
ARTICLE_TXT = Path(__file__).resolve().parents[1] / "data" / "seed-article.txt"

CSF = Namespace("https://w3id.org/csfkg/ontology#")
CSFG = Namespace("https://w3id.org/csfkg/guideline#")
ARTICLE_ONTOLOGY = URIRef("https://w3id.org/csfkg/article")
GUIDELINE_ONTOLOGY = URIRef("https://w3id.org/csfkg/guideline")

START_HEADING = "Wait for MRI Before Proceeding with Second Medial Branch Block"
END_HEADING = "References"
BOILERPLATE_END = "Related Questions"
BULLET = "\u2022"

# True count of body sentences: 1 question, 2 recommendation sentences, 3+3 clinical
# reasoning bullets, 1+4 brain and 1+3 spine protocol lines, 1+6 brain and 1+3 spine
# finding lines, 4+4 algorithm bullets, 2 timing, 3 insurance, 1+5 red flag lines.
EXPECTED_MIN_SENTENCES = 48

_CITATION = re.compile(r"\s+(\d+(?:\s*,\s*\d+)*)\s*(:?)$")
_SENTENCE_BOUNDARY = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")


def normalise(text: str) -> str:
    return " ".join(str(text).split())


@dataclass(frozen=True)
class ArticleSentence:
    text: str  # citation numbers removed, whitespace normalised
    citations: tuple[int, ...]  # as printed, including numbers with no reference
    heading: str  # nearest heading above it (the title for the title itself)


def strip_citation(line: str) -> tuple[str, tuple[int, ...]]:
    match = _CITATION.search(line)
    if match is None:
        return line, ()
    numbers = tuple(int(n) for n in re.split(r"\s*,\s*", match.group(1)))
    return line[: match.start()] + match.group(2), numbers


def _lines() -> list[str]:
    return ARTICLE_TXT.read_text(encoding="utf-8").splitlines()


def segment_article() -> list[ArticleSentence]:
    lines = [line.strip() for line in _lines()]
    title = next(line for line in lines if line)
    assert title.endswith("?"), "the article should open with its question"
    sentences = [ArticleSentence(normalise(title), (), title)]

    start = lines.index(START_HEADING)
    end = lines.index(END_HEADING, start)
    heading = None
    for line in lines[start:end]:
        if not line:
            continue
        if line.startswith(BULLET):
            text, cites = strip_citation(line[len(BULLET) :].strip())
            assert heading is not None
            sentences.append(ArticleSentence(normalise(text), cites, heading))
            continue
        text, cites = strip_citation(line)
        if not text.endswith((".", ":", "?")):
            assert not cites, f"a heading with a citation number? {line!r}"
            heading = line
            continue
        assert heading is not None
        parts = _SENTENCE_BOUNDARY.split(text)
        for i, part in enumerate(parts):
            # a citation printed at the end of a paragraph belongs to its last sentence
            part_cites = cites if i == len(parts) - 1 else ()
            sentences.append(ArticleSentence(normalise(part), part_cites, heading))
    return sentences


def reference_list_size() -> int:
    """Number of entries of the article's reference list (each starts with its type line)."""
    lines = [line.strip() for line in _lines()]
    start = lines.index(END_HEADING)
    end = lines.index(BOILERPLATE_END, start)
    return sum(1 for line in lines[start + 1 : end] if line in {"Guideline", "Research"})


@pytest.fixture(scope="module")
def sentences() -> list[ArticleSentence]:
    return segment_article()


@pytest.fixture(scope="module")
def article_graph() -> Graph:
    g = Graph()
    g.parse(ONTOLOGY_DIR / "article.ttl", format="turtle")
    return g


@pytest.fixture(scope="module")
def merged() -> Graph:
    g = Graph()
    for name in ("csfkg.ttl", "guideline.ttl", "article.ttl"):
        g.parse(ONTOLOGY_DIR / name, format="turtle")
    return g


@pytest.fixture(scope="module")
def statements(article_graph: Graph) -> list[URIRef]:
    return sorted(set(article_graph.subjects(RDF.type, CSF.ArticleStatement)))


def _verbatim(g: Graph, s: URIRef) -> list[str]:
    return [normalise(o) for o in g.objects(s, CSF.verbatimText)]


# --- segmentation sanity -----------------------------------------------------------------


def test_article_copy_has_the_body_markers():
    lines = [line.strip() for line in _lines()]
    for marker in (
        START_HEADING,
        END_HEADING,
        BOILERPLATE_END,
        "Personalize",
        "Professional Medical Disclaimer",
    ):
        assert marker in lines, marker


def test_segmentation_found_a_plausible_number_of_sentences(sentences, statements):  # (c)
    assert len(sentences) >= EXPECTED_MIN_SENTENCES, (
        f"segmentation found only {len(sentences)} sentences: " + "; ".join(s.text for s in sentences)
    )
    assert len(statements) >= EXPECTED_MIN_SENTENCES
    texts = [s.text for s in sentences]
    assert len(set(texts)) == len(texts), "two body sentences share a text"
    # boilerplate stayed out, and the segmentation reached the end of the body
    joined = " ".join(texts)
    for boilerplate in (
        "Medical Advisory Board",
        "Personalize",
        "Related Questions",
        "Dr.Oracle assumes",
        "Praxis Medical Insights",
        "Which best describes",
    ):
        assert boilerplate not in joined, boilerplate
    assert texts[-1] == "Worsening headache or altered mental status"
    headings = {s.heading for s in sentences}
    assert "Red Flags Requiring Urgent Attention" in headings
    assert "If MRI is Normal" in headings
    assert reference_list_size() == 5


# --- (a) every sentence is modelled -----------------------------------------------------


def test_every_article_sentence_has_a_statement(sentences, article_graph, statements):
    modelled = {v for s in statements for v in _verbatim(article_graph, s)}
    missing = [s.text for s in sentences if s.text not in modelled]
    assert not missing, f"{len(missing)} article sentence(s) without an ArticleStatement:\n" + "\n".join(
        f"  - [{s.heading}] {s.text}" for s in sentences if s.text in missing
    )


def test_each_sentence_is_modelled_once_in_its_section(sentences, article_graph, statements):
    by_text: dict[str, list[URIRef]] = {}
    for s in statements:
        for v in _verbatim(article_graph, s):
            by_text.setdefault(v, []).append(s)
    problems = []
    for sentence in sentences:
        subjects = by_text.get(sentence.text, [])
        if len(subjects) > 1:
            problems.append(f"{sentence.text!r} is modelled {len(subjects)} times")
        for s in subjects:
            sections = [normalise(o) for o in article_graph.objects(s, CSF.articleSection)]
            if sections != [normalise(sentence.heading)]:
                problems.append(f"{s}: articleSection {sections} != [{sentence.heading!r}]")
    assert not problems, "\n".join(problems)


# --- (b) every statement is well formed ----------------------------------------------------


def test_every_statement_is_traceable(sentences, article_graph, merged, statements):
    texts = {s.text for s in sentences}
    problems = []
    for s in statements:
        verbatim = _verbatim(article_graph, s)
        if len(verbatim) != 1:
            problems.append(f"{s}: {len(verbatim)} verbatimText values")
        elif verbatim[0] not in texts:
            problems.append(f"{s}: verbatimText not found in the article: {verbatim[0]!r}")
        if (s, RDF.type, URIRef("http://www.w3.org/2002/07/owl#NamedIndividual")) not in article_graph:
            problems.append(f"{s}: not declared owl:NamedIndividual")
        tiers = list(article_graph.objects(s, CSF.confidenceTier))
        if len(tiers) != 1 or (tiers[0], RDF.type, CSF.ConfidenceTier) not in merged:
            problems.append(f"{s}: confidence tier {tiers} is not exactly one csf:ConfidenceTier")
        if (s, CSF.hasSource, CSFG["seed-article"]) not in article_graph:
            problems.append(f"{s}: csf:hasSource csfg:seed-article missing")
        about = list(article_graph.objects(s, CSF.about))
        if not about:
            problems.append(f"{s}: no csf:about")
        for target in about:
            if not isinstance(target, URIRef) or (target, RDF.type, None) not in merged:
                problems.append(f"{s}: csf:about target {target} has no rdf:type in the merged graph")
        if not list(article_graph.objects(s, CSF.articleSection)):
            problems.append(f"{s}: no csf:articleSection")
        definitions = [str(d) for d in article_graph.objects(s, SKOS.definition)]
        if len(definitions) != 1 or not definitions[0].startswith("an article statement that "):
            problems.append(f"{s}: skos:definition {definitions!r}")
        if not str(s).startswith(str(CSFG) + "article-"):
            problems.append(f"{s}: IRI is not csfg:article-...")
    assert not problems, "\n".join(problems)


def test_labels_are_present_and_unique(article_graph, statements):
    labels = {s: [str(o) for o in article_graph.objects(s, RDFS.label)] for s in statements}
    without = [s for s, ls in labels.items() if len(ls) != 1]
    assert not without, f"statements without exactly one label: {without}"
    all_labels = Counter(str(o) for _, o in article_graph.subject_objects(RDFS.label))
    duplicates = [label for label, n in all_labels.items() if n > 1]
    assert not duplicates, f"labels used more than once in article.ttl: {duplicates}"
    not_lower = [label for ls in labels.values() for label in ls if label[:1] != label[:1].lower()]
    assert not not_lower, f"labels should start in lower case: {not_lower}"


def test_article_ontology_header(article_graph):
    o = ARTICLE_ONTOLOGY
    assert (o, RDF.type, URIRef("http://www.w3.org/2002/07/owl#Ontology")) in article_graph
    assert (o, URIRef("http://www.w3.org/2002/07/owl#imports"), GUIDELINE_ONTOLOGY) in article_graph
    assert (
        o,
        URIRef("http://www.w3.org/2002/07/owl#versionIRI"),
        URIRef("https://w3id.org/csfkg/releases/2026-11-26/article"),
    ) in article_graph
    assert (
        o,
        URIRef("http://purl.org/dc/terms/license"),
        URIRef("https://creativecommons.org/licenses/by/4.0/"),
    ) in article_graph


def test_article_uses_only_declared_csf_properties(article_graph, merged):
    declared_kinds = {
        URIRef("http://www.w3.org/2002/07/owl#" + k)
        for k in ("AnnotationProperty", "ObjectProperty", "DatatypeProperty")
    }
    undeclared = sorted(
        {
            str(p)
            for p in article_graph.predicates()
            if str(p).startswith(str(CSF)) and not any((p, RDF.type, k) in merged for k in declared_kinds)
        }
    )
    assert not undeclared, f"properties not declared in the ontology: {undeclared}"


# --- (d) printed citations are linked ----------------------------------------------------


def test_printed_citations_are_linked(sentences, article_graph, merged, statements):
    n_refs = reference_list_size()
    ref_by_number = {int(num): ref for ref, num in merged.subject_objects(CSF.referenceNumber)}
    assert set(range(1, n_refs + 1)) <= set(ref_by_number), "reference list not fully modelled"
    by_text = {v: s for s in statements for v in _verbatim(article_graph, s)}
    problems = []
    cited_sentences = 0
    for sentence in sentences:
        s = by_text.get(sentence.text)
        if s is None:
            continue  # reported by test_every_article_sentence_has_a_statement
        expected = {ref_by_number[n] for n in sentence.citations if 1 <= n <= n_refs}
        actual = set(article_graph.objects(s, CSF.citesReference))
        if expected != actual:
            problems.append(
                f"{s}: printed {sentence.citations} -> expected "
                f"{sorted(map(str, expected))}, has {sorted(map(str, actual))}"
            )
        markers = [str(m) for m in article_graph.objects(s, CSF.citationMarker)]
        if sentence.citations:
            cited_sentences += 1
            if [re.sub(r"\s+", "", m) for m in markers] != [",".join(map(str, sentence.citations))]:
                problems.append(f"{s}: citationMarker {markers} != printed {sentence.citations}")
        elif markers:
            problems.append(f"{s}: citationMarker {markers} but the article prints none")
    assert not problems, "\n".join(problems)
    assert cited_sentences >= 18, f"only {cited_sentences} sentences with citations found"


def test_dangling_citation_six_is_kept_as_marker_only(sentences):
    dangling = [s for s in sentences if any(n > reference_list_size() for n in s.citations)]
    assert [s.citations for s in dangling] == [(5, 6)]
