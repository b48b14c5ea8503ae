"""The endpoint client against a fake SPARQL server (a stdlib ``http.server`` started by each
test on a free port): the request form, uploads, result caps and paging, error pages, timeouts,
authentication and booleans - what a production server (Virtuoso) does that ``oxigraph serve``
does not."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote

import pytest
from rdflib import Literal, URIRef

from csfkg.model.errors import InputError
from csfkg.stores import EndpointStore, SelectResult
from csfkg.stores.endpoint_store import PASSWORD_VARIABLE
from csfkg.stores.sparql_text import truth


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("ascii"))


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeServer:
    url: str
    requests: list[Request]
    answer: Callable[[Request], Answer]


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    """A server that records each request and answers what ``fake.answer(request)`` says
    (by default an empty SELECT result)."""
    requests: list[Request] = []
    server_box: dict[str, FakeServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            requests.append(request)
            answer = server_box["server"].answer(request)
            if answer.delay:
                time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_POST = do_GET = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server_box["server"] = FakeServer(url, requests, lambda request: Answer(body=_select(["x"], [])))
    try:
        yield server_box["server"]
    finally:
        server.shutdown()
        server.server_close()


def _select(variables: list[str], rows: list[dict[str, dict[str, str]]]) -> bytes:
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": rows}}).encode()


def _iri(value: str) -> dict[str, str]:
    return {"type": "uri", "value": value}


JSON = {"Content-Type": "application/sparql-results+json"}
BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
DECIMAL = URIRef("http://www.w3.org/2001/XMLSchema#decimal")


# ---------------------------------------------------------------------------------------
# 1. the request form
# ---------------------------------------------------------------------------------------
def test_queries_and_updates_go_as_url_encoded_forms_never_as_sparql_query_bodies(fake: FakeServer) -> None:
    store = EndpointStore(fake.url, graph="https://example.org/cohort")
    store.query("SELECT ?x WHERE { ?x ?p ?o }")
    store.update("INSERT DATA { <a:s> <a:p> <a:o> }")
    query, update = fake.requests
    for request in (query, update):
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert query.form()["query"] == ["SELECT ?x WHERE { ?x ?p ?o }"]
    assert query.form()["default-graph-uri"] == ["https://example.org/cohort"]
    assert "GRAPH <https://example.org/cohort>" in update.form()["update"][0]


# ---------------------------------------------------------------------------------------
# 3. uploads: N-Triples as they are, in chunks of whole lines, through a scratch graph
# ---------------------------------------------------------------------------------------
def test_an_ntriples_file_goes_to_the_graph_store_as_it_is_in_chunks_then_added_to_the_graph(
    fake: FakeServer, tmp_path: Path
) -> None:
    lines = [
        '<https://ex.org/a> <https://ex.org/flag> "1"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n',
        '<https://ex.org/a> <https://ex.org/n> "01"^^<http://www.w3.org/2001/XMLSchema#integer> .\n',
        "<https://ex.org/b> <https://ex.org/p> <https://ex.org/c> .\n",
    ]
    path = tmp_path / "data.nt"
    path.write_text("".join(lines))
    fake.answer = _graph_holds(True)
    store = EndpointStore(
        fake.url, store_url=fake.url + "/store", graph="https://example.org/cohort", upload_lines=2
    )
    store.load_file(path, "nt")

    puts = [r for r in fake.requests if r.path.startswith("/sparql/store")]
    updates = [r.form()["update"][0] for r in fake.requests if "update" in r.form()]
    # the lexical forms rdflib would rewrite ("1" -> "true", "01" -> "1") arrive untouched
    assert [r.body.decode() for r in puts] == ["".join(lines[:2]), lines[2]]
    scratch = {unquote(r.path.split("graph=", 1)[1]) for r in puts}
    assert len(scratch) == 1 and next(iter(scratch)).startswith("urn:uuid:")
    assert all("default" not in r.path for r in puts)
    (graph,) = scratch
    assert updates == [
        f"ADD GRAPH <{graph}> TO GRAPH <https://example.org/cohort>",
        f"DROP SILENT GRAPH <{graph}>",
    ]


def test_a_chunk_the_server_refuses_drops_the_scratch_graph_and_never_reaches_the_target(
    fake: FakeServer,
) -> None:
    def answer(request: Request) -> Answer:
        if request.path.startswith("/sparql/store") and b"bad" in request.body:
            return Answer(status=400, body=b"Parser error at line 1: bad IRI")
        return Answer(status=204)

    fake.answer = lambda request: (
        _graph_holds(True)(request) if "query" in _form(request) else answer(request)
    )
    store = EndpointStore(
        fake.url, store_url=fake.url + "/store", graph="https://example.org/g", upload_lines=1
    )
    with pytest.raises(InputError, match="answered 400: Parser error at line 1: bad IRI"):
        store.load(b"<a:s> <a:p> <a:o> .\n<a:s> <a:p> <bad> .\n", "nt")
    updates = [r.form()["update"][0] for r in fake.requests if r.path == "/sparql" and "update" in r.form()]
    assert len(updates) == 1 and updates[0].startswith("DROP SILENT GRAPH <urn:uuid:")
    assert not any("ADD" in u for u in updates)


def _form(request: Request) -> dict[str, list[str]]:
    try:
        return request.form()
    except UnicodeDecodeError:
        return {}


def _graph_holds(holds: bool) -> Callable[[Request], Answer]:
    """A server whose graph holds triples (or not): ASK answers so, anything else 204."""

    def answer(request: Request) -> Answer:
        if "query" in _form(request):
            body = b'{"head": {}, "boolean": ' + (b"true" if holds else b"false") + b"}"
            return Answer(body=body, headers={"Content-Type": "application/sparql-results+json"})
        return Answer(status=204)

    return answer


def test_an_empty_named_graph_is_loaded_in_place_and_dropped_if_a_chunk_fails(fake: FakeServer) -> None:
    """No scratch graph where the target holds nothing (a copy of every triple spared); a refused
    chunk drops the target again, which held nothing before: still all or nothing."""
    empty = _graph_holds(False)
    fake.answer = empty
    store = EndpointStore(
        fake.url, store_url=fake.url + "/store", graph="https://example.org/g", upload_lines=1
    )
    store.load(b"<a:s> <a:p> <a:o> .\n<a:s> <a:p> <a:q> .\n", "nt")
    puts = [r for r in fake.requests if r.path.startswith("/sparql/store")]
    assert len(puts) == 2 and all(
        unquote(r.path.split("graph=", 1)[1]) == "https://example.org/g" for r in puts
    )
    assert not [r for r in fake.requests if "update" in _form(r)]  # no ADD, no DROP

    fake.requests.clear()
    fake.answer = lambda request: (
        Answer(status=400, body=b"bad") if b"<bad>" in request.body else empty(request)
    )
    with pytest.raises(InputError):
        store.load(b"<a:s> <a:p> <a:o> .\n<a:s> <a:p> <bad> .\n", "nt")
    updates = [r.form()["update"][0] for r in fake.requests if "update" in _form(r)]
    assert updates == ["DROP SILENT GRAPH <https://example.org/g>"]


def test_blank_nodes_travel_in_one_chunk_so_that_a_node_stays_one_node(fake: FakeServer) -> None:
    fake.answer = lambda request: Answer(status=204)
    store = EndpointStore(fake.url, upload_lines=1)  # no Graph Store URL: INSERT DATA chunks
    store.load(b'_:b <a:p> "1" .\n<a:s> <a:p> <a:o> .\n<a:s> <a:q> _:b .\n', "nt")
    inserts = [r.form()["update"][0] for r in fake.requests if "INSERT DATA" in r.form()["update"][0]]
    assert len(inserts) == 2
    assert "<a:s> <a:p> <a:o>" in inserts[0]
    assert '_:b <a:p> "1"' in inserts[1] and "<a:s> <a:q> _:b" in inserts[1]
    assert any(
        r.form()["update"][0].startswith("ADD GRAPH <urn:uuid:") and "TO DEFAULT" in r.form()["update"][0]
        for r in fake.requests
    )


# ---------------------------------------------------------------------------------------
# 4. result caps
# ---------------------------------------------------------------------------------------
ROWS = [f"https://ex.org/p{n}" for n in range(7)]
CAP = 3


def _capped_server(request: Request) -> Answer:
    """Seven rows, never more than CAP in one answer, LIMIT and OFFSET honoured."""
    text = request.form()["query"][0]
    limit = re.search(r"LIMIT (\d+)", text)
    offset = re.search(r"OFFSET (\d+)", text)
    start = int(offset.group(1)) if offset else 0
    end = start + int(limit.group(1)) if limit else len(ROWS)
    rows = sorted(ROWS, reverse=True)[start:end][:CAP]  # descending: the client must not trust the order
    if "ORDER BY" in text:
        rows = sorted(ROWS)[start:end][:CAP]
    return Answer(
        body=_select(["patient"], [{"patient": _iri(r)} for r in rows]),
        headers={**JSON, "X-SPARQL-MaxRows": str(CAP)},
    )


def test_a_select_that_fills_the_servers_cap_is_refused_naming_the_cap(fake: FakeServer) -> None:
    """Never a shorter answer: paging was silently wrong on Virtuoso (test_virtuoso_cohort.py)."""
    fake.answer = _capped_server
    for text in (
        "SELECT ?patient WHERE { ?patient ?p ?o } LIMIT 100",
        "SELECT ?patient WHERE { ?patient a <https://ex.org/Patient> } ORDER BY ?patient",
    ):
        with pytest.raises(InputError, match=r"caps answers at 3 rows .*ResultSetMaxRows"):
            EndpointStore(fake.url).query(text)


def test_a_capped_graph_is_refused_never_shorter(fake: FakeServer) -> None:
    triples = "".join(f"<https://ex.org/s{n}> <https://ex.org/p> <https://ex.org/o> .\n" for n in range(CAP))
    fake.answer = lambda r: Answer(
        body=triples.encode(), headers={"Content-Type": "application/n-triples", "X-SPARQL-MaxRows": str(CAP)}
    )
    with pytest.raises(InputError, match="caps answers at 3 triples"):
        EndpointStore(fake.url).query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")


def test_an_answer_below_the_cap_is_taken_as_it_is(fake: FakeServer) -> None:
    fake.answer = lambda r: Answer(
        body=_select(["x"], [{"x": _iri("https://ex.org/a")}]), headers={**JSON, "X-SPARQL-MaxRows": "10000"}
    )
    result = EndpointStore(fake.url).query("SELECT ?x WHERE { ?x ?p ?o }")
    assert isinstance(result, SelectResult) and len(result.rows) == 1
    assert len(fake.requests) == 1


def test_a_partial_answer_of_an_anytime_query_is_refused(fake: FakeServer) -> None:
    fake.answer = lambda r: Answer(
        body=_select(["x"], [{"x": _iri("https://ex.org/a")}]),
        headers={
            **JSON,
            "X-SQL-State": "S1TAT",
            "X-SQL-Message": "RC...: Returning incomplete results, query interrupted by result timeout.",
        },
    )
    with pytest.raises(InputError, match="answered only part of the result .*Returning incomplete results"):
        EndpointStore(fake.url).query("SELECT ?x WHERE { ?x ?p ?o }")


# ---------------------------------------------------------------------------------------
# 5. errors and timeouts
# ---------------------------------------------------------------------------------------
VIRTUOSO_PAGE = b"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html><head><title>Error 500</title><style>body { font: 10pt }</style></head>
<body><h3>Error 500</h3>
<pre>Virtuoso 37000 Error SP031: SPARQL: Internal error: The input graph &lt;urn:x&gt; is not configured to have default graph</pre>
</body></html>"""


