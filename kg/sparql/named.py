"""Running the named queries of ``queries/`` (and a user's own query file) over a dataset of
knowledge graph + patient files + what was derived for those patients; binding parameters as RDF
terms; writing the results as a table, CSV, SPARQL 1.1 Query Results JSON or Turtle.

Parameters are declared in a query's header, grlc style::

    #+ params: patient (IRI, optional) - the patient, e.g. ex:seed;
    #+   action (IRI, optional) - only this action, e.g. csfg:obtain-mri-brain-and-spine

Each is ``NAME (KIND[, optional]) - description[, e.g. EXAMPLE]``, separated by ``;``. KIND is
``IRI``, ``string``, ``integer``, ``decimal``, ``date`` or ``boolean``. An optional parameter left
out stays unbound, which in SPARQL means "any": ``next-step`` without ``patient`` gives the next
step of every patient. The value of a parameter becomes an RDF term (:func:`to_term`) that the
store binds to the query variable of the same name; it is never formatted into the query text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import XSD
from rdflib.query import Result as RDFLibResult

from csfkg.model.errors import InputError, UsageError
from csfkg.model.vocab import DISPLAY_PREFIXES, PREFIXES, STANDARD_PREFIXES, prefixed_name
from csfkg.sparql.library import NamedQuery, all_queries, parse_header
from csfkg.stores import QueryResult, SelectResult, Store, Term, query_form

TERM_PREFIXES: dict[str, str] = {**{k: str(v) for k, v in PREFIXES.items()}, **STANDARD_PREFIXES}
"""The prefixes a ``--param`` value may use (``ex:seed``, ``csfg:obtain-mri-brain-and-spine``)."""

PARAMETER_KINDS = ("iri", "string", "integer", "decimal", "date", "boolean")
CELL_WIDTH = 80
"""Table cells longer than this are shortened (csv and json keep every value whole)."""

_PARAM_ENTRY = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\((?P<kind>[^)]*)\)\s*(?:-\s*(?P<description>.*))?$", re.DOTALL
)
_PARAM_SPLIT = re.compile(r";\s+(?=[A-Za-z_][A-Za-z0-9_]*\s*\()")
_EXAMPLE = re.compile(r"e\.g\.\s+(?P<example>\"[^\"]*\"|\S+)\s*$")
_VARIABLE = re.compile(r"[?$]([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$", re.DOTALL)
_PREFIXED_NAME = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z0-9_.-]*)?:(?P<local>[^\s<>\"{}|^`\\]*)$")
_FULL_IRI = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|urn:)[^\s<>\"{}|^`\\]+$")
_BAD_IRI_CHARACTER = re.compile(r"[\s<>\"{}|^`\\]")
_QUOTED = re.compile(
    r"^\"(?P<lexical>(?:[^\"\\]|\\.)*)\""
    r"(?:@(?P<language>[A-Za-z]+(?:-[A-Za-z0-9]+)*)|\^\^(?P<datatype><[^>]*>|[A-Za-z][A-Za-z0-9_.-]*:\S*))?$",
    re.DOTALL,
)
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+)$")
# Comments and strings are blanked before looking for SERVICE, LOAD and FROM; IRIs are kept
# whole so that a '#' inside one is not read as a comment.
_TOKENS = re.compile(
    r"<[^<>\s]*>|#[^\n]*|\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'"
)
_PREFIX_DECLARATION = re.compile(r"\bPREFIX\s+([A-Za-z][A-Za-z0-9_.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_FROM = re.compile(
    r"(?<![?$\w:-])FROM\s+(?:NAMED\s+)?(<[^>]*>|[A-Za-z][A-Za-z0-9_.-]*:[^\s{]*|:[^\s{]*)", re.IGNORECASE
)
_LOCAL_SCHEMES = ("file:", "urn:")


# ---------------------------------------------------------------------------------------
# queries and their parameters
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a query."""

    name: str
    kind: str | None
    optional: bool
    description: str = ""
    example: str | None = None

    def usage(self) -> str:
        return f"--param {self.name}={self.example or self.kind or 'VALUE'}"


