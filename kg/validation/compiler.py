"""The SHACL shapes compiled to set-at-a-time SPARQL: one SELECT per constraint that finds *all*
its violations at once, instead of one query per focus node.

:func:`compile_shapes` reads a shapes graph (the packaged one is
:func:`csfkg.model.knowledge.shapes_graph`) and returns :class:`CompiledCheck` values;
:mod:`csfkg.validation.compiled` runs them on Oxigraph. Supported: targets ``sh:targetClass``
(instances of the class and of its subclasses), ``sh:targetObjectsOf``, ``sh:targetSubjectsOf``,
``sh:targetNode``; node shapes and property shapes (``sh:property``) with any SHACL property
path; ``sh:minCount``, ``sh:maxCount``, ``sh:datatype`` (with a well-formed lexical form),
``sh:class``, ``sh:in``, ``sh:nodeKind``, ``sh:minExclusive``, ``sh:minInclusive``,
``sh:maxExclusive``, ``sh:maxInclusive``, ``sh:node``; SPARQL constraints (``sh:sparql`` with
``sh:select``, ``sh:prefixes``, ``sh:message`` templates); ``sh:name``, ``sh:message``,
``sh:severity``. Anything else raises :class:`UnsupportedShapeError` when the shapes are
compiled: a constraint is never skipped in silence.

How the queries stay linear on Oxigraph 0.5. Its optimizer orders the joins of a query, but a
pattern evaluated once per solution (in ``FILTER EXISTS``, for one) is evaluated as written, each
triple pattern of a group on its own and the results joined by hash: a second triple pattern that
does not start from a variable bound outside the group scans all its triples every time. And
Oxigraph evaluates both sides of ``&&``. So:

- focus membership is tested with a chain of single-pattern ``EXISTS``, each starting from a
  variable the one before bound (:data:`Focus`), behind ``IF(fails, EXISTS ..., false)``;
- a value check scans the triples of its path, filters the values and only then tests the subject
  for membership; a pattern whose rows could be many before that test is fenced in a
  ``GROUP BY`` subquery, so that the optimizer cannot push the test below it;
- ``sh:class`` is an anti-join (``MINUS``) with the instances of the class, built once;
- ``sh:minCount 1`` is one index lookup per focus node (``FILTER NOT EXISTS`` on a one-step
  path; an anti-join otherwise);
- ``sh:maxCount`` is a ``GROUP BY ... HAVING``, behind a *gate*: a count of triples against a
  count of distinct subjects, which shows for a fraction of the cost that no node has two values;
- ``sh:node`` is one check per constraint of the node shape, each run only when that
  constraint reports something;
- the ``sh:select`` of a SPARQL constraint runs as written: ``$this`` and ``?this`` are the same
  variable, so its query is joined with the focus nodes of its shape instead of pre-bound (which
  means the same when the query binds ``$this`` in its own top-level pattern; that is checked).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DC, DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD
from rdflib.term import Node, Variable

from csfkg.model.errors import CsfkgError
from csfkg.model.knowledge import shapes_graph

__all__ = [
    "CompiledCheck",
    "IllFormedShapeError",
    "UnsupportedShapeError",
    "compile_shapes",
    "compiled_validation_queries",
    "record_owner_query",
]


class UnsupportedShapeError(CsfkgError):
    """A shape uses a SHACL feature that the compiled validator does not translate to SPARQL."""


class IllFormedShapeError(UnsupportedShapeError):
    """A shape breaks a rule of the SHACL specification (a SPARQL constraint that does not project
    $this, or uses MINUS, VALUES or SERVICE, SHACL 5.2.1 and 5.3): no validator may answer it,
    so it is refused, never handed to another validator."""


@dataclass(frozen=True)
class CompiledCheck:
    """One constraint of one shape, as a SPARQL SELECT that finds all its violations.

    ``shape``, ``name``, ``severity``, ``path`` and ``message`` are those of the results, as
    :func:`csfkg.validation.report.validate` reports them (``message`` may hold ``{?var}`` templates).
    ``query`` projects ``?this`` (the focus node), ``?value`` (unbound for ``sh:minCount`` and
    ``sh:maxCount``) and, for a SPARQL constraint, its other projected variables (``variables``,
    for the message template; ``?path`` when ``path_variable``); ``value_is_focus``: an unbound
    ``?value`` reports the focus node as the value (SPARQL constraints of node shapes).

    ``gates`` are cheap queries with one boolean ``?clear``, run before ``query``: one that is
    true shows that ``query`` cannot find anything. ``constraint`` names the constraint the check
    is (part of): the checks of one ``sh:node`` constraint report each failing value once between
    them. ``requires`` names the constraint whose check must have found something for this one
    to find anything (an ``sh:node`` part needs its inner constraint to fail).
    """

    shape: str
    name: str
    severity: str
    component: str
    message: str
    path: str | None
    query: str
    constraint: str = ""
    gates: tuple[str, ...] = ()
    requires: str = ""
    variables: tuple[str, ...] = ()
    value_is_focus: bool = False
    path_variable: bool = False
    shape_node: str = ""
    """The shape, in N-Triples form (an IRI or a blank node of the shapes graph), for a standard
    report's sh:sourceShape (``shape`` is the SPARQL constraint for a SPARQL constraint's check)."""
    constraint_node: str = ""
    """A SPARQL constraint's node (sh:sourceConstraint), in N-Triples form; empty for others."""
    detail: bool = False
    """A check of a shape that ``sh:node`` refers to, on the values of the referring shape: SHACL
    reports its results only as the detail of that shape's result (a standard report leaves them
    out; :func:`csfkg.validation.report.validate` reads them, as it reads pySHACL's sh:detail)."""


SHAPE_TYPES = (SH.NodeShape, SH.PropertyShape)
TARGETS = (SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf, SH.targetNode)
DESCRIPTIVE = (
    SH.name,
    SH.description,
    SH.message,
    SH.severity,
    SH.order,
    SH.group,
    SH.defaultValue,
    SH.deactivated,
)
VALUE_PARAMETERS = (
    SH.datatype,
    SH.nodeKind,
    SH["in"],
    SH["class"],
    SH.node,
    SH.minExclusive,
    SH.minInclusive,
    SH.maxExclusive,
    SH.maxInclusive,
    SH.hasValue,
    SH.pattern,
    SH.flags,
    SH.minLength,
    SH.maxLength,
    SH.languageIn,
    SH.equals,
    SH.disjoint,
    SH["not"],
    SH["and"],
    SH["or"],
    SH.xone,
)
NODE_SHAPE_PARAMETERS = frozenset(
    (*TARGETS, *DESCRIPTIVE, *VALUE_PARAMETERS, SH.property, SH.sparql, SH.closed, SH.ignoredProperties)
)
PROPERTY_SHAPE_PARAMETERS = frozenset(
    (
        *TARGETS,
        *DESCRIPTIVE,
        *VALUE_PARAMETERS,
        SH.path,
        SH.minCount,
        SH.maxCount,
        SH.uniqueLang,
        SH.lessThan,
        SH.lessThanOrEquals,
        SH.qualifiedValueShape,
        SH.qualifiedMinCount,
        SH.qualifiedMaxCount,
        SH.qualifiedValueShapesDisjoint,
    )
)
SPARQL_CONSTRAINT_PARAMETERS = frozenset(
    (SH.select, SH.prefixes, SH.message, SH.name, SH.description, SH.severity)
)
ANNOTATION_NAMESPACES = tuple(str(ns) for ns in (RDFS, OWL, SKOS, DCTERMS, DC, PROV))
PATH_OPERATORS = (SH.inversePath, SH.alternativePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath)

