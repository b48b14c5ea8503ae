"""SPARQL translated to SQL over term ids, for a vectorised engine (DuckDB).

EXPERIMENTAL: what ``csfkg cohort FILE --engine sql`` runs (:mod:`csfkg.cohort.sql_engine`; issue 4:
the cohort target is beyond what Oxigraph reaches with these queries, figures in
bench/README.md). It translates rdflib's algebra of a
query into SQL over a :class:`Layout`: triples as term ids ``(s, p, o)`` (or a table ``(s, o)``
a predicate), and a terms table with each term's id (:func:`id_of`), N-Triples text and parsed
columns (:data:`TERM_COLUMNS`). A solution is a row with a column a variable, its term's id
(``"v_name"``: joins, groups, DISTINCT, EXISTS and MINUS compare ids), NULL where unbound; a
value computed by BIND or an aggregate is kept as computed beside its id (``"k_name"``:
:attr:`Relation.typed`). An expression that reads a stored term's columns joins the terms table
for that variable only (:meth:`Translator.with_terms`).

What is translated: BGPs (with property paths: sequences, alternatives, ``*``, ``+`` and
``?``), Join, LeftJoin, Filter, Extend, Union, MINUS, Project, Distinct, VALUES, sub-SELECTs,
GROUP BY with COUNT / MIN / SAMPLE / GROUP_CONCAT, and the expressions of the ``derive-*.rq``
queries and of the compiled SHACL checks (COALESCE, sameTerm, DATATYPE, isLiteral / isIRI /
isBlank, STRSTARTS, REGEX without escapes, casts from strings to xsd:integer, decimal, double,
float, boolean and date, with the lexical forms Oxigraph takes). Anything else raises
:class:`UnsupportedQuery`.

SPARQL's expression errors map onto SQL's NULL: an ill-typed comparison is NULL, a FILTER keeps
only TRUE, ``error || true`` is TRUE and ``error && false`` FALSE in both.

Known differences from Oxigraph: literals keep the lexical form they were written with (Oxigraph
stores "5.0"^^xsd:decimal as "5"); numbers compare as doubles; MIN and MAX order numbers by value
and anything else by its N-Triples text; arithmetic does not promote datatypes (a whole
number computed from decimals is written as an xsd:integer); a variable bound in an EXISTS pattern and unbound outside
it is not constrained; GROUP_CONCAT skips a value whose expression errs (SPARQL: the aggregate is
an error, its variable unbound). tests/test_sparql_sql.py holds what is checked.
"""

from __future__ import annotations

from csfkg.engines.sql.patterns import (
    Translator,
)
from csfkg.engines.sql.plans import (
    ConstructPlan,
    TableLayout,
    construct_statements,
    insert_pairs,
    modify_statements,
    predicates_read,
    query_constants,
    select_sql,
    solution_terms,
    solution_texts,
    solution_values,
    translate_pattern,
    value_of_text,
    without_unread_optionals,
)
from csfkg.engines.sql.terms import (
    BLANK_KIND,
    IRI_KIND,
    LITERAL_KIND,
    STORED_TERM_COLUMNS,
    TERM_COLUMNS,
    TERM_STR,
    Layout,
    Ref,
    Relation,
    UnsupportedQuery,
    col,
    id_of,
    is_kind,
    quote,
    term_rows,
    term_str,
)

__all__ = [
    "BLANK_KIND",
    "ConstructPlan",
    "IRI_KIND",
    "LITERAL_KIND",
    "Layout",
    "Ref",
    "Relation",
    "STORED_TERM_COLUMNS",
    "TERM_COLUMNS",
    "TERM_STR",
    "TableLayout",
    "Translator",
    "UnsupportedQuery",
    "col",
    "construct_statements",
    "id_of",
    "insert_pairs",
    "is_kind",
    "modify_statements",
    "predicates_read",
    "query_constants",
    "quote",
    "select_sql",
    "solution_terms",
    "solution_texts",
    "solution_values",
    "term_rows",
    "term_str",
    "translate_pattern",
    "value_of_text",
    "without_unread_optionals",
]