def parameters(query: NamedQuery) -> list[Parameter] | None:
    """The parameters the query's ``#+ params:`` header declares; None when it has no such header.

    Raises:
        UsageError: the header cannot be read (a packaged query with a bad header is a defect,
            a user's query file a mistake of its author).
    """
    declared = query.header.get("params")
    if declared is None:
        return None
    declared = declared.strip()
    if not declared or declared.lower().startswith("none"):
        return []
    found: list[Parameter] = []
    for entry in _PARAM_SPLIT.split(declared):
        match = _PARAM_ENTRY.match(entry.strip().rstrip(";"))
        if match is None:
            raise UsageError(f"The #+ params: header of {query.name} cannot be read at {entry.strip()!r}.")
        words = [w.strip().lower() for w in match.group("kind").split(",")]
        kind = next((w for w in words if w in PARAMETER_KINDS), None)
        description = (match.group("description") or "").strip()
        example = _EXAMPLE.search(description)
        found.append(
            Parameter(
                name=match.group("name"),
                kind=kind,
                optional="optional" in words,
                description=description,
                example=example.group("example").strip('"') if example else None,
            )
        )
    return found


def is_user_query(query: NamedQuery) -> bool:
    """Queries meant for people: not the derivation pipeline (``derive-*``) and not the ontology
    quality checks (``*-violation``), the updates (``update-*``), the cohort pipeline's own
    queries (``cohort-*``) and the FHIR import's (``fhir-*``), which run inside the program."""
    return not query.name.startswith(("derive-", "update-", "cohort-", "fhir-")) and not query.name.endswith(
        "-violation"
    )


def user_queries() -> list[NamedQuery]:
    """The queries ``csfkg query --list`` shows, by name."""
    return [q for q in all_queries().values() if is_user_query(q)]


def read_query_file(path: Path, *, allow_remote: bool = False) -> NamedQuery:
    """A user's own query file, checked: it is a SPARQL 1.1 query and, unless ``allow_remote``,
    reaches nothing outside the local dataset (SERVICE, LOAD, FROM with a remote IRI).

    Raises:
        InputError: the file is missing, unreadable, empty or not a SPARQL 1.1 query.
        UsageError: the query would reach the network and ``allow_remote`` is false.
    """
    if not path.exists():
        raise InputError(f"Query file not found: {path}.")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a query file.")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text (is it a binary file?).") from None
    if not text.strip():
        raise InputError(f"{path} is empty: it holds no query.")
    check_remote(text, allow_remote=allow_remote, source=str(path))
    _check_syntax(text, str(path))
    return NamedQuery(name=path.stem, text=text, header=parse_header(text))


def check_remote(text: str, *, allow_remote: bool, source: str) -> None:
    """Refuse a query that would fetch data or send part of itself over the network.

    Raises:
        UsageError: the query uses SERVICE or LOAD, or FROM / FROM NAMED with a remote IRI, and
            ``allow_remote`` is false.
    """
    if allow_remote:
        return
    code = _TOKENS.sub(lambda m: m.group(0) if m.group(0).startswith("<") else " ", text)
    for keyword, why in (
        ("SERVICE", "sends part of the query to a remote endpoint"),
        ("LOAD", "loads data from an IRI"),
    ):
        if re.search(rf"(?<![?$\w:-]){keyword}(?![\w:-])", code, re.IGNORECASE):
            raise UsageError(f"{source} uses {keyword}, which {why}; give --allow-remote to run it anyway.")
    prefixes = {(p or ""): iri for p, iri in _PREFIX_DECLARATION.findall(code)}
    for reference in _FROM.findall(code):
        iri = reference[1:-1] if reference.startswith("<") else _expand_declared(reference, prefixes)
        if not iri.lower().startswith(_LOCAL_SCHEMES):
            raise UsageError(
                f"{source} reads the graph <{iri}> with FROM, which fetches it from the network; give --allow-remote to run it anyway."
            )