# Datatypes whose lexical forms are checked with a cast (XSD's lexical space, as Oxigraph reads it).
CASTABLE = frozenset(
    (XSD.boolean, XSD.integer, XSD.decimal, XSD.float, XSD.double, XSD.date, XSD.dateTime, XSD.time)
)
# rdflib (and so pySHACL) reads xsd:date and xsd:dateTime as Python dates: years 0001 to 9999.
FOUR_DIGIT_YEARS = frozenset((XSD.date, XSD.dateTime))
NODE_KINDS = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "!isLiteral({v})",
    SH.BlankNodeOrLiteral: "!isIRI({v})",
    SH.IRIOrLiteral: "!isBlank({v})",
}
RANGES = {
    SH.minExclusive: ("MinExclusiveConstraintComponent", "{m} < {v}"),
    SH.minInclusive: ("MinInclusiveConstraintComponent", "{m} <= {v}"),
    SH.maxExclusive: ("MaxExclusiveConstraintComponent", "{v} < {m}"),
    SH.maxInclusive: ("MaxInclusiveConstraintComponent", "{v} <= {m}"),
}
RECORD_QUERY = "cohort-patient-records"
MAX_QUERY_CHARS = 100_000
"""The largest check query compiled (the packaged shapes' largest is under 7,000 characters)."""
TYPE, SUBCLASS = RDF.type.n3(), RDFS.subClassOf.n3()

Focus = Callable[[str], list[list[str]]]
"""The focus nodes of a shape: from a variable name, one alternative per target, each a chain of
single triple patterns, the first one on the variable and each next one on a variable bound by the
one before. As a pattern the chain is joined (the optimizer orders it); as a membership test it is
a chain of nested ``EXISTS``, because inside ``EXISTS`` Oxigraph 0.5 evaluates the patterns of a
group independently and joins them by hash, so a second pattern would scan all its triples once
per tested node."""


def _enumerate(alternatives: list[list[str]]) -> str:
    """The focus nodes as a group graph pattern."""
    return "{ " + " UNION ".join("{ " + " ".join(chain) + " }" for chain in alternatives) + " }"


def _member(alternatives: list[list[str]]) -> str:
    """The test that the (bound) variable is a focus node, as an expression."""

    def chain(steps: list[str]) -> str:
        return (
            "EXISTS { " + steps[0] + ("" if len(steps) == 1 else " FILTER (" + chain(steps[1:]) + ")") + " }"
        )

    return " || ".join(chain(steps) for steps in alternatives)


def _fenced(variables: str, pattern: str) -> str:
    """``pattern`` as a subquery grouped by ``variables``: the optimizer pushes no filter into a
    GROUP BY, so a membership test written after it runs on its (few) rows only."""
    return f"{{ SELECT {variables} WHERE {{ {pattern} }} GROUP BY {variables} }}"


@dataclass
class _Pattern:
    """A graph pattern that binds ``this`` to the focus nodes a constraint reports and, when the
    constraint has value nodes, ``value`` to the value; ``extra`` are further projected variables."""

    text: str
    extra: tuple[str, ...] = ()


@dataclass
class _Constraint:
    """One constraint of a shape, before it is wrapped into a query."""

    shape: Node
    component: str
    pattern: Callable[[str, str], _Pattern]  # (this, value) -> pattern
    key: str
    gates: tuple[str, ...] = ()
    source: Node | None = None  # the SPARQL constraint (sh:sourceConstraint)
    variables: tuple[str, ...] = ()
    prefixes: str = ""
    detail: bool = False  # a result nested under an sh:node result (sh:detail)
    requires: _Constraint | None = None


