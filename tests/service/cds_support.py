"""What the CDS Hooks service tests share: the response schemas (written from the CDS Hooks 2.0
specification), the seed requests of examples/cds-hooks/, and the real server with a client.
(Not a conftest.py: a second module named conftest would shadow tests/conftest.py for the test
modules that import from it.)"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REQUESTS = REPO / "examples" / "cds-hooks"
SEED_TODAY = "2026-01-29"
"""The assessment date of examples/seed-patient.ttl: the seed requests give its answer on it."""


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((HERE / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


RESPONSE = _validator("cds-hooks-response.schema.json")
DISCOVERY = _validator("cds-hooks-discovery.schema.json")


def seed_request(hook: str) -> dict[str, Any]:
    """The seed patient's request for ``hook`` (order-select or order-sign), a fresh copy."""
    return json.loads((REQUESTS / f"{hook}-seed.json").read_text(encoding="utf-8"))


class Server:
    """A running ``csfkg serve``: ``get`` and ``post`` return (status, parsed JSON or None)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def _call(self, request: urllib.request.Request) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        return status, json.loads(body) if body else None

    def get(self, path: str) -> tuple[int, Any]:
        return self._call(urllib.request.Request(self.base + path))

    def post(self, path: str, body: bytes | dict[str, Any] | list[Any]) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.base + path, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        return self._call(request)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def cds_server():
    """``csfkg serve`` (the console script, in a subprocess) on 127.0.0.1 and a free port, with
    the seed's assessment date; stopped at the end of the module."""
    script = Path(sys.executable).with_name("csfkg")
    port = free_port()
    process = subprocess.Popen(
        [str(script), "serve", "--host", "127.0.0.1", "--port", str(port), "--today", SEED_TODAY],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = Server(f"http://127.0.0.1:{port}")
    try:
        for _ in range(600):
            if process.poll() is not None:
                pytest.fail(f"csfkg serve exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                if server.get("/cds-services")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("csfkg serve did not answer discovery within 60 s")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
