"""CDS Hooks service benchmark (issue 23): the latency of ``POST /cds-services/{id}`` for the seed
patient, and the obvious alternative in the same run.

    python bench/cds_bench.py                    # 200 order-select requests, 11 recommend processes
    python bench/cds_bench.py --requests 1000 --hook order-sign

It starts ``csfkg serve`` (the console script beside this Python, uvicorn on 127.0.0.1 and a free
port, ``--today 2026-01-29``, the seed's assessment date), waits for discovery, sends the seed
request of examples/cds-hooks/ a few times unmeasured, then ``--requests`` times one after the
other, and prints the start-up time and the p50 / p95 / p99 / max latency against the target
(p95 <= 300 ms on this machine). Then the alternative: one ``csfkg recommend`` process per
request on the same patient (the Bundle the service assembles from prefetch and draft orders,
written to a file), its median over ``--alternative-runs``, and the ratio to the service's p50.

Nothing is asserted: this is a measurement, not a test; figures
belong in bench/README.md and the commit message.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REQUESTS = REPO / "examples" / "cds-hooks"
TODAY = "2026-01-29"
TARGET_P95_MS = 300.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _script() -> str:
    beside = Path(sys.executable).with_name("csfkg")
    return str(beside) if beside.exists() else "csfkg"


def _alternative(hook: str, hook_request: bytes, runs: int) -> tuple[str, list[float]]:
    """Seconds of ``csfkg recommend`` as a whole process, once per run, on the Bundle the service
    assembles."""
    from csfkg.service.discovery import SERVICES
    from csfkg.service.hook_requests import parse_hook_request
    from csfkg.service.orders import patient_bundle

    request = parse_hook_request(SERVICES[f"csfkg-{hook}"], hook_request)
    with tempfile.TemporaryDirectory() as folder:
        bundle = Path(folder) / "seed-bundle.json"
        bundle.write_text(json.dumps(patient_bundle(request)), encoding="utf-8")
        argv = [_script(), "recommend", str(bundle), "--format", "json", "--today", TODAY]
        what = "csfkg recommend seed-bundle.json (the Bundle the service assembles)"
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
    return what, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests (default 200)")
    parser.add_argument("--warm", type=int, default=5, help="unmeasured requests first (default 5)")
    parser.add_argument("--hook", choices=["order-select", "order-sign"], default="order-select")
    parser.add_argument(
        "--alternative-runs", type=int, default=11, help="csfkg recommend processes (default 11)"
    )
    args = parser.parse_args()

    body = (REQUESTS / f"{args.hook}-seed.json").read_bytes()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/cds-services/csfkg-{args.hook}"
    print(f"host: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    started = time.perf_counter()
    server = subprocess.Popen(
        [_script(), "serve", "--port", str(port), "--today", TODAY],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(1200):
            try:
                with urllib.request.urlopen(f"{base}/cds-services", timeout=5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            print("csfkg serve did not answer discovery within 60 s")
            return 2
        startup = time.perf_counter() - started
        status, answer = _post(url, body)
        if status != 200:
            print(f"the service answered {status}: {answer.decode(errors='replace')}")
            print("this benchmark needs the FHIR import (csfkg.fhir.bundles, issue 23's other half).")
            return 2
        cards = json.loads(answer)["cards"]
        print(
            f"start-up to discovery: {startup:.2f} s (warm-up included); first answer: {len(cards)} card(s)"
        )
        for _ in range(args.warm):
            _post(url, body)
        latencies = []
        for _ in range(args.requests):
            start = time.perf_counter()
            status, _ = _post(url, body)
            latencies.append((time.perf_counter() - start) * 1000)
            if status != 200:
                print(f"a measured request got {status}")
                return 2
    finally:
        server.terminate()
        server.wait(timeout=10)

    p50, p95 = statistics.median(latencies), _percentile(latencies, 0.95)
    print(f"\n{args.hook}, seed patient, {args.requests} requests one after the other (ms):")
    print(
        f"  p50 {p50:.1f}   p95 {p95:.1f}   p99 {_percentile(latencies, 0.99):.1f}   max {max(latencies):.1f}"
    )
    verdict = "meets" if p95 <= TARGET_P95_MS else "MISSES"
    print(f"  target p95 <= {TARGET_P95_MS:.0f} ms: {verdict}")

    what, times = _alternative(args.hook, body, args.alternative_runs)
    median = statistics.median(times) * 1000
    print(f"\nthe alternative, one process per request: {what}")
    print(f"  median of {len(times)}: {median:.0f} ms = {median / p50:.1f}x the service's p50")
    return 0


if __name__ == "__main__":
    sys.exit(main())
