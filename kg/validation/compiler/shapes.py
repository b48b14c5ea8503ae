"""The compiler: reads the shapes graph (targets, paths, parameters), gathers each shape's
constraints (:mod:`.components`, :mod:`.sparql`) and wraps each into a :class:`~.checks.CompiledCheck`."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import Node

from csfkg.validation.compiler.checks import (
    ANNOTATION_NAMESPACES,
    MAX_QUERY_CHARS,
    NODE_SHAPE_PARAMETERS,
    PATH_OPERATORS,
    PROPERTY_SHAPE_PARAMETERS,
    SHAPE_TYPES,
    SUBCLASS,
    TARGETS,
    TYPE,
    CompiledCheck,
    Focus,
    IllFormedShapeError,
    UnsupportedShapeError,
    _Constraint,
    _default_message,
)
from csfkg.validation.compiler.components import Components
from csfkg.validation.compiler.sparql import SparqlConstraints


@dataclass
class Compiler(Components, SparqlConstraints):
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