@dataclass
class _Compiler:
    shapes: Graph
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fresh(self) -> str:
        """A variable name no shape uses (checked for the projections of SPARQL constraints)."""
        return f"shc{next(self.counter)}"

    # --- reading the shapes graph -------------------------------------------------------
    def one(self, node: Node, predicate: URIRef) -> Node | None:
        values = list(self.shapes.objects(node, predicate))
        if len(values) > 1:
            raise UnsupportedShapeError(
                f"Shape {node} has more than one {self.shapes.qname(predicate)}; the compiled validator needs one."
            )
        return values[0] if values else None

    def all_shapes(self) -> list[Node]:
        found: set[Node] = set()
        for kind in SHAPE_TYPES:
            found.update(self.shapes.subjects(RDF.type, kind))
        for target in TARGETS:
            found.update(self.shapes.subjects(target, None))
        found.update(self.shapes.objects(None, SH.property))
        found.update(self.shapes.objects(None, SH.node))
        return sorted(found, key=str)

    def is_property_shape(self, shape: Node) -> bool:
        return (shape, SH.path, None) in self.shapes

    def check_parameters(self, shape: Node) -> None:
        """Raises :class:`UnsupportedShapeError` for a SHACL parameter the compiler does not know."""
        kind = "property shape" if self.is_property_shape(shape) else "node shape"
        allowed = PROPERTY_SHAPE_PARAMETERS if self.is_property_shape(shape) else NODE_SHAPE_PARAMETERS
        for predicate in sorted(set(self.shapes.predicates(shape, None)), key=str):
            if str(predicate).startswith(str(SH)) and predicate not in allowed:
                raise UnsupportedShapeError(
                    f"Shape {shape} uses {self.shapes.qname(predicate)} on a {kind}, which the compiled validator does not support."
                )
        unknown = sorted(
            p
            for p in set(self.shapes.predicates(shape, None))
            if not self.is_annotation(p) and not str(p).startswith(str(SH))
        )
        if unknown:
            raise UnsupportedShapeError(
                f"Shape {shape} has {self.shapes.qname(unknown[0])}, which may be a parameter of a constraint component; the compiled validator does not translate it."
            )
        severity = self.one(shape, SH.severity)
        if severity is not None and severity not in (SH.Violation, SH.Warning, SH.Info):
            raise UnsupportedShapeError(
                f"Shape {shape} has the severity {severity}, which is none of sh:Violation, sh:Warning, sh:Info."
            )

    def is_annotation(self, predicate: Node) -> bool:
        """A predicate a shape may carry that constrains nothing: rdf:type, and the terms of the
        annotation vocabularies (RDFS, OWL, SKOS, Dublin Core, PROV) or a property the shapes
        graph declares an owl:AnnotationProperty. Any other predicate could be the parameter of a
        constraint component (declared here, or in a graph not read), and is not ignored."""
        if predicate == RDF.type or (predicate, RDF.type, OWL.AnnotationProperty) in self.shapes:
            return True
        return any(str(predicate).startswith(ns) for ns in ANNOTATION_NAMESPACES)

    def is_class(self, shape: Node) -> bool:
        """A shape that is also a class has an implicit class target (SHACL 2.1.3.1)."""
        return any((shape, RDF.type, cls) in self.shapes for cls in (RDFS.Class, OWL.Class))

    def deactivated(self, shape: Node) -> bool:
        value = self.one(shape, SH.deactivated)
        return isinstance(value, Literal) and value.value is True

    def severity(self, shape: Node) -> str:
        return str(self.one(shape, SH.severity) or SH.Violation).rsplit("#", 1)[-1]

    def message(self, node: Node) -> str | None:
        message = self.one(node, SH.message)
        return None if message is None else str(message)

    def name_of(self, node: Node) -> str | None:
        name = self.shapes.value(node, SH.name)
        return str(name) if isinstance(name, Literal) else None

    def path(self, node: Node) -> str:
        """A SHACL property path as a SPARQL property path."""
        if isinstance(node, URIRef):
            return node.n3()
        if (node, RDF.first, None) in self.shapes:
            return "(" + "/".join(self.path(step) for step in Collection(self.shapes, node)) + ")"
        operators = [p for p in PATH_OPERATORS if (node, p, None) in self.shapes]
        if len(operators) != 1:
            raise UnsupportedShapeError(
                f"The path {node} is not a SHACL property path the compiled validator can read."
            )
        (operator,) = operators
        inner = self.one(node, operator)
        assert inner is not None
        if operator == SH.alternativePath:
            return "(" + "|".join(self.path(step) for step in Collection(self.shapes, inner)) + ")"
        text = self.path(inner)
        return {
            SH.inversePath: f"^{text}",
            SH.zeroOrMorePath: f"({text})*",
            SH.oneOrMorePath: f"({text})+",
            SH.zeroOrOnePath: f"({text})?",
        }[operator]

    def is_single_step(self, node: Node | None) -> bool:
        """Whether a path is one triple pattern for Oxigraph (a predicate, its inverse, or an
        alternative of those), which a FILTER EXISTS evaluates with one index lookup."""
        if isinstance(node, URIRef):
            return True
        inverse = None if node is None else self.shapes.value(node, SH.inversePath)
        if isinstance(inverse, URIRef):
            return True
        alternatives = None if node is None else self.shapes.value(node, SH.alternativePath)
        return alternatives is not None and all(
            self.is_single_step(step) for step in Collection(self.shapes, alternatives)
        )

    # --- focus nodes ---------------------------------------------------------------------
    def targets(self, shape: Node) -> Focus | None:
        """The focus nodes of a shape's own targets; None when it has none."""
        makers: list[Callable[[str], str]] = []
        classes = set(self.shapes.objects(shape, SH.targetClass)) | (
            {shape} if self.is_class(shape) else set()
        )
        for cls in sorted(classes, key=str):
            makers.append(lambda v, c=cls: f"?{v} {TYPE}/{SUBCLASS}* {c.n3()} .")
        for prop in sorted(self.shapes.objects(shape, SH.targetObjectsOf), key=str):
            makers.append(lambda v, p=prop: f"?{self.fresh()} {p.n3()} ?{v} .")
        for prop in sorted(self.shapes.objects(shape, SH.targetSubjectsOf), key=str):
            makers.append(lambda v, p=prop: f"?{v} {p.n3()} ?{self.fresh()} .")
        nodes = sorted(self.shapes.objects(shape, SH.targetNode), key=str)
        if nodes:
            makers.append(lambda v: f"VALUES ?{v} {{ {' '.join(n.n3() for n in nodes)} }}")
        if not makers:
            return None
        return lambda v: [[make(v)] for make in makers]

    def value_nodes_focus(self, outer: Focus, path: str) -> Focus:
        """The value nodes of ``path`` from the focus nodes of ``outer``: the focus nodes of a
        shape that ``sh:node`` refers to: one more step in front of each chain."""

        def focus(v: str) -> list[list[str]]:
            o = self.fresh()
            return [[f"?{o} {path} ?{v} .", *chain] for chain in outer(o)]

        return focus

    # --- constraints ---------------------------------------------------------------------
    def constraints(self, shape: Node, focus: Focus, stack: tuple[Node, ...] = ()) -> list[_Constraint]:
        """Every constraint of ``shape`` and of its property shapes, on the given focus nodes."""
        if shape in stack:
            raise UnsupportedShapeError(
                f"Shape {shape} refers to itself through sh:node or sh:property; recursive shapes are not supported."
            )
        stack = (*stack, shape)
        self.check_parameters(shape)
        if self.deactivated(shape):
            return []  # conforms, as a focus node and as the shape of sh:node
        path_node = self.one(shape, SH.path)
        path = None if path_node is None else self.path(path_node)
        found = self.value_constraints(shape, focus, path, stack)
        found.extend(self.core_constraints(shape, focus, path, stack))
        if path is not None:
            found.extend(self.count_constraints(shape, focus, path))
        # a property shape's own property shapes would start from its value nodes, each reached
        # once per focus node that reaches it (W3C core/property/property-001): not compiled,
        # PROPERTY_SHAPE_PARAMETERS leaves sh:property to pySHACL there
        inner = focus
        for prop in sorted(self.shapes.objects(shape, SH.property), key=str):
            if not self.is_property_shape(prop):
                raise UnsupportedShapeError(
                    f"Shape {prop}, a value of sh:property of {shape}, has no sh:path."
                )
            for constraint in self.constraints(prop, inner, stack):
                # a property shape reached from two shapes reports for each (SHACL 3.6.2, the
                # W3C suite's validation-reports/shared): its checks are its parent's own
                constraint.key = f"{shape} / {constraint.key}"
                found.append(constraint)
        for constraint in sorted(self.shapes.objects(shape, SH.sparql), key=str):
            found.append(self.sparql_constraint(shape, constraint, focus))
        return found

    def value_constraints(
        self, shape: Node, focus: Focus, path: str | None, stack: tuple[Node, ...]
    ) -> list[_Constraint]:
        found: list[_Constraint] = []

        def each_value(component: str, conforms: Callable[[str], str], parameter: Node) -> _Constraint:
            """A test of each value node on its own; ``conforms(?v)`` is true when it passes."""

            def pattern(this: str, value: str) -> _Pattern:
                fails = f"!({conforms('?' + value)})"
                if path is None:
                    return _Pattern(f"{_enumerate(focus(this))} BIND (?{this} AS ?{value}) FILTER ({fails})")
                # IF, not &&: Oxigraph evaluates both sides of &&, and the membership test is dear
                return _Pattern(
                    f"?{this} {path} ?{value} . FILTER (IF({fails}, {_member(focus(this))}, false))"
                )

            return _Constraint(shape, component, pattern, key=f"{shape} {component} {self.stable(parameter)}")

        datatype = self.one(shape, SH.datatype)
        if datatype is not None:
            found.append(
                each_value(
                    "DatatypeConstraintComponent", lambda v, d=datatype: _datatype_test(d, v), datatype
                )
            )
        kind = self.one(shape, SH.nodeKind)
        if kind is not None:
            if kind not in NODE_KINDS:
                raise UnsupportedShapeError(
                    f"Shape {shape} has sh:nodeKind {kind}, which is not a SHACL node kind."
                )
            found.append(
                each_value("NodeKindConstraintComponent", lambda v, k=kind: NODE_KINDS[k].format(v=v), kind)
            )
        members = self.one(shape, SH["in"])
        if members is not None:
            terms = list(Collection(self.shapes, members))
            found.append(
                each_value(
                    "InConstraintComponent",
                    lambda v, t=terms: " || ".join(f"sameTerm({v}, {m.n3()})" for m in t) or "false",
                    members,
                )
            )
        for parameter, (component, template) in RANGES.items():
            for bound in sorted(self.shapes.objects(shape, parameter), key=str):
                if not isinstance(bound, Literal):
                    raise UnsupportedShapeError(
                        f"Shape {shape} has {self.shapes.qname(parameter)} {bound}, which is not a literal."
                    )
                found.append(
                    each_value(
                        component,
                        lambda v, b=bound, t=template: f"COALESCE({t.format(m=b.n3(), v=v)}, false)",
                        bound,
                    )
                )
        for cls in sorted(self.shapes.objects(shape, SH["class"]), key=str):
            found.append(
                _Constraint(
                    shape,
                    "ClassConstraintComponent",
                    self.class_pattern(focus, path, cls),
                    key=f"{shape} sh:class {cls}",
                )
            )
        for node_shape in sorted(self.shapes.objects(shape, SH.node), key=str):
            found.extend(self.node_constraint(shape, focus, path, node_shape, stack))
        return found

    def core_constraints(
        self, shape: Node, focus: Focus, path: str | None, stack: tuple[Node, ...]
    ) -> list[_Constraint]:
        """SHACL Core's value-based, string-based, property-pair and logical constraint
        components (SHACL 4.1.3 - 4.6): each a pattern that finds the values that fail."""
        found: list[_Constraint] = []

        def values(this: str, value: str) -> str:
            """The value nodes of the focus nodes (the focus node itself for a node shape)."""
            if path is None:
                return f"{_enumerate(focus(this))} BIND (?{this} AS ?{value})"
            return f"?{this} {path} ?{value} . FILTER ({_member(focus(this))})"

        def each_value(component: str, conforms: Callable[[str], str], parameter: Node) -> None:
            def pattern(this: str, value: str) -> _Pattern:
                return _Pattern(f"{values(this, value)} FILTER (!COALESCE({conforms('?' + value)}, false))")

            found.append(
                _Constraint(shape, component, pattern, key=f"{shape} {component} {self.stable(parameter)}")
            )

        for required in sorted(self.shapes.objects(shape, SH.hasValue), key=str):
            if path is None:  # the focus node itself is not the value: no sh:value

                def is_value(this: str, value: str, r: Node = required) -> _Pattern:
                    return _Pattern(f"{_enumerate(focus(this))} FILTER (!sameTerm(?{this}, {r.n3()}))")

                found.append(
                    _Constraint(
                        shape, "HasValueConstraintComponent", is_value, key=f"{shape} sh:hasValue {required}"
                    )
                )
            else:

                def has_value(this: str, value: str, r: Node = required) -> _Pattern:
                    return _Pattern(
                        f"{_enumerate(focus(this))} FILTER NOT EXISTS {{ ?{this} {path} {r.n3()} . }}"
                    )

                found.append(
                    _Constraint(
                        shape, "HasValueConstraintComponent", has_value, key=f"{shape} sh:hasValue {required}"
                    )
                )
        flags = self.one(shape, SH.flags)
        for regex in sorted(self.shapes.objects(shape, SH.pattern), key=str):
            options = "" if flags is None else f", {Literal(str(flags)).n3()}"
            each_value(
                "PatternConstraintComponent",
                lambda v, r=regex, o=options: f"!isBlank({v}) && REGEX(STR({v}), {Literal(str(r)).n3()}{o})",
                regex,
            )
        for parameter, component, operator in (
            (SH.minLength, "MinLengthConstraintComponent", ">="),
            (SH.maxLength, "MaxLengthConstraintComponent", "<="),
        ):
            for bound in sorted(self.shapes.objects(shape, parameter), key=str):
                n = _count(shape, bound)
                each_value(
                    component,
                    lambda v, n=n, op=operator: f"!isBlank({v}) && STRLEN(STR({v})) {op} {n}",
                    bound,
                )
        for languages in sorted(self.shapes.objects(shape, SH.languageIn), key=str):
            tags = [str(t) for t in Collection(self.shapes, languages)]
            each_value(
                "LanguageInConstraintComponent",
                lambda v, t=tags: (
                    "isLiteral("
                    + v
                    + ") && ("
                    + (" || ".join(f"langMatches(lang({v}), {Literal(tag).n3()})" for tag in t) or "false")
                    + ")"
                ),
                languages,
            )
        for other in sorted(self.shapes.objects(shape, SH.equals), key=str):
            found.append(self.pair(shape, focus, path, other, "EqualsConstraintComponent"))
        for other in sorted(self.shapes.objects(shape, SH.disjoint), key=str):
            found.append(self.pair(shape, focus, path, other, "DisjointConstraintComponent"))
        for parameter, component, operator in (
            (SH.lessThan, "LessThanConstraintComponent", "<"),
            (SH.lessThanOrEquals, "LessThanOrEqualsConstraintComponent", "<="),
        ):
            for other in sorted(self.shapes.objects(shape, parameter), key=str):
                if path is None or not isinstance(other, URIRef):
                    raise UnsupportedShapeError(
                        f"Shape {shape} has {self.shapes.qname(parameter)} where SHACL does not allow it."
                    )

                def less(this: str, value: str, o: Node = other, op: str = operator) -> _Pattern:
                    w = self.fresh()  # projected: a value failing against two others, two results
                    return _Pattern(
                        f"{values(this, value)} ?{this} {o.n3()} ?{w} . FILTER (!COALESCE(?{value} {op} ?{w}, false))",
                        extra=(w,),
                    )

                found.append(_Constraint(shape, component, less, key=f"{shape} {component} {other}"))
        found.extend(self.logical_constraints(shape, focus, path, stack, values))
        found.extend(self.closed_constraint(shape, focus, path))
        found.extend(self.qualified_constraints(shape, focus, path, stack))
        return found

    def closed_constraint(self, shape: Node, focus: Focus, path: str | None) -> list[_Constraint]:
        """sh:closed true (SHACL 4.8.1): each triple of a focus node whose predicate is neither
        the path of one of the shape's property shapes (an IRI) nor one of sh:ignoredProperties;
        the result's path is that predicate."""
        closed = self.one(shape, SH.closed)
        if closed is None or not (isinstance(closed, Literal) and str(closed) == "true"):
            return []
        if path is not None:
            raise UnsupportedShapeError(f"Shape {shape} is a property shape with sh:closed.")
        allowed = {
            step
            for prop in self.shapes.objects(shape, SH.property)
            for step in self.shapes.objects(prop, SH.path)
            if isinstance(step, URIRef)
        }
        ignored = self.one(shape, SH.ignoredProperties)
        if ignored is not None:
            allowed.update(Collection(self.shapes, ignored))
        listed = ", ".join(sorted(term.n3() for term in allowed))

        def pattern(this: str, value: str) -> _Pattern:
            test = f"FILTER (?path NOT IN ({listed}))" if listed else ""
            return _Pattern(f"{_enumerate(focus(this))} ?{this} ?path ?{value} . {test}", extra=("path",))

        return [
            _Constraint(
                shape, "ClosedConstraintComponent", pattern, key=f"{shape} sh:closed", variables=("path",)
            )
        ]

    def qualified_constraints(
        self, shape: Node, focus: Focus, path: str | None, stack: tuple[Node, ...]
    ) -> list[_Constraint]:
        """sh:qualifiedValueShape with sh:qualifiedMinCount / MaxCount (SHACL 4.7.3): how many
        value nodes conform to the shape; a result per focus node, no value. Disjoint siblings
        (sh:qualifiedValueShapesDisjoint true) are not translated."""
        qualified = self.one(shape, SH.qualifiedValueShape)
        if qualified is None:
            return []
        if path is None:
            raise UnsupportedShapeError(f"Shape {shape} is a node shape with sh:qualifiedValueShape.")
        disjoint = self.one(shape, SH.qualifiedValueShapesDisjoint)
        if isinstance(disjoint, Literal) and str(disjoint) == "true":
            raise UnsupportedShapeError(f"Shape {shape} uses sh:qualifiedValueShapesDisjoint true.")
        inner_focus = self.value_nodes_focus(focus, path)
        found: list[_Constraint] = []
        for parameter, component, test in (
            (SH.qualifiedMinCount, "QualifiedMinCountConstraintComponent", "<"),
            (SH.qualifiedMaxCount, "QualifiedMaxCountConstraintComponent", ">"),
        ):
            bound = self.one(shape, parameter)
            if bound is None:
                continue
            n = _count(shape, bound)

            def counted(this: str, value: str, n: int = n, test: str = test) -> _Pattern:
                v, count = self.fresh(), self.fresh()
                inner = self.constraints(qualified, inner_focus, stack)
                failing = " UNION ".join("{ " + self.reported(c, v) + " }" for c in inner) or "FILTER (false)"
                return _Pattern(
                    f"{{ SELECT ?{this} (COUNT(DISTINCT ?{v}) AS ?{count}) WHERE {{ {_enumerate(focus(this))} "
                    f"OPTIONAL {{ ?{this} {path} ?{v} . MINUS {{ {failing} }} }} }} GROUP BY ?{this} }} "
                    f"FILTER (?{count} {test} {n})"
                )

            found.append(
                _Constraint(shape, component, counted, key=f"{shape} {component} {self.stable(qualified)}")
            )
        return found

    def pair(self, shape: Node, focus: Focus, path: str | None, other: Node, component: str) -> _Constraint:
        """sh:equals / sh:disjoint: the values of the path against those of ``other``."""
        if not isinstance(other, URIRef):
            raise UnsupportedShapeError(f"Shape {shape} compares with {other}, which is not an IRI.")

        def pattern(this: str, value: str) -> _Pattern:
            nodes = _enumerate(focus(this))
            theirs = f"?{this} {other.n3()} ?{value} ."
            if path is not None:
                own = f"?{this} {path} ?{value} ."
                if component == "DisjointConstraintComponent":
                    return _Pattern(f"{nodes} {own} {theirs}")
                # a value of either side that the other side lacks
                body = f"{{ {own} FILTER NOT EXISTS {{ {theirs} }} }} UNION {{ {theirs} FILTER NOT EXISTS {{ {own} }} }}"
                return _Pattern(f"{nodes} {body}")
            # a node shape: the focus node is its one value node
            if component == "DisjointConstraintComponent":
                return _Pattern(f"{nodes} ?{this} {other.n3()} ?{this} . BIND (?{this} AS ?{value})")
            return _Pattern(
                f"{{ {nodes} {theirs} FILTER (!sameTerm(?{value}, ?{this})) }} UNION "
                f"{{ {nodes} FILTER NOT EXISTS {{ ?{this} {other.n3()} ?{this} . }} BIND (?{this} AS ?{value}) }}"
            )

        return _Constraint(shape, component, pattern, key=f"{shape} {component} {other}")

    def logical_constraints(
        self,
        shape: Node,
        focus: Focus,
        path: str | None,
        stack: tuple[Node, ...],
        values: Callable[[str, str], str],
    ) -> list[_Constraint]:
        """sh:not, sh:and, sh:or, sh:xone (SHACL 4.6): a value conforms to a member shape when
        none of the member's constraints reports it (as a focus node of that shape)."""
        found: list[_Constraint] = []
        inner_focus = focus if path is None else self.value_nodes_focus(focus, path)

        def failing(member: Node, value: str) -> str:
            """A pattern binding ``?value`` to the value nodes that do not conform to ``member``."""
            constraints = self.constraints(member, inner_focus, stack)
            if not constraints:
                return "FILTER (false)"
            return " UNION ".join("{ " + self.reported(c, value) + " }" for c in constraints)

        for member in sorted(self.shapes.objects(shape, SH["not"]), key=str):

            def negated(this: str, value: str, m: Node = member) -> _Pattern:
                return _Pattern(f"{values(this, value)} MINUS {{ {failing(m, value)} }}")

            found.append(
                _Constraint(
                    shape, "NotConstraintComponent", negated, key=f"{shape} sh:not {self.stable(member)}"
                )
            )
        for parameter, component in (
            (SH["and"], "AndConstraintComponent"),
            (SH["or"], "OrConstraintComponent"),
            (SH.xone, "XoneConstraintComponent"),
        ):
            for members_node in sorted(self.shapes.objects(shape, parameter), key=str):
                members = list(Collection(self.shapes, members_node))

                def logical(this: str, value: str, ms: list[Node] = members, c: str = component) -> _Pattern:
                    if c == "AndConstraintComponent":  # fails one of them
                        return _Pattern(
                            f"{values(this, value)} FILTER EXISTS {{ {' UNION '.join('{ ' + failing(m, value) + ' }' for m in ms) or 'FILTER (false)'} }}"
                        )
                    flags = [self.fresh() for _ in ms]
                    marks = " ".join(
                        f"OPTIONAL {{ {{ SELECT DISTINCT ?{value} WHERE {{ {failing(m, value)} }} }} BIND (true AS ?{f}) }}"
                        for m, f in zip(ms, flags, strict=True)
                    )
                    conforming = " + ".join(f"IF(BOUND(?{f}), 0, 1)" for f in flags) or "0"
                    test = "= 0" if c == "OrConstraintComponent" else "!= 1"
                    return _Pattern(f"{values(this, value)} {marks} FILTER (({conforming}) {test})")

                found.append(
                    _Constraint(
                        shape, component, logical, key=f"{shape} {component} {self.stable(members_node)}"
                    )
                )
        return found

    def class_pattern(self, focus: Focus, path: str | None, cls: Node) -> Callable[[str, str], _Pattern]:
        """Value nodes that are not instances of ``cls`` or of one of its subclasses: an anti-join
        with the instances of the class, which Oxigraph builds once (a hash), not once per value."""

        def pattern(this: str, value: str) -> _Pattern:
            instances = f"MINUS {{ ?{value} {TYPE}/{SUBCLASS}* {cls.n3()} . }}"
            if path is None:
                return _Pattern(f"{_enumerate(focus(this))} BIND (?{this} AS ?{value}) {instances}")
            candidates = _fenced(f"?{this} ?{value}", f"?{this} {path} ?{value} . {instances}")
            return _Pattern(f"{candidates} FILTER ({_member(focus(this))})")

        return pattern

    def node_constraint(
        self, shape: Node, focus: Focus, path: str | None, node_shape: Node, stack: tuple[Node, ...]
    ) -> list[_Constraint]:
        """Value nodes that do not conform to ``node_shape``: those that any of its constraints
        reports (whatever the severity), validated as focus nodes of that shape. One part per
        constraint of the node shape; the parts share a key, so that a value failing several of
        them is reported once. A part requires its inner constraint: when that reports nothing,
        the join with the values of the path (a scan of all its triples) need not run.

        The inner constraints come back too, as checks of their own (``detail``): pySHACL nests
        their results under the sh:node result (sh:detail), and :func:`csfkg.validation.report.validate`
        reads every result of the report graph, nested ones included."""
        inner_focus = focus if path is None else self.value_nodes_focus(focus, path)
        key = f"{shape} sh:node {node_shape}"
        inner_constraints = self.constraints(node_shape, inner_focus, stack)
        parts: list[_Constraint] = []
        for inner in (c for c in inner_constraints if not c.detail):

            def pattern(this: str, value: str, inner: _Constraint = inner) -> _Pattern:
                failing = "{ " + self.reported(inner, value) + " }"
                if path is None:
                    return _Pattern(f"{_enumerate(focus(this))} BIND (?{this} AS ?{value}) {failing}")
                candidates = _fenced(f"?{this} ?{value}", f"?{this} {path} ?{value} . {failing}")
                return _Pattern(f"{candidates} FILTER ({_member(focus(this))})")

            parts.append(
                _Constraint(
                    shape, "NodeConstraintComponent", pattern, key=key, gates=inner.gates, requires=inner
                )
            )
        for inner in inner_constraints:
            inner.detail = True
            inner.key = f"{key} / {inner.key}"
        return parts + inner_constraints

    def reported(self, constraint: _Constraint, this: str) -> str:
        """``SELECT DISTINCT ?this WHERE { ... }``: the focus nodes a constraint reports."""
        return f"SELECT DISTINCT ?{this} WHERE {{ {constraint.pattern(this, self.fresh()).text} }}"

    def count_constraints(self, shape: Node, focus: Focus, path: str) -> list[_Constraint]:
        found: list[_Constraint] = []
        single_step = self.is_single_step(self.one(shape, SH.path))
        low = self.one(shape, SH.minCount)
        minimum = 0 if low is None else _count(shape, low)
        if minimum > 0:

            def at_least(this: str, value: str) -> _Pattern:
                v = self.fresh()
                if minimum == 1 and single_step:
                    # one index lookup per focus node; cheaper than the hash of an anti-join
                    return _Pattern(
                        f"{_enumerate(focus(this))} FILTER NOT EXISTS {{ ?{this} {path} ?{v} . }}"
                    )
                if minimum == 1:
                    return _Pattern(f"{_enumerate(focus(this))} MINUS {{ ?{this} {path} ?{v} . }}")
                return _Pattern(
                    f"{{ SELECT ?{this} WHERE {{ {_enumerate(focus(this))} OPTIONAL {{ ?{this} {path} ?{v} . }} }} "
                    f"GROUP BY ?{this} HAVING (COUNT(DISTINCT ?{v}) < {minimum}) }}"
                )

            found.append(
                _Constraint(shape, "MinCountConstraintComponent", at_least, key=f"{shape} sh:minCount")
            )
        unique = self.one(shape, SH.uniqueLang)
        if unique is not None:
            if not (isinstance(unique, Literal) and unique.datatype == XSD.boolean):
                raise UnsupportedShapeError(
                    f"Shape {shape} has sh:uniqueLang {unique}, which is not an xsd:boolean."
                )
            if str(unique) == "true":  # only the literal true switches it on ("1" does not)

                def unique_lang(this: str, value: str) -> _Pattern:
                    v, language = self.fresh(), self.fresh()
                    return _Pattern(
                        f'{{ SELECT ?{this} ?{language} WHERE {{ ?{this} {path} ?{v} . FILTER (isLiteral(?{v}) && LANG(?{v}) != "") }} '
                        f"GROUP BY ?{this} (LANG(?{v}) AS ?{language}) HAVING (COUNT(DISTINCT ?{v}) > 1) }} "
                        f"FILTER ({_member(focus(this))})",
                        extra=(language,),
                    )

                found.append(
                    _Constraint(
                        shape, "UniqueLangConstraintComponent", unique_lang, key=f"{shape} sh:uniqueLang"
                    )
                )
        high = self.one(shape, SH.maxCount)
        if high is not None:
            maximum = _count(shape, high)

            def at_most(this: str, value: str) -> _Pattern:
                v = self.fresh()
                return _Pattern(
                    f"{{ SELECT ?{this} WHERE {{ ?{this} {path} ?{v} . }} GROUP BY ?{this} HAVING (COUNT(DISTINCT ?{v}) > {maximum}) }} "
                    f"FILTER ({_member(focus(this))})"
                )

            # When no node has two values of the path, no node has more than maximum >= 1.
            gates = (
                (f"SELECT ((COUNT(*) = COUNT(DISTINCT ?s)) AS ?clear) WHERE {{ ?s {path} ?o . }}",)
                if maximum >= 1
                else ()
            )
            found.append(
                _Constraint(
                    shape, "MaxCountConstraintComponent", at_most, key=f"{shape} sh:maxCount", gates=gates
                )
            )
        return found

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

    def stable(self, node: Node, seen: frozenset[Node] = frozenset()) -> str:
        """A parameter as text that does not change between parses (constraint keys are
        packaged): an RDF list by its members, another blank node by what it says (its
        predicates and objects, sorted), nested blank nodes the same way."""
        if isinstance(node, BNode):
            if node in seen:
                raise UnsupportedShapeError(
                    f"A constraint parameter is a blank node that holds itself ({node})."
                )
            inner = seen | {node}
            if (node, RDF.first, None) in self.shapes:
                return "(" + " ".join(self.stable(m, inner) for m in Collection(self.shapes, node)) + ")"
            said = sorted(f"{p.n3()} {self.stable(o, inner)}" for p, o in self.shapes.predicate_objects(node))
            return "[" + " ; ".join(said) + "]"
        return node.n3() if isinstance(node, Literal) else str(node)

    def prefixes(self, constraint: Node) -> str:
        """The PREFIX declarations of ``sh:prefixes`` (``sh:declare``), collected as pySHACL does."""
        declared: dict[str, str] = {}
        ontologies = set(self.shapes.subjects(RDF.type, OWL.Ontology))
        everywhere = {d for o in ontologies for d in self.shapes.objects(o, SH.declare)}
        for node in self.shapes.objects(constraint, SH.prefixes):
            own = set(self.shapes.objects(node, SH.declare))
            # the declarations of what the prefixes node owl:imports, where the shapes graph holds it
            imported, stack = set(), list(self.shapes.objects(node, OWL.imports))
            while stack:
                other = stack.pop()
                if other not in imported:
                    imported.add(other)
                    own |= set(self.shapes.objects(other, SH.declare))
                    stack.extend(self.shapes.objects(other, OWL.imports))
            for declaration in own if (own and node in ontologies) else own | everywhere:
                prefix, namespace = self.one(declaration, SH.prefix), self.one(declaration, SH.namespace)
                if prefix is None or namespace is None:
                    raise UnsupportedShapeError(
                        f"The prefix declaration {declaration} needs one sh:prefix and one sh:namespace."
                    )
                declared[str(prefix)] = str(namespace)
        return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(declared.items()))

    # --- checks --------------------------------------------------------------------------
    def compile(self, left: dict[Node, str] | None = None) -> list[CompiledCheck]:
        """Every targeted shape's checks. With ``left``, a shape the compiler does not translate
        is put there with the reason (for another validator to take), not raised."""
        checks: list[CompiledCheck] = []
        for shape in self.all_shapes():
            try:
                self.check_parameters(shape)
                focus = self.targets(shape)
                if focus is not None:
                    # made whole before they are added: a shape left out leaves no part behind
                    checks.extend([self.check(c) for c in self.constraints(shape, focus)])
            except UnsupportedShapeError as error:
                if left is None or isinstance(error, IllFormedShapeError):
                    raise
                left[shape] = str(error)
        return checks

    def check(self, constraint: _Constraint) -> CompiledCheck:
        """A constraint as a complete query, with the name, severity and message of its results
        (those :func:`csfkg.validation.report.validate` reports)."""
        shape, source = constraint.shape, constraint.source
        reported = source if source is not None else shape
        message = self.message(shape)
        if source is not None:
            own = self.message(source)
            if own is not None and message is not None and re.search(r"\{[$?]", message):
                raise UnsupportedShapeError(
                    f"Shape {shape} has a templated sh:message and a SPARQL constraint with its own: which one a report shows is not defined."
                )
            message = own if own is not None else message
        if message is None:
            message = _default_message(constraint.component, self.one(shape, SH.path))
        pattern = constraint.pattern("this", "value")
        if len(pattern.text) > MAX_QUERY_CHARS:
            # nested logical shapes repeat their members' patterns (the W3C shacl-shacl shapes
            # reach 12 MB and half a minute): such a shape is left to another validator
            raise UnsupportedShapeError(
                f"Shape {reported} compiles to a query of {len(pattern.text):,} characters, more than the compiled validator runs ({MAX_QUERY_CHARS:,})."
            )
        projection = " ".join(["?this", "?value", *("?" + v for v in pattern.extra)])
        path = self.one(shape, SH.path)
        return CompiledCheck(
            shape=str(reported),
            name=self.name_of(reported) or self.name_of(shape) or str(reported),
            severity=self.severity(shape),  # pySHACL: a SPARQL constraint's results take its shape's
            component=constraint.component,
            message=message,
            path=str(path) if isinstance(path, URIRef) else None,
            query=f"{constraint.prefixes}SELECT DISTINCT {projection} WHERE {{\n  {pattern.text}\n}}",
            constraint=constraint.key,
            requires="" if constraint.requires is None else constraint.requires.key,
            gates=tuple(constraint.prefixes + g for g in constraint.gates),
            variables=tuple(v for v in constraint.variables if v != "path"),
            value_is_focus=source is not None,
            path_variable="path" in constraint.variables,
            detail=constraint.detail,
            shape_node=shape.n3(),
            constraint_node="" if source is None else source.n3(),
        )