def _expand_declared(name: str, prefixes: dict[str, str]) -> str:
    prefix, _, local = name.partition(":")
    return prefixes.get(prefix, f"{prefix}:") + local


def _check_syntax(text: str, source: str) -> None:
    from rdflib.plugins.sparql import prepareQuery

    try:
        prepareQuery(text)
    except Exception as error:  # pyparsing and rdflib raise many types; all mean a bad query
        line, column = getattr(error, "lineno", None), getattr(error, "col", None)
        if line is not None and column is not None:
            where = f" at line {line}, column {column}"
        else:
            where = f" ({' '.join(str(error).split())[:160].rstrip('. ')})"
        if re.search(
            r"^\s*(?:INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b",
            _TOKENS.sub(" ", text),
            re.I | re.M,
        ):
            raise InputError(
                f"{source} is a SPARQL Update, not a query: csfkg only reads the graph."
            ) from None
        raise InputError(f"{source} is not a valid SPARQL 1.1 query{where}.") from None
    try:
        query_form(text)
    except ValueError:
        raise InputError(f"{source} is not a SELECT, CONSTRUCT, ASK or DESCRIBE query.") from None


# ---------------------------------------------------------------------------------------
# parameter values -> RDF terms
# ---------------------------------------------------------------------------------------
def parse_assignments(assignments: Sequence[str]) -> dict[str, str]:
    """``["patient=ex:seed", ...]`` -> ``{"patient": "ex:seed"}``.

    Raises:
        UsageError: an assignment is not NAME=VALUE, or a name is given twice.
    """
    found: dict[str, str] = {}
    for assignment in assignments:
        match = _ASSIGNMENT.match(assignment)
        if match is None:
            raise UsageError(
                f"--param must be NAME=VALUE with NAME a query variable name, not {assignment!r}."
            )
        name, value = match.group("name"), match.group("value")
        if name in found:
            raise UsageError(f"--param {name} is given twice.")
        found[name] = value
    return found


def to_term(value: str, kind: str | None = None, *, name: str = "value") -> Term:
    """The RDF term a parameter value stands for.

    ``<https://...>``, a full IRI (``https://...``, ``urn:...``) or a prefixed name with a known
    prefix (csf, csfg, csfr, csfsh, ex and the W3C ones) is an IRI; ``"text"``, ``"text"@en`` or
    ``"2026-01-29"^^xsd:date`` is that literal; an unquoted integer or decimal is a number; anything
    else a plain string. A declared ``kind`` decides between these readings.

    Raises:
        UsageError: the value cannot be of the declared kind, or is a malformed IRI or literal.
    """
    value = value.strip() if kind != "string" else value
    if kind == "iri":
        iri = _as_iri(value, name)
        if iri is None:
            raise UsageError(
                f"--param {name} needs an IRI (<...>, a full IRI or a prefixed name such as ex:seed), not {value!r}."
            )
        return iri
    if value.startswith('"'):
        return _quoted_literal(value, name)
    if kind == "string":
        return Literal(value)
    if kind is None:
        iri = _as_iri(value, name)
        if iri is not None:
            return iri
        if _INTEGER.match(value):
            return Literal(value, datatype=XSD.integer)
        if _DECIMAL.match(value):
            return Literal(value, datatype=XSD.decimal)
        return Literal(value)
    return _typed_literal(value, kind, name)


