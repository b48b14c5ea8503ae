"""Browsable HTML documentation of the ontology, with a picture of the management algorithm drawn
from the graph itself.

The pages list every class, property and individual of the csfkg namespaces with its label,
definition, synonyms, codes and cross-references (from the SSSOM tables), the guideline
evidence by confidence tier with its sources and corrections (each statement once), the article
sentence by sentence, and the mapping tables.

The class hierarchy is the one HermiT infers: the axioms the reasoned release adds
(``csfkg export --reasoned``, :func:`csfkg.curation.release.release_graph`, each annotated
``oboInOwl:is_inferred``) are read from it at build time and marked "inferred" on the pages, so
that the defined "patient with ..." classes stand under their inferred parents. HermiT runs
once per process (about five seconds); it is not stored, since a stored copy could go stale.
Without Java on the PATH the class page shows the asserted hierarchy and says so.

The algorithm page is read from guideline.ttl with SPARQL (report-algorithm-diagram: decision
points, their branches in precedence order, the action each recommends, the companions;
report-algorithm-conditions: the criteria of each branch) and drawn, in the labels the graph gives,
with graphviz ``dot`` as SVG: the tables stand in one column, so the picture fits a 1280 px
window at its own size. Without ``dot`` on the PATH the page shows the same algorithm as a static
outline (no script, nothing fetched: the pages work offline), and ``algorithm.mmd`` holds it as
a Mermaid flowchart for a Mermaid viewer.

pyLODE was the first choice: its last release for Python 3.11 (3.4.1) does not start when
installed from a wheel (it reads a pyproject.toml that the wheel lacks, RDFLib/pyLODE#260; the
fix needs Python 3.12), 3.3.4 renders only classes and properties, and neither shows individuals,
evidence tiers or mappings, which is most of what this graph holds.
"""

from __future__ import annotations

import functools
import html
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rdflib import OWL, RDF, RDFS, BNode, Graph, URIRef
from rdflib import Literal as RDFLiteral
from rdflib.namespace import DCTERMS, SKOS
from rdflib.term import Node

from csfkg.curation.mappings import MAPPING_PREDICATES, MappingSet, packaged_mapping_sets
from csfkg.curation.reasoning import java_available
from csfkg.curation.release import release_graph
from csfkg.model.errors import InputError, UsageError
from csfkg.model.knowledge import knowledge_graph, rules_graph
from csfkg.model.vocab import (
    CSF_NS as _CSF,
)
from csfkg.model.vocab import (
    CSFG,
    OBO_IN_OWL,
    ONTOLOGY_IRI,
    prefixed_name,
)
from csfkg.sparql.library import get_query

Picture = Literal["auto", "svg", "outline", "mermaid"]
"""``mermaid`` is the older name of ``outline``."""
Hierarchy = Literal["inferred", "asserted"]
Triple = tuple[Node, Node, Node]

CSF_NS = str(_CSF)
CSFG_NS = str(CSFG)
MARKER = ".csfkg-docs"
"""A file in every folder ``build_docs`` writes: only such folders (or empty ones) are replaced."""


