"""Any SPARQL 1.1 server (GraphDB, Virtuoso, Neptune, Fuseki, Oxigraph server): queries over the
SPARQL Protocol, updates to the update URL, data through the Graph Store Protocol.

What production servers need, and what this client does for it:

- Queries and updates go as URL-encoded form POSTs (``query=...``, ``update=...``), the one
  request form every server answers: Virtuoso never answers a query POSTed as
  ``application/sparql-query`` (the request hangs until the timeout; openlink/virtuoso-opensource
  issue 842, open).
- With ``graph``, everything happens in that named graph: queries run over it alone (the
  protocol's ``default-graph-uri``), every Update operation is rewritten to target it (``WITH``,
  or ``GRAPH`` inside ``INSERT DATA``), uploads go to it. Without ``graph`` the server's default
  graph is used - which on Virtuoso is the union of every graph it holds (a query without FROM
  reads all of them; virtuoso-opensource issue 1406, "expected behaviour"), so other data on the
  server joins the patients'.
- Uploads are N-Triples sent in chunks of whole lines (a server refuses a large request: Virtuoso's
  SQL compiler stops at 10,000 lines of generated code for one INSERT DATA), into a scratch graph
  that is added to the target in one ``ADD`` and dropped, also when a chunk fails: the target
  gets all the data or none of it (as far as the server runs one ``ADD`` atomically). N-Triples
  files go as they are, unparsed (the server checks them); lines with blank nodes go together in
  one chunk, since a blank node label is scoped to one request.
- A server that caps results (Virtuoso's ``ResultSetMaxRows``, announced by an
  ``X-SPARQL-MaxRows`` header on an otherwise normal 200 answer: virtuoso-opensource issue 112,
  w3c-cg/sparql-dev issue 51) is never taken at its word: an answer that fills the cap is
  refused with one sentence naming the cap and the setting. (Paging it with LIMIT/OFFSET under a
  total ORDER BY came back silently wrong on Virtuoso 7.2, so it is not done.) A partial answer
  announced by Virtuoso's anytime queries (``X-SQL-State: S1TAT``) is refused.
- Errors are one sentence: the reason out of the server's error page (HTML or text), 401 and 403
  named as authentication and permission problems, "no answer within N s" on a timeout (the
  server was reached), "cannot reach" only when the connection is refused or the name unknown.
- Basic and Digest authentication (urllib's handlers) with ``user`` and the password from
  ``CSFKG_ENDPOINT_PASSWORD`` or ``~/.netrc``; never credentials in a URL.
- Class membership (``?x rdf:type/rdfs:subClassOf* <C>``) goes as a type test against the
  class's subclass closure, asked of the server first (:mod:`csfkg.stores.class_lists`):
  Virtuoso 7.2 finds no instance through that path inside ``OPTIONAL``, ``MINUS`` or
  ``NOT EXISTS`` (virtuoso-opensource issues 127 and 704), where the compiled ``sh:class``
  checks and ``derive-missing-data`` test it.
- ``xsd:boolean`` results are ``Literal(True)``/``Literal(False)`` whatever their lexical form
  (Virtuoso answers "1" and "0").

Results are parsed by rdflib's SPARQL JSON results parser and N-Triples parser. rdflib's
``SPARQLUpdateStore`` is not used: it offers no Graph Store Protocol upload and none of the above.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from rdflib import Graph, Literal
from rdflib.namespace import XSD
from rdflib.query import Result

from csfkg.model.errors import InputError
from csfkg.stores.class_lists import listing_classes
from csfkg.stores.protocol import Closing, QueryResult, SelectResult
from csfkg.stores.sparql_text import STRIP, Bindings, Term, as_update, matching_brace, query_form, with_values

PASSWORD_VARIABLE = "CSFKG_ENDPOINT_PASSWORD"
"""The environment variable holding the password of ``--user``."""

DEFAULT_TIMEOUT = 600.0
"""Seconds to wait for one answer of the server."""

UPLOAD_LINES = 20_000
"""N-Triples lines a Graph Store Protocol request carries."""

INSERT_DATA_LINES = 1_000
"""N-Triples lines one ``INSERT DATA`` carries (without a Graph Store URL): Virtuoso compiles an
INSERT DATA to SQL and refuses one past 10,000 lines of generated SQL."""

_FORM = "application/x-www-form-urlencoded"
_REASON_CHARS = 200


class EndpointStore(Closing):
    """A SPARQL 1.1 server (see the module docstring). Parameters are bound in the query text by
    :func:`~csfkg.stores.sparql_text.with_values` (the protocol cannot pre-bind).

    Raises (from the constructor):
        InputError: a URL carries credentials or is not http(s), ``graph`` is not an absolute
            IRI, or ``user`` has no password in the environment or ``~/.netrc``.
    """

    compiled_validation = "sparql"

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        store_url: str | None = None,
        graph: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        user: str | None = None,
        upload_lines: int = UPLOAD_LINES,
    ) -> None:
        for url in (query_url, update_url, store_url):
            if url is not None:
                check_url(url)
        if graph is not None:
            check_graph_iri(graph)
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.store_url = store_url
        self.graph = graph
        self.timeout = timeout
        self.upload_lines = upload_lines
        self._opener = _opener([u for u in (query_url, update_url, store_url) if u], user)
        self._classes: dict[str, list] = {}
        """The subclass lists asked of the server since this store last wrote to it."""

    # --- the transport ---------------------------------------------------------------------
    def _post(
        self, url: str, body: bytes, content_type: str, accept: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        """One POST; the answer's headers (lower-case names) and body.

        Raises:
            InputError: the server answered an error, did not answer in time, or was not reached.
        """
        import http.client
        import socket
        import urllib.error
        import urllib.request

        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                answer = response.read()
                found = {k.lower(): v for k, v in response.headers.items()}
                return found, answer
        except urllib.error.HTTPError as error:
            raise http_error(url, error.code, error.headers.get("Content-Type", ""), _body(error)) from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError):
                raise self._no_answer(url) from None
            if isinstance(reason, (ConnectionRefusedError, socket.gaierror)):
                raise InputError(f"Cannot reach the SPARQL endpoint {url}: {_text(reason)}.") from None
            raise InputError(
                f"The connection to the SPARQL endpoint {url} failed: {_text(reason)}."
            ) from None
        except TimeoutError:
            raise self._no_answer(url) from None
        except (OSError, http.client.HTTPException) as error:
            raise InputError(
                f"The connection to the SPARQL endpoint {url} failed: {_text(error) or type(error).__name__}."
            ) from None

    def _no_answer(self, url: str) -> InputError:
        return InputError(
            f"No answer from the SPARQL endpoint {url} within {self.timeout:g} s "
            "(the server was reached; a longer --timeout may help)."
        )

    def _ask_server(self, text: str, accept: str) -> tuple[dict[str, str], bytes]:
        from urllib.parse import urlencode

        fields = [("query", text)]
        if self.graph:
            fields.append(("default-graph-uri", self.graph))
        return self._post(self.query_url, urlencode(fields).encode("ascii"), _FORM, accept)

    def _run_update(self, text: str) -> None:
        from urllib.parse import urlencode

        self._classes.clear()  # what the server said of its classes may change

        self._post(self.update_url, urlencode([("update", text)]).encode("ascii"), _FORM)

    # --- the protocol ------------------------------------------------------------------
    def _with_class_lists(self, text: str) -> str:
        """``text`` with its class membership paths as type tests against lists of classes that
        the server is asked first (see :mod:`csfkg.stores.class_lists`)."""
        return listing_classes(text, lambda query: self._select(query).rows, self._classes)

    def query(self, text: str, bindings: Bindings | None = None) -> QueryResult:
        if bindings:
            text = with_values(text, bindings)
        text = self._with_class_lists(text)
        form = query_form(text)
        if form == "ASK":
            headers, raw = self._ask_server(text, "application/sparql-results+json")
            _check_partial(self.query_url, headers)
            return bool(Result.parse(io.BytesIO(raw), format="json").askAnswer)
        if form == "SELECT":
            return self._select(text)
        return self._graph(text)

    def _select(self, text: str) -> SelectResult:
        headers, raw = self._ask_server(text, "application/sparql-results+json")
        _check_partial(self.query_url, headers)
        result = _select_result(raw)
        cap = declared_cap(headers)
        if cap is None or len(result.rows) < cap:
            return result
        # paging (LIMIT/OFFSET under a total ORDER BY) was tried and came back silently wrong on
        # Virtuoso 7.2 (rows of one patient with another's values, tests/stores/test_virtuoso_cohort.py):
        # an answer that fills the cap is refused, naming the setting to raise
        raise capped(self.query_url, cap, "rows")

    def _graph(self, text: str) -> Graph:
        headers, raw = self._ask_server(text, "application/n-triples")
        _check_partial(self.query_url, headers)
        graph = Graph()
        graph.parse(data=raw.decode("utf-8"), format="nt")
        cap = declared_cap(headers)
        if cap is not None and len(graph) >= cap:
            raise capped(self.query_url, cap, "triples")
        return graph

    def update(self, text: str, bindings: Bindings | None = None) -> None:
        if bindings:
            text = with_values(text, bindings)
        text = self._with_class_lists(text)
        self._run_update(in_graph(text, self.graph) if self.graph else text)

    def insert(self, construct: str) -> None:
        self.update(as_update(construct))

    def load(self, data: bytes, format: str, *, base_iri: str | None = None) -> None:
        if format == "nt":
            self.upload_ntriples(io.BytesIO(data))
            return
        graph = Graph()
        graph.parse(data=data, format=format, publicID=base_iri)
        self.add_graph(graph)

    def load_file(self, path: Path, format: str) -> None:
        if format == "nt":  # streamed as it is: the server parses it (and refuses bad syntax)
            try:
                with path.open("rb") as stream:
                    self.upload_ntriples(stream)
            except OSError as error:
                raise InputError(f"{path} could not be read: {error.strerror or error}.") from None
            return
        from csfkg.stores.loading import parse_with_rdflib

        self.add_graph(parse_with_rdflib(path, format))

    def add_graph(self, graph: Graph) -> None:
        self.upload_ntriples(io.BytesIO(graph.serialize(format="nt", encoding="utf-8")))

    def upload_ntriples(self, lines: Iterable[bytes]) -> None:
        """Add N-Triples ``lines`` to the graph, all or nothing: chunk by chunk into a scratch
        graph, then one ``ADD`` into the target; the scratch graph is dropped in every case. A
        named graph that is empty is itself the scratch graph (dropped if a chunk fails).

        Raises:
            InputError: the server refused a chunk (bad syntax, too large) or the ADD.
        """
        # a named graph that holds nothing yet is loaded in place, and dropped again if a chunk
        # fails (as before: all or nothing), which spares the server a copy of every triple (on a
        # persistent Oxigraph server, a third of the upload's writes)
        # (the query runs over the named graph alone: default-graph-uri)
        self._classes.clear()
        empty = self.graph is not None and self.query("ASK { ?s ?p ?o }") is False
        scratch = self.graph if empty else f"urn:uuid:{uuid.uuid4()}"
        done = False
        size = self.upload_lines if self.store_url else min(self.upload_lines, INSERT_DATA_LINES)
        sent = False
        try:
            for chunk in chunks(lines, size):
                if self.store_url:
                    from urllib.parse import quote

                    separator = "&" if "?" in self.store_url else "?"
                    self._post(
                        f"{self.store_url}{separator}graph={quote(scratch, safe='')}",
                        chunk,
                        "application/n-triples",
                    )
                else:
                    self._run_update(f"INSERT DATA {{ GRAPH <{scratch}> {{\n{chunk.decode('utf-8')}\n}} }}")
                sent = True
            if sent and not empty:
                target = f"GRAPH <{self.graph}>" if self.graph else "DEFAULT"
                self._run_update(f"ADD GRAPH <{scratch}> TO {target}")
            done = True
        finally:
            if sent and not (empty and done):
                try:
                    self._run_update(f"DROP SILENT GRAPH <{scratch}>")
                except InputError:
                    pass  # the error that brought us here is the one to show

    def dump(self, stream: BinaryIO, query: str, bindings: Bindings | None = None) -> None:
        result = self.query(query, bindings)
        assert isinstance(result, Graph)
        result.serialize(stream, format="nt", encoding="utf-8")

    def __len__(self) -> int:
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert isinstance(result, SelectResult)
        return int(result.rows[0][0])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# URLs, graphs and credentials
# ---------------------------------------------------------------------------------------
def check_url(url: str) -> None:
    """An endpoint URL: http(s), without credentials.

    Raises:
        InputError: the URL carries a user or password, or is not an http(s) URL.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url} is not an http(s) URL of a SPARQL endpoint.")
    if parts.username is not None or parts.password is not None:
        raise InputError(
            f"Credentials in the URL {parts.hostname} are not used: give --user NAME with the password in "
            f"{PASSWORD_VARIABLE} or in ~/.netrc (or only ~/.netrc)."
        )