def _as_iri(value: str, name: str) -> URIRef | None:
    if value.startswith("<") and value.endswith(">"):
        inner = value[1:-1]
        if not inner or _BAD_IRI_CHARACTER.search(inner):
            raise UsageError(f"--param {name}: {value} is not a valid IRI.")
        return URIRef(inner)
    match = _PREFIXED_NAME.match(value)
    if match is not None and (match.group("prefix") or "") in TERM_PREFIXES:
        return URIRef(TERM_PREFIXES[match.group("prefix") or ""] + match.group("local"))
    if _FULL_IRI.match(value):
        return URIRef(value)
    return None


def _quoted_literal(value: str, name: str) -> Literal:
    match = _QUOTED.match(value)
    if match is None:
        raise UsageError(
            f'--param {name}: {value} is not a literal such as "text", "text"@en or "2026-01-29"^^xsd:date.'
        )
    lexical = re.sub(
        r"\\(.)",
        lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)),
        match.group("lexical"),
    )
    if match.group("language"):
        return Literal(lexical, lang=match.group("language"))
    datatype = match.group("datatype")
    if datatype is None:
        return Literal(lexical)
    iri = _as_iri(datatype, name)
    if iri is None:
        raise UsageError(f"--param {name}: the datatype {datatype} has an unknown prefix.")
    return Literal(lexical, datatype=iri)


def _typed_literal(value: str, kind: str, name: str) -> Literal:
    valid = {
        "integer": bool(_INTEGER.match(value)),
        "decimal": bool(_INTEGER.match(value) or _DECIMAL.match(value)),
        "boolean": value in ("true", "false"),
        "date": _is_date(value),
    }
    if valid.get(kind):
        return Literal(value, datatype=XSD[kind])
    wanted = {
        "integer": "an integer",
        "decimal": "a decimal number",
        "boolean": "true or false",
        "date": "a date as YYYY-MM-DD",
    }
    raise UsageError(f"--param {name} needs {wanted[kind]}, not {value!r}.")


def _is_date(value: str) -> bool:
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def bind_parameters(query: NamedQuery, assignments: Sequence[str]) -> dict[str, Term]:
    """The bindings for ``--param`` assignments, checked against the parameters the query declares
    (or, for a query file without a ``#+ params:`` header, the variables it uses).

    Raises:
        UsageError: an assignment is malformed, names no parameter of the query, has a value of
            the wrong kind, or a required parameter is missing.
    """
    values = parse_assignments(assignments)
    declared = parameters(query)
    if declared is None:
        variables = set(_VARIABLE.findall(_TOKENS.sub(" ", query.text)))
        for name in values:
            if name not in variables:
                raise UsageError(f"--param {name}: the query {query.name} has no variable ?{name}.")
        return {name: to_term(value, None, name=name) for name, value in values.items()}
    by_name = {p.name: p for p in declared}
    for name in values:
        if name not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise UsageError(f"The query {query.name} has no parameter {name!r}; its parameters: {known}.")
    for parameter in declared:
        if not parameter.optional and parameter.name not in values:
            raise UsageError(
                f"The query {query.name} needs {parameter.usage()} ({parameter.description or parameter.kind})."
            )
    return {name: to_term(value, by_name[name].kind, name=name) for name, value in values.items()}


def run_query(
    store: Store, query: NamedQuery, bindings: dict[str, Term] | None = None, *, user_query: bool = False
) -> QueryResult:
    """Run ``query`` with its parameters bound as terms.

    Raises:
        UsageError: ``user_query`` is true and the store cannot evaluate the query.
    """
    if not user_query:
        return store.query(query.text, bindings)
    try:
        return store.query(query.text, bindings)
    except Exception as error:  # the engines raise their own types; a user's query can trip any
        reason = " ".join(str(error).split())[:200].rstrip(". ")
        raise UsageError(f"The query {query.name} could not be run: {reason}.") from None


# ---------------------------------------------------------------------------------------
# output formats
# ---------------------------------------------------------------------------------------
OUTPUT_FORMATS = ("text", "csv", "json", "ttl")
"""The formats of a query result, by their names in :mod:`csfkg.io.formats`."""