def _count(shape: Node, value: Node) -> int:
    if not (isinstance(value, Literal) and isinstance(value.value, int) and value.value >= 0):
        raise UnsupportedShapeError(f"Shape {shape} has a count {value} that is not a non-negative integer.")
    return int(value.value)


def _datatype_test(datatype: Node, v: str) -> str:
    """True when ``v`` is a literal of ``datatype`` with a well-formed lexical form: pySHACL's test
    (the datatype IRI matches and rdflib can read the value), in SPARQL.

    Raises:
        UnsupportedShapeError: an XSD datatype whose lexical forms are not checked here.
    """
    if datatype == RDFS.Literal:
        return f"isLiteral({v})"
    if datatype == RDF.langString:
        return f'COALESCE(isLiteral({v}) && lang({v}) != "", false)'
    test = f"isLiteral({v}) && datatype({v}) = {datatype.n3()}"
    if datatype in CASTABLE:
        test += f" && datatype({datatype.n3()}(STR({v}))) = {datatype.n3()}"
        if datatype in FOUR_DIGIT_YEARS:
            test += f' && REGEX(STR({v}), "^[0-9]{{4}}-") && !STRSTARTS(STR({v}), "0000")'
    elif datatype != XSD.string and str(datatype).startswith(str(XSD)):
        raise UnsupportedShapeError(
            f"sh:datatype {datatype} is an XSD datatype whose lexical forms the compiled validator does not check."
        )
    return f"COALESCE({test}, false)"


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


