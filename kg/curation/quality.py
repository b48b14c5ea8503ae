"""Ontology quality checks, as ROBOT's ``report`` runs them: the ``queries/*-violation.rq``
queries over the knowledge graph (TBox + guideline + article) and the SSSOM mapping tables.

Each check is one SELECT query that returns ``?entity ?property ?value`` rows and must return
none; a row is a :class:`Violation`. Where a check reports something missing, the row names the
missing triple (``?value`` unbound when the value is unknown).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from rdflib import Graph

from csfkg.curation.mappings import sssom_rdf
from csfkg.model.errors import UsageError
from csfkg.model.knowledge import knowledge_graph
from csfkg.sparql.library import NamedQuery, all_queries
from csfkg.stores import OxigraphStore, RdflibStore, SelectResult, Store, Term

VIOLATION_SUFFIX = "-violation"
Engine = Literal["rdflib", "oxigraph"]


@dataclass(frozen=True)
class Violation:
    """One row of a violation query."""

    check: str
    entity: Term | None
    property: Term | None
    value: Term | None


@dataclass
class QualityReport:
    """The checks that ran, in name order, and the rows they returned."""

    checks: list[str]
    violations: list[Violation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    def by_check(self) -> dict[str, list[Violation]]:
        """Every check that ran, with its rows (an empty list when it passed)."""
        grouped: dict[str, list[Violation]] = {name: [] for name in self.checks}
        for violation in self.violations:
            grouped[violation.check].append(violation)
        return grouped


def violation_queries() -> list[NamedQuery]:
    """Every ``*-violation`` query of the library, by name."""
    return [query for name, query in all_queries().items() if name.endswith(VIOLATION_SUFFIX)]


def check_names() -> list[str]:
    """The names of the checks (query names without ``-violation``)."""
    return [query.name[: -len(VIOLATION_SUFFIX)] for query in violation_queries()]


def quality_graph() -> Graph:
    """What the checks read: knowledge graph plus the SSSOM tables in SSSOM/RDF (a new graph)."""
    graph = Graph()
    graph += knowledge_graph()
    graph += sssom_rdf()
    return graph


def run_checks(
    graph: Graph | None = None,
    *,
    checks: Iterable[str] | None = None,
    engine: Engine = "rdflib",
) -> QualityReport:
    """Run the violation queries over ``graph`` (default: :func:`quality_graph`).

    ``checks`` selects checks by name, with or without the ``-violation`` suffix (default: all).
    ``engine`` is the SPARQL engine: rdflib (the reference) or embedded Oxigraph; both give the
    same rows.

    Raises:
        UsageError: a check name that does not exist, or an unknown engine.
    """
    queries = _select(checks)
    store = _store(engine)
    store.add_graph(quality_graph() if graph is None else graph)
    report = QualityReport(checks=[q.name for q in queries])
    for query in queries:
        result = store.query(query.text)
        assert isinstance(result, SelectResult), f"{query.name} is not a SELECT query"
        for row in result.dicts():
            report.violations.append(
                Violation(
                    check=query.name,
                    entity=row.get("entity"),
                    property=row.get("property"),
                    value=row.get("value"),
                )
            )
    return report


def _select(checks: Iterable[str] | None) -> list[NamedQuery]:
    available = {query.name: query for query in violation_queries()}
    if checks is None:
        return list(available.values())
    selected: list[NamedQuery] = []
    for name in checks:
        full = name if name.endswith(VIOLATION_SUFFIX) else f"{name}{VIOLATION_SUFFIX}"
        if full not in available:
            raise UsageError(
                f"There is no quality check named {name!r}; the checks are: {', '.join(check_names())}."
            )
        if available[full] not in selected:
            selected.append(available[full])
    return selected


def _store(engine: str) -> Store:
    if engine == "rdflib":
        return RdflibStore()
    if engine == "oxigraph":
        return OxigraphStore()
    raise UsageError(f"Unknown SPARQL engine {engine!r}: use rdflib or oxigraph.")