def format_result(result: QueryResult, output_format: str, *, name: str = "the query") -> str:
    """Render a result: SELECT and ASK as ``text`` (a table), ``csv`` or ``json`` (SPARQL 1.1 Query Results
    JSON); a graph (CONSTRUCT, DESCRIBE) always as Turtle.

    Raises:
        UsageError: ``ttl`` was asked for a SELECT or ASK result.
    """
    if isinstance(result, Graph):
        return graph_turtle(result)
    if output_format == "ttl":
        form = "an ASK" if isinstance(result, bool) else "a SELECT"
        raise UsageError(
            f"--format ttl is for CONSTRUCT and DESCRIBE queries; {name} is {form} query: use text, csv or json."
        )
    if isinstance(result, bool):
        if output_format == "json":
            answer = RDFLibResult("ASK")
            answer.askAnswer = result
            return answer.serialize(format="json").decode("utf-8") + "\n"
        return ("true" if result else "false") + ("\r\n" if output_format == "csv" else "\n")
    if output_format == "json":
        return results_json(result)
    if output_format == "csv":
        return results_csv(result)
    return results_table(result)


def check_output_format(query: NamedQuery, output_format: str) -> None:
    """Refuse, before anything runs, an output format the query's form cannot give.

    Raises:
        UsageError: ``ttl`` for a SELECT or ASK query.
    """
    form = query_form(query.text)
    if output_format == "ttl" and form in ("SELECT", "ASK"):
        raise UsageError(
            f"--format ttl is for CONSTRUCT and DESCRIBE queries; {query.name} is a{'n' if form == 'ASK' else ''} {form} query: use text, csv or json."
        )


def results_json(result: SelectResult) -> str:
    """SPARQL 1.1 Query Results JSON Format (W3C Recommendation, 2013), by rdflib's serializer."""
    return _rdflib_result(result).serialize(format="json").decode("utf-8") + "\n"


def results_csv(result: SelectResult) -> str:
    """SPARQL 1.1 Query Results CSV Format (IRIs whole, literals as their lexical form, blank nodes
    as ``_:id``, CRLF line ends), by rdflib's serializer."""
    return _rdflib_result(result).serialize(format="csv").decode("utf-8")


def _rdflib_result(result: SelectResult) -> RDFLibResult:
    """A SELECT result as rdflib's :class:`~rdflib.query.Result`, for its result serializers. A
    literal typed ``xsd:string`` becomes a simple literal, the same term in RDF 1.1, so that both
    stores give ``{"type": "literal", "value": ...}`` without a datatype."""
    variables = [Variable(name) for name in result.variables]
    converted = RDFLibResult("SELECT")
    converted.vars = variables
    converted.bindings = [
        {
            variable: Literal(str(term))
            if isinstance(term, Literal) and term.datatype == XSD.string
            else term
            for variable, term in zip(variables, row, strict=True)
            if term is not None
        }
        for row in result.rows
    ]
    return converted


def results_table(result: SelectResult) -> str:
    """Aligned text columns, IRIs as prefixed names; long cells shortened to :data:`CELL_WIDTH`."""
    header = list(result.variables)
    cells = [[_cell(term) for term in row] for row in result.rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    if not cells:
        lines.append("(no rows)")
    return "\n".join(lines) + "\n"


def _cell(term: Term | None) -> str:
    text = display(term)
    text = " ".join(text.split()) if "\n" in text or "\t" in text else text
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 3] + "..."


def display(term: Term | None) -> str:
    """A term for a person: a prefixed name for an IRI in a known namespace, else ``<iri>``; a
    literal's lexical form; ``_:id`` for a blank node; empty for unbound."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return prefixed_name(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def graph_turtle(graph: Graph) -> str:
    """A result graph as Turtle, with the project's prefixes."""
    for prefix, namespace in DISPLAY_PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph.serialize(format="turtle")
