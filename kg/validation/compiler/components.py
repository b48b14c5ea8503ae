"""SHACL Core's constraint components, each as a pattern that finds the failing focus nodes or
values: value type and range, cardinality, string, property pair, logical, shape-based,
closed and qualified (SHACL 4.1 - 4.8). A mixin of :class:`~.shapes.Compiler`."""

from __future__ import annotations

from collections.abc import Callable

from rdflib import Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH, XSD
from rdflib.term import Node

from csfkg.validation.compiler.checks import (
    NODE_KINDS,
    RANGES,
    SUBCLASS,
    TYPE,
    Focus,
    UnsupportedShapeError,
    _Constraint,
    _count,
    _datatype_test,
    _enumerate,
    _fenced,
    _member,
    _Pattern,
)


class Components:
    """The constraint components; the reading of the shapes graph is the compiler's."""

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
