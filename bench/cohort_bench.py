"""Cohort benchmark: prints every figure issue 4 names, measured in one run.

    python bench/cohort_bench.py                      # 10k, 100k and 1M patients
    python bench/cohort_bench.py --sizes 10000 100000 # fewer sizes

For each size N it writes a synthetic cohort (``csfkg synth``, seed 1; cached in --workdir, not
timed), then runs ``csfkg cohort FILE --out results.csv`` in a child process - the command's own
code path: the file cut into parts of whole records, each loaded, checked, SHACL-validated and
derived in its own in-memory Oxigraph store, one process per core - and prints

- wall-clock seconds end to end (start of the command to the CSV on disk), and the
  seconds of each stage summed over all parts (load + record check, prepare, validate, derive,
  report: core-seconds, which run two at a time on two cores);
- the peak memory of the whole process tree (sum of the resident sets of the command and its
  workers, sampled every 50 ms);

then, on the same machine in the same run:

- derivation on rdflib's in-memory store against embedded Oxigraph, the same derive-*.rq
  queries on the same cohort (--rdflib-size patients, small enough for rdflib to finish), and the
  ratio;
- SHACL validation: the compiled validator (the shapes compiled to set-at-a-time SPARQL) against
  pySHACL on the same records, and the ratio;
- ``csfkg recommend examples/seed-patient.ttl`` as a whole process: median of 7 runs.

The targets are printed beside the figures; nothing is asserted (this is a measurement, not a
test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-03-01"


def tree_rss(root: int) -> int:
    """Resident set size of ``root`` and all its descendants, in bytes (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    members = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                changed = True
    total = 0
    for pid in members:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def run_measured(command: list[str]) -> tuple[float, int, str]:
    """Run a command; returns wall seconds, peak tree RSS in bytes, and its stdout."""
    peak = 0
    clock = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - clock
    done.set()
    sampler.join()
    if process.returncode not in (0, 1):  # 1: some synthetic records violate a shape, by design
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {err.strip()[-500:]}")
    return seconds, peak, out


def cohort_file(workdir: Path, size: int) -> Path:
    path = workdir / f"cohort-{size}.nt"
    if not path.exists():
        from csfkg.synth import write_cohort_file

        partial = path.with_suffix(".partial.nt")
        write_cohort_file(partial, patients=size, seed=1)
        partial.replace(path)
    return path


def one_cohort(path: Path, out: Path, validate: bool = True) -> None:
    """Child process: the cohort command's code path, with its stage seconds as JSON."""
    from csfkg.cohort import write_csv
    from csfkg.cohort_parts import run_cohort_file

    clock = time.perf_counter()
    run = run_cohort_file(path, today=date.fromisoformat(TODAY), validate_records=validate)
    write_csv(run, out)
    violations = sum(1 for row in run.rows if any(v.is_violation for v in row.violations))
    print(json.dumps({
        "patients": len(run.rows), "violations": violations, "parts": run.parts, "workers": run.workers,
        "core_seconds": run.core_seconds, "seconds": time.perf_counter() - clock,
    }))


def derivation_ratio(path: Path) -> dict[str, float]:
    """Derivation seconds on rdflib's store and on embedded Oxigraph, same queries and cohort."""
    from csfkg.cohort import add_knowledge, derive_store, load_files, set_assessment_dates
    from csfkg.stores import OxigraphStore, RdflibStore

    figures: dict[str, float] = {}
    for name, store in (("oxigraph", OxigraphStore()), ("rdflib", RdflibStore())):
        load_files(store, [path])
        add_knowledge(store)
        set_assessment_dates(store, date.fromisoformat(TODAY))
        clock = time.perf_counter()
        derive_store(store)
        figures[name] = time.perf_counter() - clock
    return figures


def validation_ratio(path: Path, sample: int) -> dict[str, float]:
    """Compiled validation of the whole cohort, and pySHACL on the records of ``sample``
    patients, per patient."""
    from csfkg.cohort import add_knowledge, load_files, patients_of, set_assessment_dates, validate_store
    from csfkg.stores import OxigraphStore

    store = OxigraphStore()
    load_files(store, [path])
    add_knowledge(store)
    set_assessment_dates(store, date.fromisoformat(TODAY))
    patients = patients_of(store)
    clock = time.perf_counter()
    validate_store(store, patients)
    compiled = time.perf_counter() - clock
    from csfkg.cohort import validate_store_pyshacl

    clock = time.perf_counter()
    validate_store_pyshacl(store, patients[:sample])
    pyshacl = time.perf_counter() - clock
    return {"patients": len(patients), "compiled": compiled, "compiled_per_patient": compiled / len(patients), "pyshacl_per_patient": pyshacl / sample}


def recommend_seconds(runs: int = 7) -> list[float]:
    times = []
    for _ in range(runs):
        clock = time.perf_counter()
        subprocess.run(["csfkg", "recommend", str(ROOT / "examples" / "seed-patient.ttl")], check=True, capture_output=True)
        times.append(time.perf_counter() - clock)
    return times


def machine() -> str:
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import pyoxigraph
    import rdflib

    return (f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, Python {platform.python_version()}, "
            f"pyoxigraph {pyoxigraph.__version__}, rdflib {rdflib.__version__}, load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--rdflib-size", type=int, default=1_000, help="cohort for the rdflib ratio")
    parser.add_argument("--validation-size", type=int, default=100_000, help="cohort for the validation figure")
    parser.add_argument("--pyshacl-sample", type=int, default=50)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "csfkg-bench")
    parser.add_argument("--no-validate", action="store_true", help="cohort runs without SHACL validation")
    parser.add_argument("--skip", nargs="*", default=[], choices=["validation", "rdflib", "recommend"], help="sections to leave out")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_cohort(args.one, args.out, validate=not args.no_validate)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    print("\n== csfkg cohort FILE --out results.csv (validate + derive + CSV) ==   target: 1M <= 120 s, <= 8 GiB")
    print(f"{'patients':>9} {'triples':>10} {'wall s':>8} {'peak GiB':>9} | core-seconds: {'load':>6} {'prep':>6} {'valid':>6} {'derive':>7} {'report':>7} | parts workers  violations")
    for size in args.sizes:
        path = cohort_file(args.workdir, size)
        triples = sum(1 for _ in open(path, "rb"))
        command = [sys.executable, __file__, "--one", str(path), "--out", str(args.workdir / f"results-{size}.csv")]
        wall, peak, out = run_measured(command + (["--no-validate"] if args.no_validate else []))
        figures = json.loads(out.strip().splitlines()[-1])
        core = figures["core_seconds"]
        print(f"{size:>9} {triples:>10} {wall:>8.1f} {peak / 2**30:>9.2f} | {'':14}{core.get('load', 0):>6.1f} {core.get('prepare', 0):>6.1f} "
              f"{core.get('validate', 0):>6.1f} {core.get('derive', 0):>7.1f} {core.get('report', 0):>7.1f} | {figures['parts']:>5} {figures['workers']:>7} {figures['violations']:>11}", flush=True)

    if args.no_validate:
        print("(cohort runs above without SHACL validation: --no-validate)")
    if "validation" not in args.skip:
        validation_section(args)
    if "rdflib" not in args.skip:
        print(f"\n== derivation, same derive-*.rq queries, {args.rdflib_size} patients, one core ==   target: >= 50x rdflib")
        ratio = derivation_ratio(cohort_file(args.workdir, args.rdflib_size))
        print(f"rdflib in-memory: {ratio['rdflib']:.2f} s; embedded Oxigraph: {ratio['oxigraph']:.2f} s; ratio {ratio['rdflib'] / ratio['oxigraph']:.0f}x", flush=True)
    if "recommend" not in args.skip:
        print("\n== csfkg recommend examples/seed-patient.ttl, whole process ==   target: median <= 1.0 s")
        times = recommend_seconds()
        print(f"median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})")


def validation_section(args: argparse.Namespace) -> None:
    print(f"\n== SHACL validation, {args.validation_size} patients, one store, one core ==   target: 100k <= 10 s")
    validation = validation_ratio(cohort_file(args.workdir, args.validation_size), args.pyshacl_sample)
    print(f"compiled (shapes as set-at-a-time SPARQL on Oxigraph): {validation['compiled']:.2f} s ({validation['compiled_per_patient'] * 1e6:.0f} us/patient)")
    print(f"pySHACL, {args.pyshacl_sample} patients' records: {validation['pyshacl_per_patient'] * 1e3:.0f} ms/patient "
          f"-> {validation['pyshacl_per_patient'] * validation['patients']:.0f} s estimated; ratio {validation['pyshacl_per_patient'] / validation['compiled_per_patient']:.0f}x", flush=True)



if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