def compile_shapes(shapes: Graph) -> tuple[CompiledCheck, ...]:
    """Every constraint of every targeted shape of ``shapes`` as a set-at-a-time SPARQL check.

    Raises:
        UnsupportedShapeError: a shape uses a feature the compiler does not translate.
    """
    return tuple(_Compiler(shapes).compile())


def compile_what_can_be(shapes: Graph) -> tuple[tuple[CompiledCheck, ...], dict[Node, str]]:
    """The checks of the shapes the compiler translates, and the shapes it does not, each with
    the reason: those another validator must take (:mod:`csfkg.validation.general`)."""
    left: dict[Node, str] = {}
    checks = tuple(_Compiler(shapes).compile(left))
    return checks, left


def _default_message(component: str, path: Node | None) -> str:
    """A result message where the shape has none (the report's text only; SHACL leaves it to
    the validator)."""
    where = f" on {path}" if isinstance(path, URIRef) else ""
    return f"The value does not satisfy {component.removesuffix('ConstraintComponent')}{where}."


PACKAGED_CHECKS = "compiled-checks.json"
"""The packaged shapes compiled, beside them in ``ontology/shapes/``, with the SHA-256 of the
shape files and of the compiler they were compiled from (:func:`source_digest`). Compiling takes
~0.6 s, nearly all of it rdflib parsing the SPARQL constraints to check them: more than half of
``csfkg recommend``'s budget of a second. tests/test_compiled_validation.py checks that the file
is what compiling gives now."""


