"""Shared fixtures: paths, the command line run in-process, and patient graphs."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SEED = REPO / "examples" / "seed-patient.ttl"


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run ``csfkg ARGS...`` in-process; returns exit code, stdout and stderr."""
    from csfkg.cli.main import run

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return CliResult(code=code, out=captured.out, err=captured.err)

    return invoke


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def oxigraph_server(tmp_path: Path):
    binary = shutil.which("oxigraph")
    if binary is None:
        pytest.skip("the oxigraph server (pip install oxigraph, in the test extra) is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "serve", "--location", str(tmp_path / "server"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/query?query=ASK%7B%7D", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


VIRTUOSO_GRANTS = (
    # the SPARQL endpoint runs as the SQL user "SPARQL": updates need SPARQL_UPDATE and the
    # procedures INSERT/DELETE call; the Graph Store protocol writes as "nobody"
    'GRANT SPARQL_UPDATE TO "SPARQL";'
    ' GRANT EXECUTE ON DB.DBA.SPARQL_INSERT_DICT_CONTENT TO "SPARQL";'
    ' GRANT EXECUTE ON DB.DBA.SPARQL_DELETE_DICT_CONTENT TO "SPARQL";'
    " DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);"
)


@dataclass(frozen=True)
class VirtuosoServer:
    """A Virtuoso instance of the tests: its SPARQL endpoint, its SQL (isql) port, the row cap of
    its config (``ResultSetMaxRows``) and the seconds it took to start."""

    sparql: str
    sql_port: int
    max_rows: int
    seconds_to_start: float


def start_virtuoso(folder: Path, *, max_rows: int):
    """A Virtuoso server of its own in ``folder`` (database, log and config there), on free
    127.0.0.1 ports, with SPARQL updates granted; yields a :class:`VirtuosoServer`, stops it after.
    Skips where Debian's ``virtuoso-opensource`` (``virtuoso-t``, ``isql-vt``) is not installed."""
    binary = shutil.which("virtuoso-t")
    isql = shutil.which("isql-vt")
    if binary is None or isql is None:
        pytest.skip("Virtuoso (Debian virtuoso-opensource: virtuoso-t and isql-vt) is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = _free_port(), _free_port()
    config = folder / "virtuoso.ini"
    config.write_text(
        "[Database]\n"
        f"DatabaseFile = {folder}/virtuoso.db\n"
        f"ErrorLogFile = {folder}/virtuoso.log\n"
        f"LockFile = {folder}/virtuoso.lck\n"
        f"TransactionFile = {folder}/virtuoso.trx\n"
        f"xa_persistent_file = {folder}/virtuoso.pxa\n"
        "TempStorage = TempDatabase\n"
        "[TempDatabase]\n"
        f"DatabaseFile = {folder}/virtuoso-temp.db\n"
        f"TransactionFile = {folder}/virtuoso-temp.trx\n"
        "[Parameters]\n"
        f"ServerPort = 127.0.0.1:{sql_port}\n"
        "DisableUnixSocket = 1\n"
        "CheckpointInterval = 0\n"
        f"DirsAllowed = ., {folder}\n"
        "NumberOfBuffers = 20000\n"
        "MaxDirtyBuffers = 15000\n"
        "[HTTPServer]\n"
        f"ServerPort = 127.0.0.1:{http_port}\n"
        f"ServerRoot = {folder}\n"
        "ServerThreads = 4\n"
        "[SPARQL]\n"
        f"ResultSetMaxRows = {max_rows}\n"
        # no time limits: with one, Virtuoso returns what it found so far ("anytime" answers)
        "MaxQueryExecutionTime = 0\n"
        "MaxQueryCostEstimationTime = 0\n"
    )
    clock = time.perf_counter()
    log = (folder / "stdout.log").open("wb")
    process = subprocess.Popen(
        [binary, "+foreground", "+configfile", str(config)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sparql = f"http://127.0.0.1:{http_port}/sparql"
    try:
        for _ in range(600):
            if process.poll() is not None:
                pytest.fail(
                    f"virtuoso-t exited with {process.returncode}: {(folder / 'stdout.log').read_text()}"
                )
            try:
                urllib.request.urlopen(sparql + "?query=ASK%7B%7D", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"Virtuoso did not answer on {sparql} within 60 s")
        granted = subprocess.run(
            [isql, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={VIRTUOSO_GRANTS}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if granted.returncode != 0 or "Error" in granted.stdout + granted.stderr:
            pytest.fail(f"Virtuoso refused the grants: {granted.stdout} {granted.stderr}")
        yield VirtuosoServer(sparql, sql_port, max_rows, time.perf_counter() - clock)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory):
    """A Virtuoso instance for the session, its row cap above any answer of the tests."""
    yield from start_virtuoso(tmp_path_factory.mktemp("virtuoso"), max_rows=1_000_000)


@pytest.fixture(scope="session")
def virtuoso_low_cap(tmp_path_factory: pytest.TempPathFactory):
    """A second Virtuoso instance whose answers are cut at 500 rows (``ResultSetMaxRows``)."""
    yield from start_virtuoso(tmp_path_factory.mktemp("virtuoso-low-cap"), max_rows=500)