_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")


def check_graph_iri(graph: str) -> None:
    """Raises InputError: ``graph`` is not an absolute IRI."""
    if not _IRI.fullmatch(graph):
        raise InputError(
            f"--graph {graph!r} is not an absolute IRI (one with a scheme, such as https: or urn:)."
        )


def credentials(url: str, user: str | None) -> tuple[str, str] | None:
    """The user and password for ``url``: ``user`` with the password from
    :data:`PASSWORD_VARIABLE` or ``~/.netrc``; without ``user``, the netrc entry of the host if any.

    Raises:
        InputError: ``user`` has no password in either place, or ``~/.netrc`` cannot be read.
    """
    import netrc
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if user is not None and os.environ.get(PASSWORD_VARIABLE):
        return user, os.environ[PASSWORD_VARIABLE]
    entry = None
    path = Path(os.path.expanduser("~")) / ".netrc"
    if path.is_file():
        try:
            entry = netrc.netrc(str(path)).authenticators(host)
        except (netrc.NetrcParseError, OSError) as error:
            raise InputError(f"~/.netrc cannot be read: {_text(error)}.") from None
    if entry is not None and (user is None or entry[0] == user):
        login, _, password = entry
        if login and password:
            return login, password
    if user is not None:
        raise InputError(
            f"--user {user} needs a password: set {PASSWORD_VARIABLE}, or add "
            f"'machine {host} login {user} password ...' to ~/.netrc."
        )
    return None


