"""SPARQL property paths translated to SQL (:mod:`csfkg.engines.sql.translate` describes the engine)."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.paths import AlternativePath, MulPath, Path, SequencePath

from csfkg.engines.sql.terms import (
    UnsupportedQuery,
    term_text,
)


class PathSteps:
    """Property paths (sequences, alternatives, ``*``, ``+``, ``?``, inverse) as SQL relations of
    ``(s, o)`` pairs (a mixin of :class:`~csfkg.engines.sql.patterns.Translator`)."""

    def path(self, path: Path, subjects: str | None = None) -> str:
        """SQL with columns s, o (term ids) for a property path (a set, as SPARQL's path
        operators give); with ``subjects`` (SQL of one column of term ids), only the pairs whose
        subject is one of them."""
        if isinstance(path, URIRef):
            where = f" WHERE s IN ({subjects})" if subjects else ""
            return f"SELECT s, o FROM {self.layout.predicate(term_text(path))}{where}"
        if isinstance(path, AlternativePath):
            return f" UNION {'ALL ' if self.bag else ''}".join(
                f"({self.path(arg, subjects)})" for arg in path.args
            )
        if isinstance(path, SequencePath):
            steps = list(path.args)
            left = self.path(steps[0], subjects)
            for step in steps[1:]:
                left = self.path_step(step, left)
            return left
        if isinstance(path, MulPath) and path.mod == "+":
            return self.plus(path.path, subjects)
        if isinstance(path, MulPath) and path.mod in ("*", "?"):
            # zero steps: every term of the graph to itself (SPARQL's zero-length path); of the
            # subjects, each (a term of a triple) to itself
            inner = self.plus(path.path, subjects) if path.mod == "*" else self.path(path.path, subjects)
            zero = self.nodes() if subjects is None else f"SELECT s, s AS o FROM ({subjects}) z(s)"
            return f"SELECT {self.distinct()}s, o FROM (({inner}) UNION ({zero}))"
        raise UnsupportedQuery(f"property path {path!r}")

    def path_to(self, path: Path, target: str) -> str | None:
        """SQL with columns s, o for the pairs of a property path whose object is the term of id
        ``target``, walked back from it (None where there is no narrower form than
        :meth:`path` filtered). ``?x rdf:type/rdfs:subClassOf* C`` reads the subclasses of C and
        the nodes typed with one of them, instead of every node's every type and superclass."""
        if isinstance(path, URIRef):
            return f"SELECT s, o FROM {self.layout.predicate(term_text(path))} WHERE o = {target}"
        if not isinstance(path, SequencePath) or len(path.args) < 2:
            return None
        *first, last = path.args
        left = self.path(first[0]) if len(first) == 1 else self.path(SequencePath(*first))
        a = self.alias("l")
        if isinstance(last, MulPath) and last.mod in ("*", "?"):
            # zero steps: the left pairs that end at the target; one or more: those that end
            # at a node from which the step reaches it
            step = self.path(last.path)
            back = self.alias("back")
            if last.mod == "*":
                reach = (
                    f"WITH RECURSIVE {back}(s) AS (SELECT s FROM ({step}) WHERE o = {target} "
                    f"UNION SELECT x.s FROM {back} JOIN ({step}) x ON x.o = {back}.s) SELECT s FROM {back}"
                )
            else:
                reach = f"SELECT s FROM ({step}) WHERE o = {target}"
            return (
                f"SELECT {self.distinct()}s, {target} AS o FROM ({left}) {a} "
                f"WHERE {a}.o = {target} OR {a}.o IN ({reach})"
            )
        right = self.path_to(last, target)
        if right is None:
            return None
        b = self.alias("m")
        return f"SELECT {self.distinct()}{a}.s, {b}.o FROM ({left}) {a} JOIN ({right}) {b} ON {a}.o = {b}.s"

    def nodes(self) -> str:
        """Every subject and object of the graph, paired with itself (columns s, o)."""
        return f"SELECT DISTINCT s, s AS o FROM (SELECT s FROM {self.table} UNION SELECT o FROM {self.table})"

    def path_step(self, step: Path, left: str | None) -> str:
        if left is None:
            return self.path(step)
        a, b = self.alias("l"), self.alias("m")
        if isinstance(step, MulPath) and step.mod in ("*", "?"):
            inner = self.plus(step.path) if step.mod == "*" else self.path(step.path)
            # zero steps: the left pairs themselves; one or more: joined with the closure
            union = "UNION ALL" if self.bag else "UNION"
            return f"SELECT {self.distinct()}s, o FROM (SELECT s, o FROM ({left}) {a} {union} SELECT {a}.s, {b}.o FROM ({left}) {a} JOIN ({inner}) {b} ON {a}.o = {b}.s)"
        return f"SELECT {self.distinct()}{a}.s, {b}.o FROM ({left}) {a} JOIN ({self.path(step)}) {b} ON {a}.o = {b}.s"

    def plus(self, step: Path, subjects: str | None = None) -> str:
        name = self.alias("closure")
        base = self.path(step)
        return (
            f"WITH RECURSIVE {name}(s, o) AS (SELECT s, o FROM ({self.path(step, subjects) if subjects else base}) "
            f"UNION SELECT {name}.s, x.o FROM {name} JOIN ({base}) x ON {name}.o = x.s) "
            f"SELECT s, o FROM {name}"
        )
