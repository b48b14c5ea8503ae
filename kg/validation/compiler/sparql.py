"""SPARQL-based constraints (SHACL 5): a constraint's ``sh:select`` checked (what it may use,
what it projects, how it binds ``$this``) and run as written, joined with the focus nodes. A
mixin of :class:`~.shapes.Compiler`."""

from __future__ import annotations

import re

from rdflib import Literal
from rdflib.namespace import SH
from rdflib.term import Node, Variable

from csfkg.validation.compiler.checks import (
    SPARQL_CONSTRAINT_PARAMETERS,
    Focus,
    IllFormedShapeError,
    UnsupportedShapeError,
    _Constraint,
    _fenced,
    _member,
    _Pattern,
)


class SparqlConstraints:
    """``sh:sparql`` constraints; the reading of the shapes graph is the compiler's."""

    def sparql_constraint(self, shape: Node, constraint: Node, focus: Focus) -> _Constraint:
        if self.is_property_shape(shape):
            raise UnsupportedShapeError(
                f"Shape {shape} is a property shape with sh:sparql ($PATH), which the compiled validator does not support."
            )
        for predicate in sorted(set(self.shapes.predicates(constraint, None)), key=str):
            if str(predicate).startswith(str(SH)) and predicate not in SPARQL_CONSTRAINT_PARAMETERS:
                raise UnsupportedShapeError(
                    f"SPARQL constraint {constraint} uses {self.shapes.qname(predicate)}, which the compiled validator does not support."
                )
        select = self.one(constraint, SH.select)
        if not isinstance(select, Literal):
            raise UnsupportedShapeError(f"SPARQL constraint {constraint} has no sh:select query.")
        prefixes = self.prefixes(constraint)
        projected = _projection(constraint, str(select), prefixes)
        clash = [v for v in projected if v.startswith("shc") or v == "failure"]
        if clash:
            raise UnsupportedShapeError(
                f"SPARQL constraint {constraint} projects ?{clash[0]}, a name the compiled validator cannot use."
            )
        extras = tuple(v for v in projected if v not in ("this", "value"))
        variables = " ".join("?" + v for v in projected)
        body = str(select)

        def pattern(this: str, value: str) -> _Pattern:
            if (this, value) == ("this", "value"):
                rows = _fenced(variables, "{ " + body + " }")
                return _Pattern(f"{rows} FILTER ({_member(focus(this))})", extra=extras)
            # inside sh:node: only the focus nodes matter; the query itself is used as written
            reported = f"{{ SELECT (?this AS ?{this}) WHERE {{ {{ {body} }} }} }}"
            return _Pattern(f"{reported} FILTER ({_member(focus(this))})")

        return _Constraint(
            shape,
            "SPARQLConstraintComponent",
            pattern,
            key=f"{shape} sh:sparql {constraint}",
            source=constraint,
            variables=extras,
            prefixes=prefixes,
        )


_FORBIDDEN = re.compile(
    r"(?<![?$:\w])(?i:MINUS|VALUES|SERVICE|LIMIT|OFFSET)\b|[$?](?:currentShape|shapesGraph|PATH)\b"
)


def _projection(constraint: Node, select: str, prefixes: str) -> list[str]:
    """The projected variables of a SPARQL constraint's query, after checking that joining it
    with the focus nodes means what pre-binding ``$this`` to each of them means.

    Raises:
        UnsupportedShapeError: the query cannot run set-at-a-time as written.
    """
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    from csfkg.stores.sparql_text import STRIP as _STRIP

    masked = _STRIP.sub(" ", select)
    forbidden = _FORBIDDEN.search(masked)
    if forbidden is not None:
        word = forbidden.group(0)
        if word.upper() in ("MINUS", "VALUES", "SERVICE"):
            raise IllFormedShapeError(
                f"SPARQL constraint {constraint} uses {word}, which SHACL 5.2.1 does not allow in a constraint."
            )
        raise UnsupportedShapeError(
            f"SPARQL constraint {constraint} uses {word}, which the compiled validator does not support."
        )
    if re.search(r"(?<![?$:\w])(?i:PREFIX|BASE)\b", masked):
        raise UnsupportedShapeError(
            f"SPARQL constraint {constraint} declares prefixes in its query; the compiled validator takes them from sh:prefixes."
        )
    try:
        algebra = prepareQuery(prefixes + select).algebra
    except Exception as error:  # rdflib's parser raises several types
        raise UnsupportedShapeError(
            f"SPARQL constraint {constraint} has a query that does not parse: {error}."
        ) from None
    projected = [str(v) for v in algebra["PV"]]
    if "this" not in projected:
        raise IllFormedShapeError(f"SPARQL constraint {constraint} does not project $this (SHACL 5.3.1).")

    def binds(node: object) -> bool:
        """Whether every solution of ``node`` gets ?this from one of its own triple patterns."""
        if not isinstance(node, CompValue):
            return False
        if node.name == "BGP":
            return any(Variable("this") in triple for triple in node["triples"])
        if node.name == "Join":
            return binds(node["p1"]) or binds(node["p2"])
        if node.name == "LeftJoin":
            return binds(node["p1"])
        if node.name == "Union":
            return binds(node["p1"]) and binds(node["p2"])
        return "p" in node and binds(node["p"])

    def mentions(node: object) -> bool:
        if isinstance(node, Variable):
            return node == Variable("this")
        if isinstance(node, dict):
            return any(mentions(value) for value in node.values())
        if isinstance(node, list | tuple | set):
            return any(mentions(value) for value in node)
        return False

    def alone(node: object, top: bool) -> None:
        """Refuses a group evaluated on its own (a side of a join, OPTIONAL, UNION, a BIND or
        FILTER over it, a sub-SELECT) that uses $this without binding it: there pre-binding and
        a join differ (SHACL 5.2.1)."""
        if not isinstance(node, CompValue):
            return
        groups = [node[k] for k in ("p", "p1", "p2") if isinstance(node.get(k), CompValue)]
        if node.name in ("Join", "Union"):
            nested = groups
        elif node.name == "LeftJoin":
            nested = groups[1:]
        else:
            nested = []
        if node.name in ("Extend", "Filter") and mentions(node.get("expr")) and not binds(node["p"]):
            nested = [node]
        if node.name == "Project" and not top and Variable("this") not in node["PV"]:
            raise IllFormedShapeError(
                f"SPARQL constraint {constraint} has a sub-SELECT that does not project $this (SHACL 5.2.1 requires it)."
            )
        for group in nested:
            if mentions(group) and not binds(group):
                raise UnsupportedShapeError(
                    f"SPARQL constraint {constraint} uses $this in a group that does not bind it (a nested group, OPTIONAL, BIND or FILTER): pre-binding it would differ from the join the compiled validator makes."
                )
        for group in groups:
            alone(group, top and node.name in ("SelectQuery", "Project", "Distinct", "Reduced", "Slice"))

    alone(algebra, True)
    if not binds(algebra):
        raise UnsupportedShapeError(
            f"SPARQL constraint {constraint} binds $this only inside OPTIONAL, EXISTS or a subquery; it cannot be joined with the focus nodes."
        )
    return projected
