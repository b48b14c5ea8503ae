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

from csfkg.validation.compiler.checks import (
    MAX_QUERY_CHARS,
    TARGETS,
    CompiledCheck,
    IllFormedShapeError,
    UnsupportedShapeError,
)
from csfkg.validation.compiler.packaged import (
    PACKAGED_CHECKS,
    checks_document,
    compile_shapes,
    compile_what_can_be,
    compiled_validation_queries,
    record_owner_query,
    record_owner_steps,
    source_digest,
    write_packaged_checks,
)

__all__ = [
    "MAX_QUERY_CHARS",
    "PACKAGED_CHECKS",
    "TARGETS",
    "CompiledCheck",
    "IllFormedShapeError",
    "UnsupportedShapeError",
    "checks_document",
    "compile_shapes",
    "compile_what_can_be",
    "compiled_validation_queries",
    "record_owner_query",
    "record_owner_steps",
    "source_digest",
    "write_packaged_checks",
]