def test_the_reason_is_taken_out_of_an_html_error_page(fake: FakeServer) -> None:
    fake.answer = lambda r: Answer(status=500, body=VIRTUOSO_PAGE, headers={"Content-Type": "text/html"})
    with pytest.raises(InputError) as caught:
        EndpointStore(fake.url).query("SELECT ?x WHERE { ?x ?p ?o }")
    message = str(caught.value)
    assert message == (
        f"The SPARQL endpoint {fake.url} answered 500: Virtuoso 37000 Error SP031: SPARQL: Internal error: "
        "The input graph <urn:x> is not configured to have default graph."
    )


def test_a_long_reason_is_cut_to_one_line_of_200_characters(fake: FakeServer) -> None:
    fake.answer = lambda r: Answer(
        status=400, body=b"Syntax error:\n" + b"x" * 1000, headers={"Content-Type": "text/plain"}
    )
    with pytest.raises(InputError) as caught:
        EndpointStore(fake.url).query("SELECT ?x WHERE { ?x ?p ?o }")
    reason = str(caught.value).split("answered 400: ", 1)[1]
    assert "\n" not in reason and len(reason) <= 201 and reason.startswith("Syntax error: xxx")


@pytest.mark.parametrize(
    ("status", "words"),
    [(401, "needs authentication (401)"), (403, "refused permission (403)")],
)
def test_401_and_403_are_named_as_authentication_and_permission_problems(
    fake: FakeServer, status: int, words: str
) -> None:
    fake.answer = lambda r: Answer(status=status, body=b"")
    with pytest.raises(InputError, match=re.escape(words)):
        EndpointStore(fake.url).update("INSERT DATA { <a:s> <a:p> <a:o> }")