def _opener(urls: list[str], user: str | None):
    import urllib.request

    handlers: list[urllib.request.BaseHandler] = []
    found = {url: credentials(url, user) for url in urls}
    if any(found.values()):
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        for url, pair in found.items():
            if pair is not None:
                manager.add_password(None, url, *pair)
        handlers = [
            urllib.request.HTTPBasicAuthHandler(manager),
            urllib.request.HTTPDigestAuthHandler(manager),
        ]
    return urllib.request.build_opener(*handlers)


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------
def _body(error) -> bytes:
    try:
        return error.read()
    except Exception:  # a body that cannot be read gives no reason
        return b""


def _text(value: object) -> str:
    return " ".join(str(value).split())[:_REASON_CHARS].rstrip(". ")


_DROP = re.compile(r"<(head|script|style)\b.*?</\1\s*>|<!--.*?-->|<!DOCTYPE[^>]*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_STATUS_LINE = re.compile(r"^(HTTP\s*)?(error\s*)?\d{3}\b[^.:]{0,40}$", re.IGNORECASE)


def error_reason(content_type: str, body: bytes) -> str:
    """The server's reason, out of an error page (HTML tags stripped) or a text answer: its
    meaningful lines (not the bare status line), as one line of at most 200 characters."""
    import html

    text = body.decode("utf-8", "replace")
    if "html" in content_type.lower() or re.search(r"<(!DOCTYPE|html|body)\b", text, re.IGNORECASE):
        text = html.unescape(_TAG.sub("\n", _DROP.sub("\n", text)))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    meaningful = [line for line in lines if not _STATUS_LINE.match(line)] or lines
    reason = " ".join(meaningful)
    if len(reason) > _REASON_CHARS:
        reason = reason[: _REASON_CHARS - 3].rstrip() + "..."
    return reason.rstrip(". ")


def http_error(url: str, code: int, content_type: str, body: bytes) -> InputError:
    """The sentence for an HTTP error answer."""
    reason = error_reason(content_type, body)
    detail = f" ({reason})" if reason else ""
    if code == 401:
        return InputError(
            f"The SPARQL endpoint {url} needs authentication (401){detail}: give --user NAME with the "
            f"password in {PASSWORD_VARIABLE} or ~/.netrc, or check them."
        )
    if code == 403:
        return InputError(
            f"The SPARQL endpoint {url} refused permission (403){detail}: the user may not run this "
            "request (on Virtuoso, updates need the SPARQL_UPDATE role)."
        )
    return InputError(f"The SPARQL endpoint {url} answered {code}: {reason or 'no reason given'}.")


# ---------------------------------------------------------------------------------------
# result caps
# ---------------------------------------------------------------------------------------
def declared_cap(headers: dict[str, str]) -> int | None:
    """The row cap a server declares on its answer (Virtuoso's ``X-SPARQL-MaxRows``), or None."""
    value = headers.get("x-sparql-maxrows")
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _check_partial(url: str, headers: dict[str, str]) -> None:
    # Virtuoso's "anytime queries" answer what they found when time runs out, with a 200 and
    # X-SQL-State: S1TAT (virtuoso-opensource issues 112 and 1034)
    if headers.get("x-sql-state", "").strip().upper() == "S1TAT":
        message = _text(headers.get("x-sql-message", "")) or "the query ran out of time"
        raise InputError(
            f"The SPARQL endpoint {url} answered only part of the result ({message}): raise the "
            "server's MaxQueryExecutionTime or give a longer --timeout."
        )


def capped(url: str, cap: int, what: str) -> InputError:
    return InputError(
        f"The SPARQL endpoint {url} caps answers at {cap} {what} (X-SPARQL-MaxRows; on Virtuoso "
        "ResultSetMaxRows in the [SPARQL] section of virtuoso.ini), and this answer reached the cap: "
        "raise the setting, since a shorter answer would be wrong."
    )


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------
def _select_result(raw: bytes) -> SelectResult:
    result = Result.parse(io.BytesIO(raw), format="json")
    variables = [str(v) for v in result.vars or []]
    return SelectResult(variables, [tuple(as_boolean(t) for t in row) for row in result])  # type: ignore[union-attr]


def as_boolean(term: Term | None) -> Term | None:
    """An ``xsd:boolean`` literal as ``Literal(True)``/``Literal(False)`` whatever its lexical form
    ("1", "0", "true", "false"); any other term as it is."""
    if isinstance(term, Literal) and term.datatype == XSD.boolean:
        return Literal(str(term).strip() in ("true", "1"))
    return term


# ---------------------------------------------------------------------------------------
# uploads and updates in a named graph
# ---------------------------------------------------------------------------------------
def chunks(lines: Iterable[bytes], size: int) -> Iterator[bytes]:
    """N-Triples ``lines`` in chunks of at most ``size`` whole lines. Lines that may hold a blank
    node go together in the last chunk: a blank node label is scoped to one request, so a node
    cut across two requests would become two nodes."""
    batch: list[bytes] = []
    blank: list[bytes] = []
    for line in lines:
        if not line.strip():
            continue
        if not line.endswith(b"\n"):
            line += b"\n"
        (blank if b"_:" in line else batch).append(line)
        if len(batch) >= size:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)
    if blank:
        yield b"".join(blank)