# --- the algorithm, read from the graph ------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """What a branch's applying depends on: a decision criterion, or for a companion branch a
    branch it accompanies (with that branch's precedence); IRI, code and label from the graph."""

    iri: URIRef
    code: str
    label: str
    precedence: int | None = None


@dataclass(frozen=True)
class Branch:
    iri: URIRef
    code: str
    label: str
    companion: bool
    precedence: int | None
    requires: tuple[Condition, ...]
    excludes: tuple[Condition, ...]
    accompanies: tuple[Condition, ...]
    """For a companion branch: the next-step branches beside which it applies."""
    action: URIRef
    action_code: str
    action_label: str


@dataclass(frozen=True)
class DecisionPoint:
    iri: URIRef
    label: str
    order: int
    branches: tuple[Branch, ...]

    @property
    def companions(self) -> bool:
        return bool(self.branches) and all(b.companion for b in self.branches)


REQUIRES = URIRef(CSF_NS + "requiresCriterion")
EXCLUDES = URIRef(CSF_NS + "excludesCriterion")
ACCOMPANIES = URIRef(CSF_NS + "accompanies")


def algorithm(graph: Graph | None = None) -> list[DecisionPoint]:
    """The decision points in display order, each with its branches in precedence order and the
    conditions of each branch, labels and codes as the graph gives them (queries
    report-algorithm-diagram and report-algorithm-conditions)."""
    source = rules_graph() if graph is None else graph
    conditions: dict[tuple[URIRef, URIRef], list[Condition]] = defaultdict(list)
    for row in source.query(get_query("report-algorithm-conditions").text):
        conditions[(row.branch, row.relation)].append(
            Condition(
                iri=row.condition,
                code=str(row.conditionCode),
                label=str(row.conditionLabel),
                precedence=None if row.conditionPrecedence is None else int(row.conditionPrecedence),
            )
        )

    def of(branch: URIRef, relation: URIRef) -> tuple[Condition, ...]:
        found = conditions.get((branch, relation), [])
        return tuple(sorted(found, key=lambda c: (c.precedence or 0, c.label, c.code)))

    points: dict[URIRef, tuple[str, int, list[Branch]]] = {}
    for row in source.query(get_query("report-algorithm-diagram").text):
        entry = points.setdefault(row.point, (str(row.pointLabel), int(row.pointOrder), []))
        entry[2].append(
            Branch(
                iri=row.branch,
                code=str(row.branchCode),
                label=str(row.branchLabel),
                companion=bool(row.companion.toPython()),
                precedence=None if row.precedence is None else int(row.precedence),
                requires=of(row.branch, REQUIRES),
                excludes=of(row.branch, EXCLUDES),
                accompanies=of(row.branch, ACCOMPANIES),
                action=row.action,
                action_code=str(row.actionCode),
                action_label=str(row.actionLabel),
            )
        )
    result = [
        DecisionPoint(iri=iri, label=label, order=order, branches=tuple(sorted(branches, key=_branch_order)))
        for iri, (label, order, branches) in points.items()
    ]
    return sorted(result, key=lambda p: (p.order, str(p.iri)))


def _branch_order(branch: Branch) -> tuple[int, str]:
    return (branch.precedence if branch.precedence is not None else 10**6, branch.code)


def _node_id(iri: URIRef) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", str(iri).rsplit("#", 1)[-1])


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    return textwrap.wrap(
        text, width=width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    ) or [""]


def _condition_lines(branch: Branch, width: int = 46) -> list[str]:
    """When a branch applies, in the criteria's own words: "if A", "and B", "unless C", "or D";
    for a companion first "beside no. 22, 30" (the precedence of the branches it accompanies).
    Each line is wrapped at ``width``; "always" when there is no condition."""
    lines: list[str] = []
    if branch.accompanies:
        numbers = ", ".join(
            str(c.precedence) if c.precedence is not None else c.label for c in branch.accompanies
        )
        lines += _wrap(f"beside no. {numbers}", width, indent="   ")
    for first, then, criteria in (("if", "and", branch.requires), ("unless", "or", branch.excludes)):
        for index, criterion in enumerate(criteria):
            lines += _wrap(f"{first if index == 0 else then} {criterion.label}", width, indent="   ")
    return lines or ["always"]


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _cell(text: str, *, href: str | None = None, tooltip: str | None = None, **attrs: str) -> str:
    """One cell of a graphviz HTML-like table; ``text`` lines are escaped and left-aligned."""
    extra = "".join(f' {k.upper()}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
    if href:
        extra += (
            f' HREF="{html.escape(href, quote=True)}" TOOLTIP="{html.escape(tooltip or text, quote=True)}"'
        )
    lines = text.split("\n")
    body = '<BR ALIGN="LEFT"/>'.join(html.escape(line, quote=False) for line in lines)
    if len(lines) > 1:
        body += '<BR ALIGN="LEFT"/>'
    return f"<TD{extra}>{body}</TD>"


_COLUMNS = {
    False: ("no.", "branch", "applies", "next step"),
    True: ("", "companion branch", "applies", "adds"),
}


def algorithm_dot(points: Iterable[DecisionPoint], *, link: dict[URIRef, str] | None = None) -> str:
    """Graphviz DOT of the algorithm, in the graph's clinical words: one table per decision point,
    its branches top to bottom in precedence order (numbered by it), each with the criteria that
    must hold ("if ... and ...") and must not ("unless ... or ...") and the action it recommends;
    a bold arrow to the next decision point for when none of its branches applies. The companion
    branches form the last table: each adds its action beside the next step of the branches it
    accompanies ("beside no. ...") when its own criteria hold. The tables stand in one column,
    so the picture is as wide as its widest table (about 600 pt); a box's tooltip gives the
    term's prefixed name."""
    link = link or {}
    points = list(points)
    out = [
        "digraph algorithm {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=12, nodesep=0.4, ranksep=0.35,'
        ' label="Management algorithm, drawn from guideline.ttl", labelloc=t];',
        '  node [shape=plain, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
        '  start [label="patient record", shape=oval, style=filled, fillcolor="#eeeeee"];',
    ]
    previous = "start"
    for point in points:
        pid = _node_id(point.iri)
        header = "#f2f2f2" if point.companions else "#fff5d6"
        rows = [
            "<TR>"
            + _cell(
                "\n".join(_wrap(f"{point.order}. {point.label}", 90)),
                href=link.get(point.iri),
                tooltip=prefixed_name(point.iri),
                colspan="4",
                bgcolor=header,
            )
            + "</TR>",
            "<TR>" + "".join(_cell(h, bgcolor="#fafafa") for h in _COLUMNS[point.companions]) + "</TR>",
        ]
        for branch in point.branches:
            rows.append(
                "<TR>"
                + _cell("" if branch.precedence is None else str(branch.precedence), align="RIGHT")
                + _cell(
                    "\n".join(_wrap(branch.label, 34, indent="  ")),
                    href=link.get(branch.iri),
                    tooltip=prefixed_name(branch.iri),
                    align="LEFT",
                )
                + _cell("\n".join(_condition_lines(branch)), align="LEFT")
                + _cell(
                    "\n".join(_wrap(branch.action_label, 28, indent="  ")),
                    href=link.get(branch.action),
                    tooltip=prefixed_name(branch.action),
                    bgcolor="#dbe9f6",
                    align="LEFT",
                )
                + "</TR>"
            )
        table = (
            '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">' + "".join(rows) + "</TABLE>"
        )
        out.append(f"  {pid} [label=<{table}>];")
        if not point.companions:
            label = "" if previous == "start" else " no branch applies"
            out.append(f"  {previous} -> {pid} [style=bold, label={_dot_string(label)}];")
            previous = pid
    for point in points:
        if point.companions:  # below the last decision point, not beside the first: one column
            out.append(f"  {previous} -> {_node_id(point.iri)} [style=invis];")
            previous = _node_id(point.iri)
    out.append("}")
    return "\n".join(out) + "\n"


def _mermaid_text(text: str) -> str:
    return html.escape(text, quote=False).replace('"', "#quot;")


def algorithm_mermaid(points: Iterable[DecisionPoint]) -> str:
    """The same picture as :func:`algorithm_dot`, as a Mermaid flowchart, top to bottom."""
    out = ["flowchart TB", '  start(["patient record"])']
    actions: dict[URIRef, Branch] = {}
    previous = "start"
    for point in points:
        pid = _node_id(point.iri)
        out.append(f'  {pid}["{_mermaid_text(f"{point.order}. {point.label}")}"]')
        if point.companions:
            out.append(f"  start -. beside the next step .-> {pid}")
        else:
            out.append(
                f"  {previous} ==> {pid}"
                if previous == "start"
                else f"  {previous} == no branch applies ==> {pid}"
            )
            previous = pid
        for branch in point.branches:
            bid = _node_id(branch.iri)
            lines = [branch.label, *_condition_lines(branch)]
            out.append(f'  {bid}("{"<br/>".join(_mermaid_text(line) for line in lines)}")')
            arrow = "-.->" if branch.companion else "-->"
            out.append(f"  {pid} {arrow} {bid}")
            out.append(f"  {bid} {arrow} {_node_id(branch.action)}")
            actions.setdefault(branch.action, branch)
    for action, branch in actions.items():
        out.append(f'  {_node_id(action)}["{_mermaid_text(branch.action_label)}"]')
    return "\n".join(out) + "\n"


def algorithm_outline(points: Iterable[DecisionPoint], link: dict[URIRef, str]) -> str:
    """The algorithm as static HTML, where graphviz is not there to draw it: the decision points
    in order, each with its branches (the criteria that must hold and those that must not, in
    their own words) and the action each recommends."""

    def linked(term: URIRef, text: str) -> str:
        href = link.get(term)
        title = _e(prefixed_name(term))
        return f'<a href="{_e(href)}" title="{title}">{_e(text)}</a>' if href else _e(text)

    out = ['<ol class="outline">']
    for point in points:
        kind = (
            "each adds its action beside the next step of the branches it names, when its criteria hold"
            if point.companions
            else "the first branch that applies gives the next step"
        )
        out.append(f"<li><strong>{linked(point.iri, point.label)}</strong> ({kind})<ul>")
        for branch in point.branches:
            conditions = "; ".join(_e(line) for line in _condition_lines(branch, width=10_000))
            number = "" if branch.precedence is None else f"{branch.precedence}. "
            out.append(
                f"<li>{number}{linked(branch.iri, branch.label)}: {conditions}"
                f" &rarr; {linked(branch.action, branch.action_label)}</li>"
            )
        out.append("</ul></li>")
    out.append("</ol>")
    return "\n".join(out)


def render_svg(dot_text: str) -> str | None:
    """SVG from graphviz ``dot``, or None when ``dot`` is not on the PATH.

    Raises:
        RuntimeError: ``dot`` is there but fails (a defect of the DOT text or of graphviz).
    """
    executable = shutil.which("dot")
    if executable is None:
        return None
    done = subprocess.run(
        [executable, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0 or "<svg" not in done.stdout:
        raise RuntimeError(f"graphviz dot failed: {done.stderr.strip() or 'no SVG output'}")
    return done.stdout


def _inline_svg(svg: str) -> str:
    """An SVG document as an element for an HTML page (no XML prolog, doctype or comments)."""
    start = svg.index("<svg")
    return re.sub(r"<!--.*?-->", "", svg[start:], flags=re.DOTALL).strip()


# --- the pages -------------------------------------------------------------------------------------
@dataclass
class DocsResult:
    """What :func:`build_docs` wrote."""

    folder: Path
    files: list[str]
    picture: Literal["svg", "outline"]
    hierarchy: Hierarchy
    """``inferred``: the class page shows the reasoned release's hierarchy (HermiT ran);
    ``asserted``: Java is not on the PATH, so only the asserted one."""
    size_bytes: int


@dataclass
class _Site:
    graph: Graph
    sets: tuple[MappingSet, ...]
    pages: dict[URIRef, str] = field(default_factory=dict)
    """Where each documented term lives: page file name."""
    inferred: frozenset[Triple] = frozenset()
    """The axioms of ``graph`` that HermiT infers (added from the reasoned release)."""

    # --- naming and linking --------------------------------------------------------------------
    def curie(self, term: URIRef) -> str:
        return prefixed_name(term)

    def anchor(self, term: URIRef) -> str:
        return re.sub(r"[^A-Za-z0-9_-]", "-", self.curie(term).replace(":", "-", 1))

    def href(self, term: URIRef) -> str | None:
        page = self.pages.get(term)
        return f"{page}#{self.anchor(term)}" if page else None

    def label(self, term: Node) -> str:
        value = self.graph.value(term, RDFS.label) if isinstance(term, (URIRef, BNode)) else None
        return (
            str(value) if value is not None else (self.curie(term) if isinstance(term, URIRef) else str(term))
        )

    def link(self, term: Node) -> str:
        if isinstance(term, RDFLiteral):
            return _e(str(term))
        if isinstance(term, BNode):
            return "<em>(anonymous)</em>"
        assert isinstance(term, URIRef)
        target = self.href(term)
        if target:
            return f'<a href="{_e(target)}" title="{_e(self.curie(term))}">{_e(self.label(term))}</a>'
        if str(term).startswith(("http://", "https://")):
            text = self.curie(term).removeprefix("<").removesuffix(">")  # no prefix: the IRI itself
            return f'<a class="external" href="{_e(str(term))}">{_e(text)}</a>'
        return _e(self.curie(term))

    def values(self, subject: URIRef, predicate: URIRef) -> list[Node]:
        return sorted(self.graph.objects(subject, predicate), key=lambda o: (self.label(o).lower(), str(o)))

    def mark(self, triple: Triple) -> str:
        """A tag after a link that HermiT infers, nothing after an asserted one."""
        return ' <span class="inferred">inferred</span>' if triple in self.inferred else ""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


STYLE = """\
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #222; line-height: 1.45; }
header { background: #21405f; color: #fff; padding: 0.8em 1.5em; }
header a { color: #fff; margin-right: 1.2em; }
main { padding: 1em 1.5em 3em; max-width: 72em; }
h1 { margin: 0.2em 0; font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
section.term { border-left: 3px solid #dbe9f6; padding: 0.2em 0 0.2em 0.8em; margin: 1.2em 0; }
section.term h3 { margin: 0.2em 0; } code.iri { color: #555; font-size: 0.85em; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { border: 1px solid #ddd; padding: 0.25em 0.5em; vertical-align: top; text-align: left; }
th { background: #f4f4f4; } dl { margin: 0.3em 0; } dt { font-weight: 600; margin-top: 0.3em; } dd { margin-left: 1.2em; }
.tier { display: inline-block; padding: 0 0.4em; border-radius: 0.3em; background: #eee; font-size: 0.85em; }
.figure { overflow-x: auto; border: 1px solid #ddd; padding: 0.5em; background: #fff; }
.figure svg { max-width: 100%; height: auto; } ul.tree { list-style: none; padding-left: 1.2em; }
ul.cell { margin: 0; padding-left: 1em; } ul.cell li { margin: 0 0 0.2em; }
.inferred { font-size: 0.75em; color: #6a4c00; background: #fff5d6; padding: 0 0.3em; border-radius: 0.3em; }
blockquote { margin: 0.3em 0; padding-left: 0.8em; border-left: 3px solid #ccc; color: #333; }
"""

NAV = [
    ("index.html", "Overview"),
    ("algorithm.html", "Algorithm"),
    ("classes.html", "Classes"),
    ("properties.html", "Properties"),
    ("individuals.html", "Individuals"),
    ("evidence.html", "Evidence"),
    ("article.html", "Article"),
    ("mappings.html", "Mappings"),
]


def _page(title: str, body: str) -> str:
    nav = "".join(f'<a href="{href}">{_e(text)}</a>' for href, text in NAV)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="generator" content="csfkg docs">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{_e(title)}</title>\n'
        '<link rel="stylesheet" href="style.css">\n</head>\n<body>\n'
        f"<header><nav>{nav}</nav><h1>{_e(title)}</h1></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _in(term: Node, namespace: str) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(namespace)


def _ours(term: Node) -> bool:
    return _in(term, CSF_NS) or _in(term, CSFG_NS)


def _closure_instances(graph: Graph, cls: URIRef) -> set[URIRef]:
    classes = set(graph.transitive_subjects(RDFS.subClassOf, cls))
    return {s for c in classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}


def _classify(graph: Graph) -> dict[str, list[URIRef]]:
    """Every documented term of the csfkg namespaces, by the page that documents it."""
    csf = lambda local: URIRef(CSF_NS + local)  # noqa: E731
    statements = _closure_instances(graph, csf("GuidelineStatement"))
    article = _closure_instances(graph, csf("ArticleStatement"))
    references = {s for s in graph.subjects(RDF.type, csf("Reference")) if isinstance(s, URIRef)}
    classes = {s for s in graph.subjects(RDF.type, OWL.Class) if _ours(s)}
    properties = {
        s
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
        for s in graph.subjects(RDF.type, kind)
        if _ours(s)
    }
    typed = {s for s in graph.subjects(RDF.type, None) if _ours(s)}
    individuals = typed - classes - properties - statements - references
    key = lambda t: (str(graph.value(t, RDFS.label) or t).lower(), str(t))  # noqa: E731
    return {
        "classes.html": sorted(classes, key=key),
        "properties.html": sorted(properties, key=key),
        "individuals.html": sorted(individuals, key=key),
        "evidence.html": sorted((statements - article) | references, key=key),
        "article.html": sorted(article, key=key),
    }


SHOWN = {RDF.type, RDFS.label, SKOS.definition, SKOS.altLabel, RDFS.subClassOf, RDFS.domain, RDFS.range}


def _term_section(
    site: _Site, term: URIRef, *, extra: str = "", shown: frozenset[URIRef] = frozenset()
) -> str:
    """A term's section: label, IRI, definition, then a row per property and per kind of
    incoming reference. ``extra`` is appended; the properties in ``shown`` are left out of the
    rows because ``extra`` shows them (so that nothing is said twice)."""
    g = site.graph
    parts = [
        f'<section class="term" id="{site.anchor(term)}">',
        f"<h3>{_e(site.label(term))}</h3>",
        f'<code class="iri">{_e(str(term))}</code>',
    ]
    definition = g.value(term, SKOS.definition)
    if definition is not None:
        parts.append(f"<p>{_e(str(definition))}</p>")
    rows: list[tuple[str, str]] = []
    alt = site.values(term, SKOS.altLabel)
    if alt:
        rows.append(("also called", ", ".join(_e(str(a)) for a in alt)))
    types = [t for t in site.values(term, RDF.type) if t not in (OWL.NamedIndividual,)]
    if types:
        rows.append(("type", ", ".join(site.link(t) + site.mark((term, RDF.type, t)) for t in types)))
    for predicate, name in ((RDFS.subClassOf, "subclass of"), (RDFS.domain, "domain"), (RDFS.range, "range")):
        values = site.values(term, predicate)
        if values:
            rows.append((name, ", ".join(site.link(v) + site.mark((term, predicate, v)) for v in values)))
    subclasses = sorted(g.subjects(RDFS.subClassOf, term), key=lambda s: site.label(s).lower())
    if subclasses:
        rows.append(
            (
                "subclasses",
                ", ".join(site.link(s) + site.mark((s, RDFS.subClassOf, term)) for s in subclasses),
            )
        )
    mappings = [m for s in site.sets for m in s.mappings if m.subject == term]
    for mapping in sorted(mappings, key=lambda m: (m.predicate_id, m.object_id)):
        rows.append(
            (
                mapping.predicate_id,
                f'{site.link(mapping.object)} <span class="maplabel">{_e(mapping.object_label)}</span>',
            )
        )
    for predicate in sorted(
        {p for p in g.predicates(term, None)} - SHOWN - MAPPING_PREDICATES - shown,
        key=lambda p: site.label(p),
    ):
        values = site.values(term, predicate)
        rows.append((site.label(predicate), "<br>".join(site.link(v) for v in values)))
    incoming = sorted(
        {(p, s) for s, p in g.subject_predicates(term) if _ours(s) and p not in (RDF.type, RDFS.subClassOf)},
        key=lambda ps: (site.label(ps[0]), site.label(ps[1]).lower()),
    )
    grouped: dict[URIRef, list[Node]] = defaultdict(list)
    for predicate, subject in incoming:
        grouped[predicate].append(subject)
    for predicate, subjects in grouped.items():
        rows.append(
            # read from the other side: on a correction's page, the claim it corrects is
            # 'the "corrected by" of' (not "referred to by (corrected by)", which reads backwards)
            (f"is the “{site.label(predicate)}” of", "<br>".join(site.link(s) for s in subjects))
        )
    if rows:
        parts.append("<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>")
    parts.append(extra)
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _classes_page(site: _Site, terms: list[URIRef], hierarchy: Hierarchy) -> str:
    g = site.graph
    ours = set(terms)

    def ancestors(cls: URIRef) -> set[Node]:
        return set(g.transitive_objects(cls, RDFS.subClassOf)) - {cls}

    def parents(cls: URIRef) -> set[URIRef]:
        """The direct named parents among ours: a parent that is an ancestor of another is left out."""
        named = {p for p in g.objects(cls, RDFS.subClassOf) if p in ours and p != cls}
        return {
            p
            for p in named
            if not any(q != p and p in ancestors(q) and q not in ancestors(p) for q in named)  # type: ignore[arg-type]
        }

    children: dict[URIRef | None, list[URIRef]] = defaultdict(list)
    for cls in terms:
        for parent in sorted(parents(cls), key=str) or [None]:
            children[parent].append(cls)

    def tree(parent: URIRef | None, path: frozenset[URIRef]) -> str:
        below = [c for c in children.get(parent, []) if c not in path]
        if not below:
            return ""
        items = "".join(
            f"<li>{site.link(c)}{'' if parent is None else site.mark((c, RDFS.subClassOf, parent))}"
            f"{tree(c, path | {c})}</li>"
            for c in below
        )
        return f'<ul class="tree">{items}</ul>'

    if hierarchy == "inferred":
        how = (
            "The hierarchy as HermiT infers it, read from the reasoned release (<code>csfkg export"
            " --reasoned</code>): each defined class stands under its inferred parents, and a link that"
            " HermiT infers (not asserted in the ontology) is marked <em>inferred</em>. A class with two"
            " parents is shown under each."
        )
    else:
        how = (
            "The asserted hierarchy only: Java is not on the PATH, so HermiT (which places the defined"
            " classes under their inferred parents) did not run; the defined classes stand at the top."
        )
    body = [
        f"<p>{len(terms)} classes. The hierarchy first, then every class in alphabetical order.</p>",
        f'<h2 id="hierarchy">Hierarchy ({hierarchy})</h2>',
        f"<p>{how}</p>",
        tree(None, frozenset()),
        "<h2>All classes</h2>",
    ]
    body += [_term_section(site, t) for t in terms]
    return _page("Classes", "\n".join(body))


def _properties_page(site: _Site, terms: list[URIRef]) -> str:
    body = [f"<p>{len(terms)} properties.</p>"]
    for kind, title in (
        (OWL.ObjectProperty, "Object properties"),
        (OWL.DatatypeProperty, "Datatype properties"),
        (OWL.AnnotationProperty, "Annotation properties"),
    ):
        members = [t for t in terms if (t, RDF.type, kind) in site.graph]
        body.append(f"<h2>{title} ({len(members)})</h2>")
        body += [_term_section(site, t) for t in members]
    return _page("Properties", "\n".join(body))


def _individuals_page(site: _Site, terms: list[URIRef]) -> str:
    by_class: dict[URIRef, list[URIRef]] = defaultdict(list)
    for term in terms:
        classes = [c for c in site.values(term, RDF.type) if _ours(c)] or [OWL.NamedIndividual]
        by_class[classes[0]].append(term)
    order = sorted(by_class, key=lambda c: site.label(c).lower())
    body = [
        f"<p>{len(terms)} individuals, by class: "
        + ", ".join(
            f'<a href="#group-{site.anchor(c)}">{_e(site.label(c))}</a> ({len(by_class[c])})' for c in order
        )
        + ".</p>"
    ]
    for cls in order:
        body.append(f'<h2 id="group-{site.anchor(cls)}">{_e(site.label(cls))}</h2>')
        members = by_class[cls]
        if all((m, URIRef(CSF_NS + "precedence"), None) in site.graph for m in members):
            members = sorted(members, key=lambda m: int(site.graph.value(m, URIRef(CSF_NS + "precedence"))))
        body += [_term_section(site, t) for t in members]
    return _page("Individuals", "\n".join(body))


def _tier_badge(site: _Site, statement: URIRef) -> str:
    tiers = site.values(statement, URIRef(CSF_NS + "confidenceTier"))
    return " ".join(f'<span class="tier">{site.link(t)}</span>' for t in tiers)


def _evidence_page(site: _Site, terms: list[URIRef]) -> str:
    g = site.graph
    csf = lambda local: URIRef(CSF_NS + local)  # noqa: E731
    references = [t for t in terms if (t, RDF.type, csf("Reference")) in g]
    statements = [t for t in terms if t not in references]
    tiers = sorted(
        g.subjects(RDF.type, csf("ConfidenceTier")),
        key=lambda t: (int(g.value(t, csf("tierRank")) or 99), site.label(t)),
    )
    body = [
        "<p>Every statement taken from a source carries its source and a confidence tier; a checked"
        " statement that corrects the article is linked from the claim it corrects.</p>",
        "<h2>Confidence tiers</h2>",
        "<table><tr><th>rank</th><th>tier</th><th>meaning</th><th>statements</th></tr>",
    ]
    for tier in tiers:
        count = sum(1 for s in g.subjects(csf("confidenceTier"), tier))
        body.append(
            f"<tr><td>{_e(str(g.value(tier, csf('tierRank'))))}</td><td>{site.link(tier)}</td>"
            f"<td>{_e(str(g.value(tier, SKOS.definition) or ''))}</td><td>{count}</td></tr>"
        )
    body.append("</table>")
    by_tier: dict[URIRef | None, list[URIRef]] = defaultdict(list)
    for statement in statements:
        tier = g.value(statement, csf("confidenceTier"))
        by_tier[tier if isinstance(tier, URIRef) else None].append(statement)
    body.append(f"<h2>Evidence statements ({len(statements)})</h2>")
    for tier in [*tiers, None]:
        if not by_tier.get(tier):
            continue
        body.append(
            f"<h3>{_e(site.label(tier)) if tier is not None else 'without a tier'} ({len(by_tier[tier])})</h3>"
        )
        for statement in by_tier[tier]:
            text = g.value(statement, csf("statementText"))
            quote = f"<blockquote>{_e(str(text))}</blockquote>" if text is not None else ""
            body.append(
                _term_section(
                    site,
                    statement,
                    extra=f"<p>{_tier_badge(site, statement)}</p>{quote}",
                    shown=frozenset({csf("statementText"), csf("confidenceTier")}),
                )
            )
    body.append(f"<h2>References ({len(references)})</h2>")
    body += [_term_section(site, r) for r in references]
    return _page("Evidence, tiers and references", "\n".join(body))


def _article_page(site: _Site, terms: list[URIRef]) -> str:
    g = site.graph
    csf = lambda local: URIRef(CSF_NS + local)  # noqa: E731
    sections: dict[str, list[URIRef]] = defaultdict(list)
    for term in terms:
        sections[str(g.value(term, csf("articleSection")) or "")].append(term)
    body = [
        "<p>The source article sentence by sentence, verbatim, each with its confidence tier and what it is about.</p>"
    ]
    for section, members in sections.items():
        body.append(f"<h2>{_e(section)}</h2>")
        for term in sorted(members, key=lambda t: str(t)):
            verbatim = g.value(term, csf("verbatimText"))
            quote = f"<blockquote>{_e(str(verbatim))}</blockquote>" if verbatim is not None else ""
            body.append(
                _term_section(
                    site,
                    term,
                    extra=f"<p>{_tier_badge(site, term)}</p>{quote}",
                    shown=frozenset({csf("verbatimText"), csf("confidenceTier"), csf("articleSection")}),
                )
            )
    return _page("Article statements", "\n".join(body))


def _mappings_page(site: _Site) -> str:
    total = sum(len(s.mappings) for s in site.sets)
    body = [
        f"<p>{total} cross-references in {len(site.sets)} SSSOM tables (ontology/mappings/), the same as the"
        " skos mapping triples of the ontology. Only identifiers verified in the project's clinical notes are used.</p>"
    ]
    for mapping_set in site.sets:
        meta = mapping_set.metadata
        body.append(
            f'<h2 id="{_e(mapping_set.name.replace(".", "-"))}">{_e(mapping_set.title)} ({len(mapping_set.mappings)})</h2>'
        )
        body.append(f"<p>{_e(str(meta.get('mapping_set_description', '')))}</p>")
        body.append(
            f"<p>File <code>{_e(mapping_set.name)}</code>, version {_e(str(meta.get('mapping_set_version', '')))}, "
            f'license <a class="external" href="{_e(str(meta.get("license", "")))}">{_e(str(meta.get("license", "")))}</a>.</p>'
        )
        body.append(
            "<table><tr><th>subject</th><th>predicate</th><th>object</th><th>object label</th><th>justification</th><th>comment</th></tr>"
        )
        for m in mapping_set.mappings:
            body.append(
                f"<tr><td>{site.link(m.subject)}</td><td>{_e(m.predicate_id)}</td><td>{site.link(m.object)}</td>"
                f"<td>{_e(m.object_label)}</td><td>{_e(m.row.get('mapping_justification', ''))}</td><td>{_e(m.comment)}</td></tr>"
            )
        body.append("</table>")
    return _page("Mappings", "\n".join(body))


def _index_page(site: _Site, counts: dict[str, int]) -> str:
    g = site.graph
    onto = ONTOLOGY_IRI
    meta_rows = [
        ("title", _e(str(g.value(onto, DCTERMS.title) or ""))),
        ("IRI", f"<code>{_e(str(onto))}</code>"),
        ("version", _e(str(g.value(onto, OWL.versionInfo) or ""))),
        ("version IRI", f"<code>{_e(str(g.value(onto, OWL.versionIRI) or ''))}</code>"),
        (
            "license",
            site.link(g.value(onto, DCTERMS.license)) if g.value(onto, DCTERMS.license) is not None else "",
        ),
        (
            "namespaces",
            "<br>".join(
                f"<code>{_e(p)}:</code> <code>{_e(n)}</code>" for p, n in (("csf", CSF_NS), ("csfg", CSFG_NS))
            ),
        ),
    ]
    description = g.value(onto, DCTERMS.description)
    body = [
        f"<p>{_e(str(description or ''))}</p>",
        "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in meta_rows) + "</table>",
        "<h2>Contents</h2><ul>",
    ]
    for href, text in NAV[1:]:
        body.append(f'<li><a href="{href}">{_e(text)}</a> ({counts.get(href, 0)})</li>')
    body.append("</ul>")
    return _page(str(g.value(onto, DCTERMS.title) or "csfkg"), "\n".join(body))


def _items(cells: list[str]) -> str:
    """Several values of one table cell, one a line."""
    return f'<ul class="cell">{"".join(f"<li>{c}</li>" for c in cells)}</ul>' if cells else ""


def _algorithm_page(site: _Site, points: list[DecisionPoint], figure: str, picture: str) -> str:
    source = "algorithm.svg" if picture == "svg" else "algorithm.mmd"
    drawn = (
        "Blue boxes are actions; click a box for its page (its tooltip gives the prefixed name)."
        if picture == "svg"
        else "Shown as an outline: graphviz (dot) was not there to draw the picture."
    )
    body = [
        "<p>Drawn from guideline.ttl, in its own words: the decision points in order; within one, the"
        " next-step branches top to bottom in precedence order. A branch applies when all its <em>if</em>"
        " and <em>and</em> criteria are met and none of its <em>unless</em> and <em>or</em> criteria; the"
        " first next-step branch that applies gives the next step, and when none of a decision point's"
        " branches applies the next decision point is read. The companion branches, in the last table, add"
        " their action beside the next step of the branches they name by number (beside no. ...), when"
        f" their own criteria hold. {_e(drawn)}"
        f' Files: <a href="{source}">{source}</a>, <a href="algorithm.dot">algorithm.dot</a>.</p>',
        f'<div class="figure">{figure}</div>',
        '<h2 id="table">The algorithm as a table</h2>',
        "<p>The same branches with their precedence (the lower number wins); a companion applies beside"
        " the next step of the branches it names by number. Hover a link for its prefixed name.</p>",
        '<table class="algorithm"><tr><th>decision point</th><th>precedence</th><th>branch</th><th>if</th>'
        "<th>unless</th><th>action</th></tr>",
    ]
    for point in points:
        for branch in point.branches:
            beside = [
                f'<a href="{_e(site.href(c.iri) or "")}" title="{_e(c.label)}">{c.precedence}</a>'
                for c in branch.accompanies
            ]
            requires = _items(
                ([f"beside no. {', '.join(beside)}"] if beside else [])
                + [site.link(c.iri) for c in branch.requires]
            )
            excludes = _items([site.link(c.iri) for c in branch.excludes])
            body.append(
                f"<tr><td>{site.link(point.iri)}</td><td>{'' if branch.precedence is None else branch.precedence}</td>"
                f"<td>{site.link(branch.iri)}</td><td>{requires}</td><td>{excludes}</td>"
                f"<td>{site.link(branch.action)}</td></tr>"
            )
    body.append("</table>")
    return _page("Management algorithm", "\n".join(body))


@functools.cache
def _inferred_axioms() -> frozenset[Triple]:
    """The axioms that the reasoned release (``csfkg export --reasoned``) adds to the asserted ones:
    those it annotates ``oboInOwl:is_inferred``. HermiT runs once per process (some seconds); the
    packaged knowledge does not change in between.

    Raises:
        csfkg.curation.reasoning.ReasonerError: HermiT failed.
        csfkg.curation.release.InconsistentReleaseError: HermiT finds the release inconsistent.
    """
    release = release_graph(reasoned=True)
    return frozenset(
        (
            release.value(axiom, OWL.annotatedSource),
            release.value(axiom, OWL.annotatedProperty),
            release.value(axiom, OWL.annotatedTarget),
        )
        for axiom in release.subjects(OBO_IN_OWL.is_inferred, None)
        if (axiom, RDF.type, OWL.Axiom) in release
    )


@dataclass
class RenderedSite:
    """Every file of the documentation by relative path, and how two parts were made."""

    files: dict[str, str]
    picture: Literal["svg", "outline"]
    hierarchy: Hierarchy


def render_site(*, picture: Picture = "auto") -> RenderedSite:
    """Every file of the documentation, with the kind of algorithm picture and of class hierarchy:
    the inferred hierarchy of the reasoned release when Java is on the PATH (HermiT runs), else
    the asserted one.

    Raises:
        UsageError: ``picture`` is ``svg`` and graphviz ``dot`` is not on the PATH, or unknown.
        csfkg.curation.reasoning.ReasonerError: Java is there but HermiT fails.
    """
    if picture not in ("auto", "svg", "outline", "mermaid"):
        raise UsageError(f"Unknown picture kind {picture!r}: use auto, svg or outline.")
    graph = Graph()
    graph += knowledge_graph()
    hierarchy: Hierarchy = "asserted"
    inferred: frozenset[Triple] = frozenset()
    if java_available():
        inferred = frozenset(t for t in _inferred_axioms() if t not in graph)
        for triple in inferred:
            graph.add(triple)  # type: ignore[arg-type]
        hierarchy = "inferred"
    site = _Site(graph=graph, sets=packaged_mapping_sets(), inferred=inferred)
    groups = _classify(graph)
    for page, terms in groups.items():
        for term in terms:
            site.pages.setdefault(term, page)
    points = algorithm(graph)
    link = {term: site.href(term) for term in site.pages}
    dot_text = algorithm_dot(points, link={k: v for k, v in link.items() if v})
    files: dict[str, str] = {"style.css": STYLE, "algorithm.dot": dot_text}
    svg = render_svg(dot_text) if picture in ("auto", "svg") else None
    if picture == "svg" and svg is None:
        raise UsageError(
            "--picture svg needs graphviz: `dot` is not on the PATH (install graphviz, or use --picture outline)."
        )
    if svg is not None:
        files["algorithm.svg"] = svg
        figure, kind = _inline_svg(svg), "svg"
    else:
        files["algorithm.mmd"] = algorithm_mermaid(points)
        figure, kind = algorithm_outline(points, {k: v for k, v in link.items() if v}), "outline"
    counts = {page: len(terms) for page, terms in groups.items()}
    counts["mappings.html"] = sum(len(s.mappings) for s in site.sets)
    counts["algorithm.html"] = sum(len(p.branches) for p in points)
    files["index.html"] = _index_page(site, counts)
    files["algorithm.html"] = _algorithm_page(site, points, figure, kind)
    files["classes.html"] = _classes_page(site, groups["classes.html"], hierarchy)
    files["properties.html"] = _properties_page(site, groups["properties.html"])
    files["individuals.html"] = _individuals_page(site, groups["individuals.html"])
    files["evidence.html"] = _evidence_page(site, groups["evidence.html"])
    files["article.html"] = _article_page(site, groups["article.html"])
    files["mappings.html"] = _mappings_page(site)
    files[MARKER] = "csfkg docs: this folder is replaced as a whole by the next `csfkg docs` run.\n"
    return RenderedSite(files=files, picture=kind, hierarchy=hierarchy)


# --- writing the folder atomically ---------------------------------------------------------------
def build_docs(out: Path, *, picture: Picture = "auto") -> DocsResult:
    """Write the documentation to the folder ``out``: built in a temporary folder beside it and
    renamed into place, so that a failure leaves the previous folder or none, never half of one.

    ``out`` may not exist yet, be empty, or hold an earlier ``csfkg docs`` output (it is then
    replaced); any other existing path is refused.

    Raises:
        InputError: the parent folder does not exist or cannot be written.
        UsageError: ``out`` is a file, or a folder that holds something else; ``picture`` is
            ``svg`` without graphviz.
    """
    out = Path(out)
    parent = out.resolve().parent
    if not parent.is_dir():
        raise InputError(f"Cannot write {out}: the folder {parent} does not exist.")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a folder for the documentation.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"{out} is a folder that holds other files; give a new or empty folder, or an earlier csfkg docs output."
        )
    site = render_site(picture=picture)
    files = site.files
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    except OSError as error:
        raise InputError(f"Cannot write {out}: {error.strerror}.") from None
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        os.chmod(staging, 0o755)
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=parent))
            os.replace(out, retired / out.name)
            os.replace(staging, out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(f"Cannot write {out}: {error.strerror or error}.") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum((out / name).stat().st_size for name in files)
    return DocsResult(
        folder=out, files=sorted(files), picture=site.picture, hierarchy=site.hierarchy, size_bytes=size
    )