def test_a_server_that_does_not_answer_in_time_is_no_answer_not_unreachable(fake: FakeServer) -> None:
    fake.answer = lambda r: Answer(body=_select(["x"], []), delay=2.0)
    with pytest.raises(
        InputError, match=rf"^No answer from the SPARQL endpoint {re.escape(fake.url)} within 0.3 s"
    ):
        EndpointStore(fake.url, timeout=0.3).query("SELECT ?x WHERE { ?x ?p ?o }")


def test_a_refused_connection_is_cannot_reach() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(InputError, match=rf"^Cannot reach the SPARQL endpoint http://127.0.0.1:{port}/q: "):
        EndpointStore(f"http://127.0.0.1:{port}/q", timeout=5).query("ASK {}")


def test_the_cli_shows_an_endpoint_error_as_one_sentence_with_exit_2(cli, fake: FakeServer) -> None:
    fake.answer = lambda r: Answer(status=500, body=VIRTUOSO_PAGE, headers={"Content-Type": "text/html"})
    result = cli("query", "lookup-names", "--endpoint", fake.url, "--graph", "https://example.org/g")
    assert result.code == 2
    assert "not configured to have default graph" in result.err
    assert "<" + "!DOCTYPE" not in result.err and "Traceback" not in result.err


# ---------------------------------------------------------------------------------------
# 6. authentication
# ---------------------------------------------------------------------------------------
def _basic(user: str, password: str) -> Callable[[Request], Answer]:
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def answer(request: Request) -> Answer:
        if request.headers.get("authorization") != expected:
            return Answer(status=401, headers={"WWW-Authenticate": 'Basic realm="sparql"'})
        return Answer(body=b'{"head": {}, "boolean": true}', headers=JSON)

    return answer


