"""Triples into the SQL store (:mod:`csfkg.engines.sql.store`): an N-Triples file written a
statement a line with single spaces (as Oxigraph, rdflib and ``csfkg synth`` write it) read by
DuckDB itself (:func:`load_ntriples`), and any other RDF (another syntax, an rdflib graph, or
N-Triples in another form) parsed by Oxigraph and written in that form first
(:func:`load_rdf`)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rdflib.namespace import RDF, XSD

from csfkg.engines.sql.store import (
    InvalidTerm,
    SqlStore,
    add_pairs,
    add_terms,
)
from csfkg.engines.sql.translate import LITERAL_KIND, id_of, is_kind, quote
from csfkg.model.errors import InputError
from csfkg.model.knowledge import knowledge_ntriples
from csfkg.model.resources import knowledge_cache

__all__ = ["STATEMENT", "TERM", "load_ntriples", "load_rdf", "ntriples_lines", "vocabulary_predicates"]

RAW = "__raw"
KNOWN = "__known_predicates"

_STATEMENT_LINE = "CASE WHEN starts_with(line, '<') THEN TRUE ELSE trim(line) <> '' AND NOT starts_with(ltrim(line), '#') END"
"""A line that is neither empty nor a comment (trimmed only where it does not start a
statement: a copy of every line otherwise)."""

# N-Triples, a statement a line: the subject and the predicate hold no space; the object is the
# rest of the line less its final dot (and the spaces around it). Each line is checked here for
# what a line alone says (it ends with a dot); each term once, where the terms are grouped
# (TERM: a file has about four times as many lines as distinct terms; each term is matched
# once, not each line).
# A line ending in one space and the dot (as writers write it) has its object from the split
# line; the other lines only have rtrim() with a set of characters, which is slow per line.
# Each line's predicate is looked up in the enum type KNOWN (the vocabulary's predicates: a
# hash lookup, much cheaper than a join with a table of them) and kept as its code there (one
# byte; the predicate tables are filled by it); where every line's is one of them, the file is
# read once (a second read for the predicates' texts is costly), else once more, for them all.
# Only a predicate that is not one of them gets a term id here.
# The line is split at its spaces once (string_split): the subject, the predicate, and for such a
# line the pieces between them and the dot, joined again (a literal's spaces kept, two spaces
# giving an empty piece); split_part twice and substr made three copies of the line
_XSD_STRING = f"^^<{XSD.string}>"
"""The datatype of a simple literal as N-Triples may write it: RDF 1.1 (3.3) makes ``"daily"`` and
``"daily"^^xsd:string`` one term, so the loader keeps the first text for both (a term's text is
its id)."""
_SPLIT = rf"""
CREATE OR REPLACE TEMPORARY TABLE {RAW} AS
SELECT {id_of("s")} AS si, {id_of("o")} AS oi, enum_code(TRY_CAST(p AS {KNOWN})) AS pk, CASE WHEN TRY_CAST(p AS {KNOWN}) IS NULL THEN {id_of("p")} END AS pi,
       s, o, bad FROM (
  SELECT s, p, CASE WHEN ends_with(o0, '{_XSD_STRING}') THEN left(o0, -{len(_XSD_STRING)}) ELSE o0 END AS o, bad FROM (
  SELECT s, p, CASE WHEN plain THEN (CASE WHEN len(l) = 4 THEN l[3] ELSE array_to_string(l[3:len(l) - 1], ' ') END)
                    WHEN ends_with(r, '.') THEN rtrim(substr(r, 1, length(r) - 1), ' ') ELSE '' END AS o0,
         NOT plain AND NOT ends_with(r, '.') AS bad FROM (
    SELECT l, s, p, plain, CASE WHEN NOT plain THEN rtrim(substr(line, length(s) + length(p) + 3), ' ' || chr(9)) END AS r FROM (
      SELECT line, l, l[1] AS s, COALESCE(l[2], '') AS p,
             ends_with(line, ' .') AND NOT ends_with(line, '  .') AND NOT ends_with(line, chr(9) || ' .') AS plain FROM (
        SELECT line, string_split(line, ' ') AS l
        FROM {{source}}
        WHERE {_STATEMENT_LINE})))))
