"""``csfkg docs``: the output opens as HTML, every local link resolves, every class is there (the
defined classes under the parents HermiT infers), each evidence statement is shown once with its
tier, and the algorithm picture - drawn from the graph - names every action, branch and criterion
by its label. tests/curation/test_docs_browser.py opens the pages in Chromium."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from rdflib import OWL, RDF, RDFS, URIRef

from csfkg.curation.docs import algorithm, algorithm_dot, algorithm_mermaid, build_docs
from csfkg.curation.reasoning import reason
from csfkg.model.errors import InputError, UsageError
from csfkg.model.knowledge import knowledge_graph, rules_graph

from conftest import REPO

HAVE_DOT = shutil.which("dot") is not None
HAVE_JAVA = shutil.which("java") is not None
CSF = "https://w3id.org/csfkg/ontology#"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Parses one page strictly enough: balanced tags, and every id, link and text collected."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []
        self.svg_text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if values.get("id"):
            if values["id"] in self.ids:
                self.errors.append(f"duplicate id {values['id']}")
            self.ids.add(values["id"] or "")
        for name in ("href", "src", "xlink:href"):
            if values.get(name):
                self.links.append(values[name] or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        stack = list(self.stack)
        self.handle_starttag(tag, attrs)
        self.stack = stack

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "svg" in self.stack and "text" in self.stack:
            self.svg_text.append(data.strip())


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.errors == [], f"{path.name}: {page.errors[:5]}"
    assert page.stack == [], f"{path.name}: unclosed {page.stack}"
    return page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    result = build_docs(out)
    assert result.folder == out
    return out


def algorithm_terms() -> dict[str, set[str]]:
    """The actions, branches and criteria of the algorithm, read here from the graph directly:
    their labels and their codes."""
    graph = rules_graph()
    terms = {
        "actions": set(graph.objects(None, URIRef(CSF + "recommendsAction"))),
        "branches": set(graph.objects(None, URIRef(CSF + "hasBranch"))),
        "criteria": set(graph.objects(None, URIRef(CSF + "requiresCriterion")))
        | set(graph.objects(None, URIRef(CSF + "excludesCriterion"))),
    }
    found = {f"{kind} labels": {str(graph.value(t, RDFS.label)) for t in ts} for kind, ts in terms.items()}
    codes = {str(graph.value(t, URIRef(CSF + "code"))) for ts in terms.values() for t in ts}
    return {**found, "codes": codes}


def test_every_page_parses_as_html(site: Path) -> None:
    pages = sorted(site.glob("*.html"))
    assert {p.name for p in pages} == {
        "index.html",
        "algorithm.html",
        "classes.html",
        "properties.html",
        "individuals.html",
        "evidence.html",
        "article.html",
        "mappings.html",
    }
    for path in pages:
        page = parse(path)
        assert {"html", "head", "title", "body", "main"} <= page.tags, path.name


def test_every_local_link_resolves_to_a_file_and_an_anchor(site: Path) -> None:
    ids = {path.name: parse(path).ids for path in site.glob("*.html")}
    broken = []
    checked = 0
    for path in site.glob("*.html"):
        for link in parse(path).links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            target = site / unquote(parts.path) if parts.path else path
            checked += 1
            if not target.is_file():
                broken.append(f"{path.name}: {link} (no file)")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in ids[target.name]:
                broken.append(f"{path.name}: {link} (no anchor)")
    assert broken == []
    assert checked > 500


@pytest.mark.skipif(not HAVE_DOT, reason="graphviz dot is not on the PATH (CI installs it)")
def test_algorithm_page_holds_the_picture_as_svg_labelled_in_clinical_words(site: Path) -> None:
    """Every action, branch and criterion of the graph by its label, wrapped over lines but whole;
    no box shows a code."""
    page = parse(site / "algorithm.html")
    assert "svg" in page.tags
    assert "algorithm.svg" in page.links and (site / "algorithm.svg").is_file()
    assert "algorithm.html" in parse(site / "index.html").links
    shown = " ".join(line for line in page.svg_text if line)
    terms = algorithm_terms()
    for kind in ("actions labels", "branches labels", "criteria labels"):
        assert len(terms[kind]) > 5
        assert sorted(label for label in terms[kind] if label not in shown) == [], kind
    assert sorted(set(page.svg_text) & terms["codes"]) == []
    assert "urgent evaluation" in page.svg_text and "urgent-evaluation" not in shown
    standalone = html.unescape(
        (site / "algorithm.svg").read_text(encoding="utf-8")
    )  # graphviz writes - as &#45;
    assert ">if a red flag is present</text>" in standalone


@pytest.mark.skipif(not HAVE_DOT, reason="graphviz dot is not on the PATH (CI installs it)")
def test_picture_links_lead_to_the_documented_branch(site: Path) -> None:
    svg = (site / "algorithm.svg").read_text(encoding="utf-8")
    assert 'href="individuals.html#csfg-br-red-flag"' in svg
    assert 'href="individuals.html#csfg-urgent-evaluation"' in svg


def test_every_class_label_appears(site: Path) -> None:
    graph = knowledge_graph()
    text = " ".join(parse(site / "classes.html").text)
    classes = [c for c in graph.subjects(RDF.type, OWL.Class) if str(c).startswith(CSF)]
    missing = [
        str(graph.value(c, RDFS.label)) for c in classes if str(graph.value(c, RDFS.label)) not in text
    ]
    assert missing == []
    assert len(classes) > 50


def test_every_property_and_individual_has_its_own_section(site: Path) -> None:
    graph = knowledge_graph()
    ids = set().union(*(parse(p).ids for p in site.glob("*.html")))
    ours = {
        s
        for s in graph.subjects(RDF.type, None)
        if isinstance(s, URIRef)
        and str(s).startswith(("https://w3id.org/csfkg/ontology#", "https://w3id.org/csfkg/guideline#"))
    }

    def anchor(term: URIRef) -> str:
        return (
            str(term)
            .replace("https://w3id.org/csfkg/ontology#", "csf-")
            .replace("https://w3id.org/csfkg/guideline#", "csfg-")
        )

    assert sorted(str(t) for t in ours if anchor(t) not in ids) == []


def test_evidence_statements_show_their_tier_and_source(site: Path) -> None:
    text = (site / "evidence.html").read_text(encoding="utf-8")
    section = text[text.index('id="csfg-ev-normal-brain-20"') :]
    section = section[: section.index("</section>")]
    # the article's figure is the article's claim, qualified by the meta-analysis's
    assert "article claim" in section and "seed article (Dr.Oracle, 2026)" in section
    assert "initial brain MRI normal in about 19%" in section  # qualified by
    # and the meta-analysis's page names the claim it qualifies, read from its own side
    checked = text[text.index('id="csfg-ev-normal-brain-19"') :]
    checked = checked[: checked.index("</section>")]
    assert "is the \u201cqualified by\u201d of" in checked and "initial brain MRI normal in 20%" in checked
    assert "referred to by" not in text
    for tier in (
        "guideline",
        "classification",
        "meta-analysis",
        "reviewer note",
        "unverified guideline detail",
        "article claim",
    ):
        assert f">{tier}</a>" in text


def test_each_evidence_statement_is_shown_once(site: Path) -> None:
    """Issue 22: the evidence page printed each statement's text twice (its row and its quote)."""
    graph = knowledge_graph()
    text = " ".join(parse(site / "evidence.html").text)
    statements = {
        str(s): str(o)
        for s, o in graph.subject_objects(URIRef(CSF + "statementText"))
        if isinstance(s, URIRef)
    }
    article = {str(s) for s in graph.subjects(URIRef(CSF + "verbatimText"), None)}
    shown_here = {s: quote for s, quote in statements.items() if s not in article}
    assert len(shown_here) > 50
    assert {s: text.count(quote) for s, quote in shown_here.items() if text.count(quote) != 1} == {}
    section = (site / "evidence.html").read_text(encoding="utf-8").split('id="csfg-ev-normal-brain-19"')[1]
    section = section[: section.index("</section>")]
    assert section.count(">meta-analysis</a>") == 1  # the tier once too, as its badge