def _digest(user: str, password: str) -> Callable[[Request], Answer]:
    realm, nonce = "SPARQL", "d41d8cd98f00b204"

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    def answer(request: Request) -> Answer:
        header = request.headers.get("authorization", "")
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header))
        if header.startswith("Digest ") and fields.get("username") == user:
            ha1 = md5(f"{user}:{realm}:{password}")
            ha2 = md5(f"{request.method}:{fields['uri']}")
            expected = md5(f"{ha1}:{nonce}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}")
            if fields.get("response") == expected:
                return Answer(body=b'{"head": {}, "boolean": true}', headers=JSON)
        challenge = f'Digest realm="{realm}", nonce="{nonce}", qop="auth", algorithm=MD5'
        return Answer(status=401, headers={"WWW-Authenticate": challenge})

    return answer


@pytest.mark.parametrize("scheme", [_basic, _digest])
def test_user_and_password_from_the_environment_authenticate(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch, scheme
) -> None:
    fake.answer = scheme("alice", "s3cret")
    monkeypatch.setenv(PASSWORD_VARIABLE, "s3cret")
    assert EndpointStore(fake.url, user="alice").query("ASK {}") is True
    monkeypatch.setenv(PASSWORD_VARIABLE, "wrong")
    with pytest.raises(InputError, match="needs authentication"):
        EndpointStore(fake.url, user="alice").query("ASK {}")