_OPERATION = re.compile(
    r"(?<![:\w])(WITH|INSERT\s+DATA|DELETE\s+DATA|DELETE\s+WHERE|INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY)(?![:\w])",
    re.IGNORECASE,
)


def in_graph(update: str, graph: str) -> str:
    """A SPARQL Update with every operation reading and writing ``graph``: ``WITH <graph>``
    before each DELETE/INSERT ... WHERE, ``GRAPH <graph> { }`` around the data of INSERT DATA and
    DELETE DATA, DELETE WHERE spelt as the DELETE ... WHERE it abbreviates. An operation with its
    own WITH, and graph management (LOAD, CLEAR, DROP, ...), names its graphs itself and is left
    as it is."""
    masked = STRIP.sub(lambda m: " " * len(m.group(0)), update)
    out: list[str] = []
    depth = 0
    start = 0
    bounds: list[tuple[int, int]] = []
    for index, char in enumerate(masked):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == ";" and depth == 0:
            bounds.append((start, index))
            start = index + 1
    bounds.append((start, len(update)))
    for number, (begin, end) in enumerate(bounds):
        out.append(_operation_in_graph(update[begin:end], masked[begin:end], graph))
        if number < len(bounds) - 1:
            out.append(";")
    return "".join(out)


def _operation_in_graph(text: str, masked: str, graph: str) -> str:
    match = _OPERATION.search(masked)
    if match is None:
        return text
    keyword = " ".join(match.group(1).upper().split())
    if keyword in ("INSERT DATA", "DELETE DATA", "DELETE WHERE"):
        opening = masked.index("{", match.end())
        closing = matching_brace(masked, opening, "an Update operation")
        inner = text[opening + 1 : closing]
        if keyword == "DELETE WHERE":
            block = f"WITH <{graph}> DELETE {{{inner}}} WHERE {{{inner}}}"
        else:
            block = f"{keyword} {{ GRAPH <{graph}> {{{inner}}} }}"
        return text[: match.start()] + block + text[closing + 1 :]
    if keyword in ("INSERT", "DELETE"):
        return text[: match.start()] + f"WITH <{graph}> " + text[match.start() :]
    return text