"""

_LINES = "read_csv($1, columns={'line': 'VARCHAR'}, delim='\x01', quote='', escape='', header=false, auto_detect=false)"

_IRI = r'<[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>"{}|^`\\]*>'
_BLANK = r"_:[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?"
_LITERAL = rf'"([^"\\\n\r]|\\[nr"\\])*"(\^\^{_IRI}|@[a-zA-Z]+(-[a-zA-Z0-9]+)*)?'
_UNTAGGED = f'"^^<{RDF.langString}>'
"""RDF 1.1, 3.3: rdf:langString is the datatype of a literal with a language tag and of no other;
Oxigraph refuses ``"x"^^rdf:langString``, and so does this loader, naming the line."""
TERM = rf"{_IRI}|{_BLANK}|{_LITERAL}"
"""A term as this loader reads it (:data:`STATEMENT`)."""
STATEMENT = rf"({_IRI}|{_BLANK}) {_IRI} ({TERM}) ?\.[ \t]*"
"""A line of N-Triples as this loader reads it: subject, predicate and object separated by one
space, the final dot, as Oxigraph, rdflib and ``csfkg synth`` write them: IRIs without escapes,
ASCII blank node labels, literals with the escapes those writers use (``\\" \\\\ \\n \\r``) and
no other. A term has one text, so its text is its id: a literal written once as "A" and once as
"\\u0041" would be two terms here and one in Oxigraph, and such a file is refused. (Spaces
before the final dot are read as Oxigraph reads them.)"""


def load_ntriples(store: SqlStore, path: Path) -> None:
    """Append an N-Triples file written one statement a line with single spaces (as Oxigraph,
    rdflib and ``csfkg synth`` write it): its terms to the terms table, each triple's ids to its
    predicate's table. Nothing is added from a file with a line that is neither a statement as
    :data:`STATEMENT` has it, nor empty, nor a comment.

    Raises:
        InputError: a line is not a statement as :data:`STATEMENT` has it (the first is named).
        IdCollision: two of its terms, or one of them and a term the store holds, share an id.
    """
    connection = store.connection
    likely = sorted(vocabulary_predicates() | set(store.tables))
    connection.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE {KNOWN} AS SELECT unnest($1::VARCHAR[]) AS text", [likely]
    )
    connection.execute(f"CREATE TYPE {KNOWN} AS ENUM (SELECT text FROM {KNOWN})")
    try:
        code_of = dict(
            connection.execute(
                f"SELECT text, CAST(enum_code(text::{KNOWN}) AS INTEGER) FROM {KNOWN}"
            ).fetchall()
        )
        connection.execute(_SPLIT.format(source=_LINES), [str(path)])
    finally:
        connection.execute(f"DROP TYPE {KNOWN}")
        connection.execute(f"DROP TABLE {KNOWN}")
    try:
        # the predicates' texts: the vocabulary's of their codes where every line's predicate
        # is one of them, else from a second read of the file (not in the table of 32M
        # triples: 2 GB of text, past which DuckDB spilled)
        if connection.execute(f"SELECT 1 FROM {RAW} WHERE pk IS NULL LIMIT 1").fetchone() is None:
            text_of = {code: text for text, code in code_of.items()}
            predicates = [
                text_of[code] for (code,) in connection.execute(f"SELECT DISTINCT pk FROM {RAW}").fetchall()
            ]
        else:
            predicates = [
                p
                for (p,) in connection.execute(
                    f"SELECT DISTINCT split_part(line, ' ', 2) FROM {_LINES} WHERE {_STATEMENT_LINE}",
                    [str(path)],
                ).fetchall()
            ]
        # a line with no final dot, a literal as subject, a predicate that is no IRI, a term
        # that is none: the first line that is no statement is found and named
        wrong = (
            connection.execute(
                f"SELECT 1 FROM {RAW} WHERE bad OR {is_kind('si', LITERAL_KIND)} LIMIT 1"
            ).fetchone()
            is not None
        )
        wrong = wrong or any(re.fullmatch(_IRI, p) is None for p in predicates)
        wrong = wrong or (
            connection.execute(f"SELECT 1 FROM {RAW} WHERE ends_with(o, $1) LIMIT 1", [_UNTAGGED]).fetchone()
            is not None
        )
        values = ", ".join(f"({quote(p)})" for p in predicates)
        predicate_terms = (
            f" UNION ALL SELECT {id_of('p')}, p FROM (VALUES {values}) AS c(p)" if predicates else ""
        )
        if not wrong:
            try:
                add_terms(
                    store,
                    f"SELECT si AS id, s AS text FROM {RAW} UNION ALL SELECT oi, o FROM {RAW}{predicate_terms}",
                    valid=TERM,
                )
            except InvalidTerm:
                wrong = True
        if wrong:
            found = connection.execute(
                f"SELECT line FROM {_LINES} WHERE trim(line) <> '' AND NOT starts_with(ltrim(line), '#') "
                f"AND (NOT regexp_full_match(line, $2) OR contains(line, $3)) LIMIT 1",
                [str(path), STATEMENT, _UNTAGGED],
            ).fetchone()
            line = "?" if found is None else found[0] if len(found[0]) <= 120 else found[0][:117] + "..."
            raise InputError(
                f"{path} is not N-Triples as the SQL engine reads it (a statement a line, single spaces): {line!r}."
            )
        for predicate in predicates:
            # by the predicate's code, or its term id (checked against every other term's by
            # add_terms); a triple written twice, or one the store holds, is not added again
            if predicate in code_of:
                add_pairs(
                    store,
                    store.target(predicate),
                    f"SELECT si AS s, oi AS o FROM {RAW} WHERE pk = {code_of[predicate]}",
                )
            else:
                add_pairs(
                    store,
                    store.target(predicate),
                    f"SELECT si AS s, oi AS o FROM {RAW} WHERE pk IS NULL AND pi = {id_of('$1::VARCHAR')}",
                    [predicate],
                )
    finally:
        connection.execute(f"DROP TABLE {RAW}")


@knowledge_cache
def vocabulary_predicates() -> frozenset[str]:
    """N-Triples texts of the predicates a patient file likely uses: those of the knowledge
    graph's triples and the properties it declares (a hint for :func:`load_ntriples`: a
    predicate outside it costs a second read of the file, not a wrong triple)."""
    from rdflib.namespace import OWL, RDF

    declared = {
        OWL.ObjectProperty.n3(),
        OWL.DatatypeProperty.n3(),
        OWL.AnnotationProperty.n3(),
        RDF.Property.n3(),
    }
    found: set[str] = set()
    for line in knowledge_ntriples().decode("utf-8").splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[1].startswith("<"):
            found.add(parts[1])
            if parts[1] == RDF.type.n3() and parts[2] in declared and parts[0].startswith("<"):
                found.add(parts[0])
    return frozenset(found)


def load_rdf(store: SqlStore, data: bytes | Path, format: str, *, base_iri: str | None = None) -> None:
    """RDF in any syntax Oxigraph reads (``format`` by rdflib's name), as a file or bytes, into the
    store: N-Triples in the loader's form straight away, anything else parsed by Oxigraph and
    written in that form (:func:`ntriples_lines`) first.

    Raises:
        InputError: the data is not valid RDF in ``format``, or holds what the loader refuses.
    """
    import pyoxigraph

    from csfkg.stores.oxigraph_store import ox_format

    with tempfile.TemporaryDirectory(prefix="csfkg-sql-load-") as folder:
        path = Path(folder) / "data.nt"
        if format == "nt":
            if isinstance(data, Path):
                path = data
            else:
                path.write_bytes(data)
            try:
                load_ntriples(store, path)
                return
            except InputError:
                pass  # N-Triples in another form (escapes, spaces): parsed and written again below
            path = Path(folder) / "normal.nt"
        source = {"path": str(data)} if isinstance(data, Path) else {"input": data}
        try:
            triples = list(pyoxigraph.parse(**source, format=ox_format(format), base_iri=base_iri))
        except (SyntaxError, ValueError, OSError) as error:
            name = data if isinstance(data, Path) else "the data"
            raise InputError(
                f"{name} is not valid RDF: {' '.join(str(error).split())[:200].rstrip('. ')}."
            ) from None
        with path.open("w", encoding="utf-8", newline="\n") as stream:
            stream.writelines(ntriples_lines(triples))
        load_ntriples(store, path)


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def ntriples_lines(triples: Iterable[Any]) -> Iterable[str]:
    """Oxigraph triples as N-Triples lines in the form :func:`load_ntriples` reads: single spaces,
    a literal escaped only where it must be (backslash, quote, line feed, carriage return),
    blank nodes labelled anew, ASCII and unique to this call (a node of another load is never
    this one, as two files' blank nodes are two nodes)."""
    import secrets

    import pyoxigraph

    labels: dict[str, str] = {}
    prefix = f"b{secrets.token_hex(6)}n"

    def text(term: Any) -> str:
        if isinstance(term, pyoxigraph.NamedNode):
            return f"<{term.value}>"
        if isinstance(term, pyoxigraph.BlankNode):
            return "_:" + labels.setdefault(term.value, f"{prefix}{len(labels) + 1}")
        lexical = '"' + term.value.translate(_ESCAPES) + '"'
        if term.language:
            return f"{lexical}@{term.language}"
        if term.datatype.value == str(XSD.string):
            return lexical
        return f"{lexical}^^<{term.datatype.value}>"

    for triple in triples:
        yield f"{text(triple.subject)} {text(triple.predicate)} {text(triple.object)} .\n"