def source_digest() -> str:
    """SHA-256 of the packaged shape files, in their order, of the record query and of this
    compiler's own source: a change to any makes the packaged checks stale."""
    import hashlib
    from pathlib import Path

    from csfkg.model.resources import SHAPE_FILES, shapes_dir
    from csfkg.sparql.library import get_query

    digest = hashlib.sha256()
    for name in SHAPE_FILES:
        digest.update(shapes_dir().joinpath(name).read_bytes())
    digest.update(get_query(RECORD_QUERY).text.encode("utf-8"))
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def checks_document(checks: tuple[CompiledCheck, ...]) -> str:
    """The JSON of :data:`PACKAGED_CHECKS` for ``checks`` of the packaged shapes."""
    import json
    from dataclasses import asdict

    return (
        json.dumps(
            {
                "source_sha256": source_digest(),
                "checks": [asdict(c) for c in checks],
                "record_owner_query": _compile_record_owner_query(),
            },
            indent=1,
            sort_keys=True,
        )
        + "\n"
    )


def write_packaged_checks() -> None:
    """Compile the packaged shapes and write :data:`PACKAGED_CHECKS` (for a developer who has
    changed a shape, in a source checkout)."""
    from pathlib import Path

    from csfkg.io.output import write_atomically
    from csfkg.model.resources import shapes_dir

    write_atomically(
        Path(str(shapes_dir().joinpath(PACKAGED_CHECKS))), checks_document(compile_shapes(shapes_graph()))
    )