def test_each_article_sentence_is_shown_once(site: Path) -> None:
    graph = knowledge_graph()
    text = " ".join(parse(site / "article.html").text)
    sentences = {str(o) for o in graph.objects(None, URIRef(CSF + "verbatimText"))}
    headings = {str(o) for o in graph.objects(None, URIRef(CSF + "articleSection"))}  # each once, as <h2>
    assert len(sentences) > 40
    assert sorted(s for s in sentences if text.count(s) != 1 + (s in headings)) == []


class Tree(HTMLParser):
    """The class tree of classes.html: each class (by anchor) with the classes it stands under."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parents: dict[str, set[str | None]] = {}
        self.path: list[str | None] = []  # the class of each open <li>
        self.inside = 0  # depth of open ul.tree elements
        self.pending = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "ul" and (values.get("class") == "tree" or self.inside):
            self.inside += 1
        elif tag == "li" and self.inside:
            self.path.append(None)
            self.pending = True
        elif tag == "a" and self.pending and values.get("href", "").startswith("classes.html#"):
            anchor = (values["href"] or "").split("#", 1)[1]
            parent = next((c for c in reversed(self.path[:-1]) if c), None)
            self.parents.setdefault(anchor, set()).add(parent)
            self.path[-1] = anchor
            self.pending = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul" and self.inside:
            self.inside -= 1
        elif tag == "li" and self.inside:
            self.path.pop()


def class_tree(site: Path) -> dict[str, set[str | None]]:
    text = (site / "classes.html").read_text(encoding="utf-8")
    block = text[text.index('<h2 id="hierarchy">') : text.index("<h2>All classes</h2>")]
    tree = Tree()
    tree.feed(block)
    return tree.parents


@pytest.mark.skipif(not HAVE_JAVA, reason="HermiT needs Java (installed on the project machines and in CI)")
def test_class_page_shows_the_defined_classes_under_their_inferred_parents(site: Path) -> None:
    """Issue 22: the defined "patient with ..." classes stood flat at the top (the asserted
    hierarchy). Now each stands under the direct superclasses HermiT infers, as `csfkg reason`
    reports them - under each of them when there are two - and nowhere else."""
    assert build_docs(site.parent / "again").hierarchy == "inferred"
    anchor = lambda iri: iri.replace(CSF, "csf-")  # noqa: E731
    tree = class_tree(site)
    report = reason(None)
    assert len(report.classification) >= 13
    for placement in report.classification:
        expected = {anchor(s.iri) for s in placement.superclasses}
        assert expected and tree[anchor(placement.term.iri)] == expected, placement.term.label
    both = tree["csf-PatientWithSuspectedPostProceduralLeakAndPlannedIntervention"]
    assert both == {
        "csf-PatientWithSuspectedLeakAndPlannedIntervention",
        "csf-PatientWithSuspectedPostProceduralLeak",
    }
    assert tree["csf-PatientWithHeadache"] == {"csf-Patient"} and tree["csf-Patient"] == {None}
    text = (site / "classes.html").read_text(encoding="utf-8")
    assert "Hierarchy (inferred)" in text and '<span class="inferred">inferred</span>' in text


def test_class_page_says_when_it_shows_the_asserted_hierarchy_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("csfkg.curation.docs.java_available", lambda: False)
    result = build_docs(tmp_path / "site", picture="outline")
    assert result.hierarchy == "asserted"
    text = (tmp_path / "site" / "classes.html").read_text(encoding="utf-8")
    assert "Hierarchy (asserted)" in text and "Java is not on the PATH" in text
    assert '<span class="inferred">' not in text
    assert class_tree(tmp_path / "site")["csf-PatientWithHeadache"] == {None}  # defined: at the top


def test_mappings_page_lists_every_sssom_row(site: Path) -> None:
    text = (site / "mappings.html").read_text(encoding="utf-8")
    rows = sum(
        1
        for path in (REPO / "ontology" / "mappings").glob("*.sssom.tsv")
        for line in path.read_text(encoding="utf-8").splitlines()[1:]
        if line.strip() and not line.startswith("#") and not line.startswith("subject_id")
    )
    assert rows > 40 and text.count("<tr><td>") == rows
    assert "HP:0002315" in text and "semapv:ManualMappingCuration" in text


def test_algorithm_is_read_from_the_graph_in_precedence_order() -> None:
    points = algorithm()
    assert [p.order for p in points] == sorted(p.order for p in points)
    for point in points:
        precedences = [b.precedence for b in point.branches if b.precedence is not None]
        assert precedences == sorted(precedences)
    assert (
        points[0].branches[0].code == "red-flag" and points[0].branches[0].action_code == "urgent-evaluation"
    )
    assert points[-1].companions and len(points[-1].branches) == 9  # issue 21: 9 companion branches
    assert sum(len(p.branches) for p in points) == 27 + 9  # 27 next-step branches for the 16 rows


def test_every_companion_names_the_branches_it_accompanies() -> None:
    """A companion applies beside the next step of the branches it csf:accompanies (and only when
    its own criteria hold): the picture says "beside no. ...", never "always"."""
    points = algorithm()
    companions = [b for p in points for b in p.branches if b.companion]
    assert len(companions) == 9 and all(b.accompanies for b in companions)
    defer = next(b for b in companions if b.code == "defer-for-red-flag")
    assert [(c.code, c.precedence) for c in defer.accompanies] == [("red-flag", 10)]
    dot = algorithm_dot(points)
    assert "beside no. 10" in dot and ">always<" not in dot


def test_a_branch_added_to_the_graph_appears_in_the_picture() -> None:
    """Drawn from the graph, not from a list in Python."""
    graph = rules_graph() + knowledge_graph()
    graph.parse(
        data="""
        @prefix csf: <https://w3id.org/csfkg/ontology#> . @prefix csfg: <https://w3id.org/csfkg/guideline#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        csfg:br-new a csf:NextStepBranch ; rdfs:label "new branch" ; csf:code "brand-new-branch" ; csf:precedence 11 ;
            csf:requiresCriterion csfg:crit-red-flag-present ; csf:recommendsAction csfg:monitor-red-flags .
        csfg:dp-red-flags csf:hasBranch csfg:br-new .
        """,
        format="turtle",
    )
    points = algorithm(graph)
    assert [b.code for b in points[0].branches] == ["red-flag", "brand-new-branch"]
    assert "new branch" in algorithm_dot(points) and "new branch" in algorithm_mermaid(points)
    assert "if a red flag is present" in algorithm_dot(points)


def test_outline_picture_when_asked_works_offline(tmp_path: Path) -> None:
    result = build_docs(tmp_path / "site", picture="outline")
    assert result.picture == "outline"
    page = parse(tmp_path / "site" / "algorithm.html")
    assert "svg" not in page.tags and not (tmp_path / "site" / "algorithm.svg").exists()
    text = html.unescape((tmp_path / "site" / "algorithm.html").read_text(encoding="utf-8"))
    # no script and nothing fetched from elsewhere: the page reads the same offline
    assert "<script" not in text and "https://cdn" not in text
    block = text[text.index('<ol class="outline">') : text.index("</ol>")]
    terms = algorithm_terms()
    assert all(label in block for label in terms["actions labels"] | terms["criteria labels"])
    assert "flowchart" not in block  # the outline, not Mermaid source shown raw
    mermaid = html.unescape((tmp_path / "site" / "algorithm.mmd").read_text(encoding="utf-8"))
    assert mermaid.startswith("flowchart") and all(label in mermaid for label in terms["actions labels"])


def test_mermaid_is_the_older_name_of_outline(tmp_path: Path) -> None:
    assert build_docs(tmp_path / "site", picture="mermaid").picture == "outline"


def test_auto_picture_falls_back_to_the_outline_without_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("csfkg.curation.docs.shutil.which", lambda name: None)
    assert build_docs(tmp_path / "site").picture == "outline"


def test_svg_picture_without_dot_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("csfkg.curation.docs.shutil.which", lambda name: None)
    with pytest.raises(UsageError, match="dot"):
        build_docs(tmp_path / "site", picture="svg")
    assert list(tmp_path.iterdir()) == []


# --- the folder is written atomically ---------------------------------------------------------------
def test_an_earlier_output_is_replaced_as_a_whole(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_docs(out, picture="outline")
    (out / "stale.html").write_text("old", encoding="utf-8")
    build_docs(out, picture="outline")
    assert not (out / "stale.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no temporary folder left beside it


def test_a_folder_with_other_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="holds other files"):
        build_docs(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "site").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is a file"):
        build_docs(tmp_path / "site")


def test_a_missing_parent_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        build_docs(tmp_path / "no" / "site")


def test_a_failure_while_writing_leaves_no_half_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build_docs(out, picture="outline")
    before = sorted(p.name for p in out.iterdir())
    real_write = Path.write_text
    calls = {"n": 0}

    def failing_write(self: Path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing_write)
    with pytest.raises(InputError, match="No space left on device"):
        build_docs(out, picture="outline")
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == before  # the previous output, whole
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


# --- the command line ----------------------------------------------------------------------------------
def test_cli_writes_the_docs(cli, tmp_path: Path) -> None:
    result = cli("docs", str(tmp_path / "site"), "--picture", "outline")
    assert result.code == 0, result.err
    assert result.out.startswith(f"Wrote {tmp_path / 'site'}/ (")
    assert "algorithm picture: outline;" in result.out
    hierarchy = "inferred (HermiT)." if HAVE_JAVA else "asserted only (Java is not on the PATH"
    assert f"class hierarchy: {hierarchy}" in result.out
    assert (tmp_path / "site" / "index.html").is_file()


def test_cli_refuses_a_foreign_folder_in_one_sentence(cli, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = cli("docs", str(tmp_path))
    assert result.code == 2
    assert result.err.startswith("csfkg: ") and len(result.err.strip().splitlines()) == 1
    assert "holds other files" in result.err


def test_cli_rejects_an_unknown_picture_kind(cli, tmp_path: Path) -> None:
    result = cli("docs", str(tmp_path / "site"), "--picture", "png")
    assert result.code == 2 and "--picture" in result.err
    assert not (tmp_path / "site").exists()


@pytest.mark.skipif(not HAVE_DOT, reason="graphviz dot is not on the PATH (CI installs it)")
def test_console_script_writes_the_docs(tmp_path: Path) -> None:
    script = shutil.which("csfkg") or ""
    command = [script] if script else [sys.executable, "-c", "from csfkg.cli.main import run; run()"]
    done = subprocess.run(
        [*command, "docs", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CSFKG_DEBUG": ""},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "algorithm picture: SVG (graphviz)" in done.stdout
    assert (tmp_path / "site" / "algorithm.svg").is_file()
