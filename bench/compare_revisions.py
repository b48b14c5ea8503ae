"""Side-by-side benchmark of two installed revisions of csfkg, in one run: no performance
regression (issue 19's acceptance: ``recommend`` median within 10%, the 100k-patient cohort
within 10% on both engines, the same rows).

    python -m venv /tmp/venv-old && /tmp/venv-old/bin/pip install '/path/to/old/checkout[test]'
    python bench/compare_revisions.py --old /tmp/venv-old/bin/csfkg --new "$(command -v csfkg)"

Each measurement runs the two revisions' console scripts alternately (old, new, old, new, ...)
so that the host's drift affects both alike, and prints the medians and the ratio new/old:

- ``csfkg recommend examples/seed-patient.ttl`` as a whole process, --runs times each;
- ``csfkg cohort FILE --today DATE`` on --patients synthetic patients (``csfkg synth --seed 7``,
  written once by the old revision and not timed), with the default engine and with
  ``--engine sql``, --cohort-runs times each; the CSVs of the two revisions are compared as
  parsed rows (Python's csv module), not as bytes.

Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str]) -> float:
    clock = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - clock
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return seconds


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def output_flag(script: str) -> str:
    """``--output`` where the revision has it, else the older ``--out``."""
    helptext = subprocess.run([script, "cohort", "--help"], capture_output=True, text=True).stdout
    return "--output" if "--output" in helptext else "--out"


def alternate(label: str, commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(timed(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    spread = "  ".join(f"{name} {min(v):.2f}-{max(v):.2f} s" for name, v in times.items())
    print(
        f"{label:34s} old {medians['old']:7.2f} s   new {medians['new']:7.2f} s   "
        f"new/old {medians['new'] / medians['old']:.3f}   ({runs} runs each; {spread})",
        flush=True,
    )
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="the old revision's csfkg console script")
    parser.add_argument("--new", required=True, help="the new revision's csfkg console script")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--today", default="2026-12-07")
    parser.add_argument("--runs", type=int, default=11, help="recommend runs per revision")
    parser.add_argument("--cohort-runs", type=int, default=3, help="cohort runs per revision and engine")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "csfkg-compare")
    parser.add_argument("--recommend-only", action="store_true", help="skip the cohort runs")
    parser.add_argument("--engines", nargs="+", default=["oxigraph", "sql"], choices=["oxigraph", "sql"])
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    scripts = {"old": args.old, "new": args.new}
    seed = str(ROOT / "examples" / "seed-patient.ttl")

    alternate(
        "recommend seed-patient.ttl", {n: [s, "recommend", seed] for n, s in scripts.items()}, args.runs
    )

    if args.recommend_only:
        return  # the SQL engine needs DuckDB in both environments (the sql or test extra)
    cohort = args.workdir / f"cohort-{args.patients}-seed7.nt"
    if not cohort.exists():
        subprocess.run(
            [
                args.old,
                "synth",
                "--patients",
                str(args.patients),
                "--seed",
                "7",
                output_flag(args.old),
                str(cohort),
            ],
            check=True,
            capture_output=True,
        )
    for engine in args.engines:
        outs = {n: args.workdir / f"{n}-{engine}.csv" for n in scripts}
        commands = {
            n: [
                s,
                "cohort",
                str(cohort),
                "--engine",
                engine,
                "--today",
                args.today,
                output_flag(s),
                str(outs[n]),
            ]
            for n, s in scripts.items()
        }
        alternate(f"cohort {args.patients} --engine {engine}", commands, args.cohort_runs)
        same = rows(outs["old"]) == rows(outs["new"])
        print(f"{'':34s} same rows: {same} ({len(rows(outs['new'])) - 1} patients)", flush=True)


if __name__ == "__main__":
    main()
