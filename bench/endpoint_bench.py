"""Cohort speed through a SPARQL server: ``csfkg cohort FILE --endpoint ... --graph ...`` against a
real ``oxigraph serve`` that this script starts on 127.0.0.1 (and stops), validation included,
beside the obvious alternative, the embedded default engine on the same file, in the same run.

    python bench/endpoint_bench.py [--patients 10000] [--seed 7] [--today 2026-12-07]

The server runs twice: in memory (``oxigraph serve`` without ``--location``) and persistent
(RocksDB in a folder, as the tests run it). Prints patients per second for each and the embedded
engine, the ratios, and whether the CSVs hold the same rows.
Target (issue 20): >= 200 patients/s through ``oxigraph serve`` for 10k patients.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return sorted(csv.reader(stream))


def _run(command: list[str]) -> float:
    clock = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - clock
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", default="2026-12-07")
    args = parser.parse_args()
    csfkg, oxigraph = shutil.which("csfkg"), shutil.which("oxigraph")
    if csfkg is None or oxigraph is None:
        sys.exit("needs the csfkg and oxigraph commands (pip install -e '.[test]')")
    with tempfile.TemporaryDirectory(prefix="csfkg-endpoint-bench-") as folder:
        work = Path(folder)
        cohort = work / "cohort.nt"
        subprocess.run(
            [csfkg, "synth", "--patients", str(args.patients), "--seed", str(args.seed), "-o", str(cohort)],
            check=True,
            capture_output=True,
        )
        embedded_csv, server_csv = work / "embedded.csv", work / "server.csv"
        embedded = _run([csfkg, "cohort", str(cohort), "--today", args.today, "-o", str(embedded_csv)])
        timings: dict[str, float] = {}
        same = True
        for kind in ("in memory", "persistent"):
            port = _free_port()
            location = ["--location", str(work / "server")] if kind == "persistent" else []
            server = subprocess.Popen(
                [oxigraph, "serve", *location, "--bind", f"127.0.0.1:{port}"],
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
                timings[kind] = _run(
                    [
                        csfkg,
                        "cohort",
                        str(cohort),
                        "--endpoint",
                        base + "/query",
                        "--update-url",
                        base + "/update",
                        "--graph-store-url",
                        base + "/store",
                        "--graph",
                        "https://example.org/csfkg/bench",
                        "--today",
                        args.today,
                        "-o",
                        str(server_csv),
                    ]
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
            same = same and _rows(embedded_csv) == _rows(server_csv)
    n = args.patients
    print(f"== cohort of {n} patients (synth --seed {args.seed}), validation included ==")
    print(f"embedded default engine  {embedded:7.2f} s  {n / embedded:8.1f} patients/s")
    for kind, seconds in timings.items():
        print(
            f"oxigraph serve, {kind:10s} {seconds:7.2f} s  {n / seconds:8.1f} patients/s   target >= 200; "
            f"{seconds / embedded:.2f}x the embedded time"
        )
    print(f"same rows as embedded: {same}")


if __name__ == "__main__":
    main()