def test_credentials_come_from_netrc(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake.answer = _basic("bob", "from-netrc")
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login bob password from-netrc\n")
    netrc.chmod(0o600)
    assert EndpointStore(fake.url).query("ASK {}") is True  # the host's entry, no --user
    assert EndpointStore(fake.url, user="bob").query("ASK {}") is True
    with pytest.raises(InputError, match="--user carol needs a password: set CSFKG_ENDPOINT_PASSWORD"):
        EndpointStore(fake.url, user="carol")


def test_credentials_in_the_url_are_refused_with_what_to_do_instead(cli) -> None:
    with pytest.raises(InputError, match="Credentials in the URL example.org are not used: give --user NAME"):
        EndpointStore("http://alice:pw@example.org/sparql")
    result = cli("query", "lookup-names", "--endpoint", "http://alice:pw@example.org/sparql")
    assert result.code == 2
    assert "give --user NAME" in result.err and "pw" not in result.err.replace("password", "")


# ---------------------------------------------------------------------------------------
# 7. booleans
# ---------------------------------------------------------------------------------------
def test_booleans_come_back_as_booleans_whatever_their_lexical_form(fake: FakeServer) -> None:
    def typed(value: str) -> dict[str, str]:
        return {"type": "typed-literal", "datatype": BOOLEAN, "value": value}

    fake.answer = lambda r: Answer(
        body=_select(
            ["a", "b", "c"], [{"a": typed("1"), "b": typed("0"), "c": {"type": "literal", "value": "0"}}]
        ),
        headers=JSON,
    )
    result = EndpointStore(fake.url).query("SELECT ?a ?b ?c WHERE {}")
    assert isinstance(result, SelectResult)
    a, b, c = result.rows[0]
    assert a == Literal(True) and b == Literal(False)
    assert truth(a) and not truth(b)
    assert not truth(c)  # a computed boolean Virtuoso returns as a plain "0" is false


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        (Literal(True), True),
        (Literal(False), False),
        (Literal("1"), True),
        (Literal("0"), False),
        (Literal("true"), True),
        (Literal(1), True),
        (Literal(0), False),
        (Literal("0.0", datatype=DECIMAL), False),
        (None, False),
        (URIRef("https://ex.org/a"), False),
    ],
)
def test_truth_reads_every_spelling_of_a_computed_boolean(term, expected: bool) -> None:
    assert truth(term) is expected


def test_the_cli_timeout_option_reaches_the_store(cli, fake: FakeServer) -> None:
    fake.answer = lambda r: Answer(body=_select(["x"], []), headers=JSON, delay=2.0)
    result = cli("query", "lookup-names", "--endpoint", fake.url, "--timeout", "0.3")
    assert result.code == 2
    assert f"No answer from the SPARQL endpoint {fake.url} within 0.3 s" in result.err


def test_a_graph_that_is_not_an_iri_is_refused(cli, fake: FakeServer) -> None:
    result = cli("query", "lookup-names", "--endpoint", fake.url, "--graph", "my cohort")
    assert result.code == 2 and "--graph 'my cohort' is not an absolute IRI" in result.err
    assert fake.requests == []
