"""The FHIR codings of the ontology's terms, read from the graph by ``queries/fhir-codings.rq``:
a code is recognised as our term through the term's ``skos:exactMatch``, ``closeMatch`` and
``narrowMatch`` (the code is the same as, or narrower than, our term), or as the term's code in
our own CodeSystem (:data:`csfkg.model.vocab.FHIR_CODE_SYSTEM`); ``broadMatch`` and ``relatedMatch`` codes are known
but not imported. Adding a mapping to the ontology teaches the importer a code; no code list
is written here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import URIRef

from csfkg.model.knowledge import ontology_graph
from csfkg.model.resources import knowledge_cache
from csfkg.sparql.library import get_query
from csfkg.stores import OxigraphStore

UNKNOWN = "unknown code"
NOT_IMPORTED = "broad or related match only"
"""The code is mapped, but as broader than our term or related to it: it may mean something else."""
OTHER_KIND = "code of another kind"
"""The code names a term, but not one this element may hold (a procedure code for a finding)."""
_REASONS = (OTHER_KIND, NOT_IMPORTED, UNKNOWN)


@dataclass(frozen=True)
class Coding:
    """One coding of a term: its system, code, how it matches the term (``own``, ``exact``,
    ``close``, ``narrow``, ``broad``, ``related``) and whether an import asserts the term for it."""

    term: URIRef
    system: str
    code: str
    match: str
    recognised: bool


@dataclass
class CodeTable:
    """Every coding of the ontology, with the classes (scopes) each term is."""

    codings: list[Coding] = field(default_factory=list)
    scopes: dict[URIRef, frozenset[URIRef]] = field(default_factory=dict)
    _by_code: dict[tuple[str, str], list[Coding]] = field(default_factory=dict)

    def lookup(self, system: str | None, code: str | None, scope: URIRef) -> tuple[URIRef | None, str]:
        """The term a coding names among the terms that are ``scope`` (recognised matches only),
        or None and why not: :data:`OTHER_KIND`, :data:`NOT_IMPORTED` or :data:`UNKNOWN`."""
        found = self._by_code.get((system or "", code or ""), [])
        for coding in found:
            if coding.recognised and scope in self.scopes.get(coding.term, ()):
                return coding.term, ""
        if any(coding.recognised for coding in found):
            return None, OTHER_KIND
        return None, NOT_IMPORTED if found else UNKNOWN

    def first(
        self, codings: Iterable[tuple[str | None, str | None]], scope: URIRef
    ) -> tuple[URIRef | None, str]:
        """:meth:`lookup` of the first of ``codings`` that names a term of ``scope``; else None
        and the reason of the coding that came nearest."""
        reasons = []
        for system, code in codings:
            term, why = self.lookup(system, code, scope)
            if term is not None:
                return term, ""
            reasons.append(why)
        return None, min(reasons, key=_REASONS.index, default=UNKNOWN)

    def codings_of(self, term: URIRef) -> list[Coding]:
        """The recognised codings of ``term``, our own code first, then by system and code."""
        own = [c for c in self.codings if c.term == term and c.recognised]
        return sorted(own, key=lambda c: (c.match != "own", c.system, c.code))


@knowledge_cache
def code_table() -> CodeTable:
    """The codings of the TBox's terms (``queries/fhir-codings.rq`` on Oxigraph)."""
    store = OxigraphStore()
    store.add_graph(ontology_graph())
    result = store.query(get_query("fhir-codings").text)
    scopes: dict[URIRef, set[URIRef]] = defaultdict(set)
    codings: dict[tuple[URIRef, str, str], Coding] = {}
    for row in result.dicts():  # type: ignore[union-attr]
        term = URIRef(str(row["term"]))
        scopes[term].add(URIRef(str(row["scope"])))
        key = (term, str(row["system"]), str(row["code"]))
        codings[key] = Coding(term, key[1], key[2], str(row["match"]), str(row["recognised"]) == "true")
    store.close()
    table = CodeTable(codings=sorted(codings.values(), key=lambda c: (str(c.term), c.system, c.code)))
    table.scopes = {term: frozenset(found) for term, found in scopes.items()}
    for coding in table.codings:
        table._by_code.setdefault((coding.system, coding.code), []).append(coding)
    for found in table._by_code.values():  # exact before close before narrow
        found.sort(key=lambda c: ("own", "exact", "close", "narrow", "broad", "related").index(c.match))
    return table
