"""What the compiler makes and the pieces it makes it from: the check type and its errors, the
SHACL vocabulary it reads, the focus-node patterns (:data:`Focus`), a constraint before it is a
query (:class:`_Constraint`), and the datatype and count tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import DC, DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD
from rdflib.term import Node

from csfkg.model.errors import CsfkgError


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


def _default_message(component: str, path: Node | None) -> str:
    """A result message where the shape has none (the report's text only; SHACL leaves it to
    the validator)."""
    where = f" on {path}" if isinstance(path, URIRef) else ""
    return f"The value does not satisfy {component.removesuffix('ConstraintComponent')}{where}."
