"""The compiler's entry points: the shapes compiled (all of them, or what can be), the packaged
shapes' checks kept compiled beside them, and the record query walked backwards (which patient
owns a focus node)."""

from __future__ import annotations

from functools import cache

from rdflib import Graph
from rdflib.term import Node, Variable

from csfkg.model.knowledge import shapes_graph
from csfkg.validation.compiler.checks import (
    RECORD_QUERY,
    CompiledCheck,
    UnsupportedShapeError,
)
from csfkg.validation.compiler.shapes import Compiler


def compile_shapes(shapes: Graph) -> tuple[CompiledCheck, ...]:
    """Every constraint of every targeted shape of ``shapes`` as a set-at-a-time SPARQL check.

    Raises:
        UnsupportedShapeError: a shape uses a feature the compiler does not translate.
    """
    return tuple(Compiler(shapes).compile())


def compile_what_can_be(shapes: Graph) -> tuple[tuple[CompiledCheck, ...], dict[Node, str]]:
    """The checks of the shapes the compiler translates, and the shapes it does not, each with
    the reason: those another validator must take (:mod:`csfkg.validation.general`)."""
    left: dict[Node, str] = {}
    checks = tuple(Compiler(shapes).compile(left))
    return checks, left


PACKAGED_CHECKS = "compiled-checks.json"
"""The packaged shapes compiled, beside them in ``ontology/shapes/``, with the SHA-256 of the
shape files and of the compiler they were compiled from (:func:`source_digest`). Compiling takes
~0.6 s, nearly all of it rdflib parsing the SPARQL constraints to check them: more than half of
``csfkg recommend``'s budget of a second. tests/test_compiled_validation.py checks that the file
is what compiling gives now."""


def source_digest() -> str:
    """SHA-256 of the packaged shape files, in their order, of the record query and of this
    compiler's modules: a change to any makes the packaged checks stale."""
    import hashlib
    from pathlib import Path

    from csfkg.model.resources import SHAPE_FILES, shapes_dir
    from csfkg.sparql.library import get_query

    digest = hashlib.sha256()
    for name in SHAPE_FILES:
        digest.update(shapes_dir().joinpath(name).read_bytes())
    digest.update(get_query(RECORD_QUERY).text.encode("utf-8"))
    for module in sorted(Path(__file__).parent.glob("*.py")):  # every module of the compiler
        digest.update(module.read_bytes())
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