def _packaged_document() -> dict | None:
    """:data:`PACKAGED_CHECKS` read, if it was compiled from the shape files, the record query
    and the compiler packaged now."""
    import json

    from csfkg.model.resources import shapes_dir

    try:
        document = json.loads(shapes_dir().joinpath(PACKAGED_CHECKS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("source_sha256") != source_digest():
        return None
    return document


def _packaged_checks() -> tuple[CompiledCheck, ...] | None:
    """The packaged compiled checks, if they are up to date (:func:`_packaged_document`)."""
    document = _packaged_document()
    if document is None:
        return None
    try:
        return tuple(
            CompiledCheck(**{k: tuple(v) if isinstance(v, list) else v for k, v in check.items()})
            for check in document["checks"]
        )
    except (TypeError, KeyError, AttributeError):  # not the fields of CompiledCheck: compile instead
        return None


@cache
def compiled_validation_queries() -> tuple[CompiledCheck, ...]:
    """The packaged shapes (:func:`csfkg.model.knowledge.shapes_graph`) compiled: read from
    :data:`PACKAGED_CHECKS` when it was compiled from these shape files and this compiler,
    compiled here otherwise;
    once per process."""
    packaged = _packaged_checks()
    return packaged if packaged is not None else compile_shapes(shapes_graph())


def _record_patterns() -> tuple[list[tuple[Node, Node, Node]], list[tuple[Node, Node, Node]]]:
    """The triple patterns of ``queries/cohort-patient-records.rq`` that lead from ``?patient``
    to ``?node`` (the record path), and those on ``?patient`` alone (which node is a patient).

    Raises:
        UnsupportedShapeError: the record query does not give its path as triple patterns.
    """
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    from csfkg.sparql.library import get_query

    def bgp(node: object) -> list[tuple[Node, Node, Node]]:
        if isinstance(node, CompValue):
            if node.name == "BGP":
                return list(node["triples"])
            if "p" in node:
                return bgp(node["p"])
        return []

    triples = bgp(prepareQuery(get_query(RECORD_QUERY).text).algebra)
    patient, record = Variable("patient"), Variable("node")
    link = [t for t in triples if record in t and patient in t]
    test = [t for t in triples if patient in t and record not in t]
    loose = [
        term
        for t in link + test
        for term in t
        if isinstance(term, Variable) and term not in (patient, record)
    ]
    if not link or loose:
        raise UnsupportedShapeError(
            f"queries/{RECORD_QUERY}.rq does not give the record path as triple patterns from ?patient to ?node."
        )
    return link, test


def _pattern_text(patterns: list[tuple[Node, Node, Node]]) -> str:
    """SPARQL of triple patterns, ``?patient`` named ``?candidate`` and ``?node`` ``?this``."""
    names = {Variable("patient"): "?candidate", Variable("node"): "?this"}
    return " ".join(" ".join(names.get(term) or term.n3() for term in triple) + " ." for triple in patterns)  # type: ignore[arg-type]


@cache
def record_owner_query() -> str:
    """``SELECT ?this ?patient``: for each node ``?this`` (bound by a VALUES block or a
    substitution), the patients whose record holds it, or one row with ``?patient`` unbound.

    The record is that of ``queries/cohort-patient-records.rq``: its triple patterns that lead
    from ``?patient`` to ``?node`` are followed backwards from ``?this`` (OPTIONAL, so Oxigraph
    evaluates them once per node, from the node), and its patterns on ``?patient`` alone decide
    which of the nodes met is a patient. Read from :data:`PACKAGED_CHECKS` where it is up to
    date (reading the record query needs rdflib's SPARQL parser: a fifth of ``csfkg recommend``).

    Raises:
        UnsupportedShapeError: the record query does not give its path as triple patterns.
    """
    document = _packaged_document()
    if document is not None and isinstance(document.get("record_owner_query"), str):
        return document["record_owner_query"]
    return _compile_record_owner_query()


def _compile_record_owner_query() -> str:
    link, test = _record_patterns()
    return (
        "SELECT ?this ?patient WHERE {\n"
        f"  OPTIONAL {{ {_pattern_text(link)} }}\n"
        f"  BIND (IF(EXISTS {{ {_pattern_text(test)} }}, ?candidate, ?nobody) AS ?patient)\n"
        "}"
    )


@cache
def record_owner_steps() -> tuple[str, str]:
    """The record query (:func:`record_owner_query`) as two queries, for an engine that walks
    back from many nodes at once: ``SELECT ?this ?candidate``, one step of the record path
    (``?candidate`` holds ``?this``), and ``SELECT ?candidate``, the nodes that are patients. A
    node is in the record of each patient it is reached from in zero or more steps back.

    Raises:
        UnsupportedShapeError: the record path is not one ``(...)*`` path from ``?patient`` to
            ``?node``.
    """
    from rdflib.paths import MulPath

    link, test = _record_patterns()
    path = link[0][1] if len(link) == 1 else None
    if not isinstance(path, MulPath) or path.mod != "*" or link[0][0] != Variable("patient"):
        raise UnsupportedShapeError(
            f"queries/{RECORD_QUERY}.rq does not give the record path as one (...)* path from ?patient to ?node."
        )
    return (
        f"SELECT ?this ?candidate WHERE {{ ?candidate {path.path.n3()} ?this . }}",
        f"SELECT ?candidate WHERE {{ {_pattern_text(test)} }}",
    )
