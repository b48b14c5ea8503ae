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

- SHACL validation of --validation-size patients partitioned as ``csfkg cohort`` partitions it
  (its parts, one process per core, every part loaded before the clock starts: measured wall
  time), by the SQL engine (the whole file in DuckDB, loaded before the clock starts), in one
  store on one core, and pySHACL on a sample of the same records, with the ratio;
- derivation on rdflib's in-memory store against embedded Oxigraph: the same derive-*.rq
  queries on the same parts of the same cohort (--rdflib-size patients, small enough for rdflib
  to finish; rdflib's cost per patient does not depend on the part size), and the ratio;
- where the time goes: microseconds per patient of each stage, and of the derivation's WHERE
  clauses alone (nothing written), which bounds what this engine can do with these queries;
- ``csfkg recommend examples/seed-patient.ttl`` as a whole process: median of 7 runs.

The targets are printed beside the figures; nothing is asserted (this is a measurement, not a
test).
"""

from __future__ import annotations

import argparse
import csv
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
        from csfkg.cohort.synth import write_cohort_file

        partial = path.with_suffix(".partial.nt")
        write_cohort_file(partial, patients=size, seed=1)
        partial.replace(path)
    return path


def one_cohort(path: Path, out: Path, validate: bool = True, engine: str = "oxigraph") -> None:
    """Child process: the cohort command's code path (``--engine``), with its stage seconds as
    JSON."""
    from csfkg.cohort.run import write_csv

    clock = time.perf_counter()
    if engine == "sql":
        from csfkg.cohort.sql_engine import run_cohort_sql

        run = run_cohort_sql(path, today=date.fromisoformat(TODAY), validate_records=validate)
        parts, workers, core = 1, 1, run.seconds  # DuckDB runs each stage on every core itself
    else:
        from csfkg.cohort.parts import run_cohort_file

        run = run_cohort_file(path, today=date.fromisoformat(TODAY), validate_records=validate)
        parts, workers, core = run.parts, run.workers, run.core_seconds
    write_csv(run, out)
    violations = run.blocked
    print(
        json.dumps(
            {
                "patients": len(run.rows),
                "violations": violations,
                "parts": parts,
                "workers": workers,
                "core_seconds": core,
                "seconds": time.perf_counter() - clock,
            }
        )
    )


def parts_of(path: Path) -> list:
    """The parts ``csfkg cohort`` cuts the file into (kg/file_parts.py, the default part size)."""
    from csfkg.cohort.file_parts import split_file
    from csfkg.cohort.parts import DEFAULT_PART_BYTES

    return split_file(path, DEFAULT_PART_BYTES)


def prepared_store(kind: str, data: bytes):
    """A store of ``kind`` holding one part, the knowledge graph and the assessment dates."""
    import pyoxigraph
    from rdflib import Graph

    from csfkg.cohort.run import add_knowledge, set_assessment_dates
    from csfkg.stores import OxigraphStore, RdflibStore

    if kind == "oxigraph":
        store = OxigraphStore()
        store.store.load(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
    else:
        graph = Graph()
        graph.parse(data=data, format="nt")
        store = RdflibStore(graph)
    add_knowledge(store)
    set_assessment_dates(store, date.fromisoformat(TODAY))
    return store


def _warm_up(parts: list, kind: str = "oxigraph") -> None:
    """What a long run pays once (knowledge parsed, shapes compiled, queries parsed and cached),
    paid before the clock starts: the whole pipeline on the first 200 lines of the first part."""
    from csfkg.cohort.parts import warm
    from csfkg.cohort.run import patients_of, read_rows
    from csfkg.pipeline.derive import derive_in as derive_store
    from csfkg.validation.in_store import validate_store

    warm()
    store = prepared_store(kind, b"".join(parts[0].read().splitlines(keepends=True)[:200]))
    found = validate_store(store, patients_of(store)) if kind == "oxigraph" else {}
    derive_store(store)
    read_rows(store, found)


def derivation_ratio(path: Path) -> dict[str, float]:
    """Derivation seconds on rdflib's in-memory store and on embedded Oxigraph: the same
    derive-*.rq queries on the same parts of the same cohort (the parts ``csfkg cohort`` runs),
    one core, loading not timed."""
    from csfkg.pipeline.derive import derive_in as derive_store

    parts = parts_of(path)
    figures: dict[str, float] = {"parts": len(parts)}
    for name in ("oxigraph", "rdflib"):
        _warm_up(parts, name)
        total = 0.0
        for part in parts:
            store = prepared_store(name, part.read())
            clock = time.perf_counter()
            derive_store(store)
            total += time.perf_counter() - clock
        figures[name] = total
    return figures


def _validate_parts(parts: list, barrier, results) -> None:
    """Worker: load its parts (not timed), wait for the others, validate them all."""
    from csfkg.cohort.run import patients_of
    from csfkg.validation.in_store import validate_store

    stores = [prepared_store("oxigraph", part.read()) for part in parts]
    barrier.wait()
    clock = time.perf_counter()
    patients = 0
    for store in stores:
        members = patients_of(store)
        validate_store(store, members)
        patients += len(members)
    results.put((clock, time.perf_counter(), patients))


def validation_partitioned(path: Path, workers: int) -> dict[str, float]:
    """Compiled SHACL validation of a whole cohort partitioned across ``workers`` processes, as
    ``csfkg cohort`` partitions it: wall seconds from the moment every part is loaded (a barrier)
    to the last worker done (time.perf_counter is CLOCK_MONOTONIC, one clock for all processes)."""
    import multiprocessing

    from csfkg.cohort.parts import warm

    warm()  # as csfkg cohort does before its workers fork: shapes compiled, knowledge parsed
    context = multiprocessing.get_context("fork")
    parts = parts_of(path)
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(target=_validate_parts, args=(parts[i::workers], barrier, results))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    finished = [results.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a validation worker failed ({process.exitcode})")
    start = min(f[0] for f in finished)
    end = max(f[1] for f in finished)
    return {
        "seconds": end - start,
        "patients": sum(f[2] for f in finished),
        "parts": len(parts),
        "workers": workers,
    }


def validation_ratio(path: Path, sample: int) -> dict[str, float]:
    """Compiled validation of the whole cohort, and pySHACL on the records of ``sample``
    patients, per patient."""
    from csfkg.cohort.run import add_knowledge, load_files, patients_of, set_assessment_dates
    from csfkg.stores import OxigraphStore
    from csfkg.validation.in_store import validate_store

    _warm_up(parts_of(path))
    store = OxigraphStore()
    load_files(store, [path])
    add_knowledge(store)
    set_assessment_dates(store, date.fromisoformat(TODAY))
    patients = patients_of(store)
    clock = time.perf_counter()
    validate_store(store, patients)
    compiled = time.perf_counter() - clock
    from csfkg.validation.in_store import validate_store_pyshacl

    clock = time.perf_counter()
    validate_store_pyshacl(store, patients[:sample])
    pyshacl = time.perf_counter() - clock
    return {
        "patients": len(patients),
        "compiled": compiled,
        "compiled_per_patient": compiled / len(patients),
        "pyshacl_per_patient": pyshacl / sample,
    }


def per_patient_floor(path: Path) -> dict[str, float]:
    """Microseconds per patient of each stage on the parts of ``path`` (one core), and what
    derivation costs without writing anything: each derive-*.rq WHERE clause counted
    (``SELECT (COUNT(*) AS ?n)``) once every stage has run, so each sees the facts it reads.
    The sum of load, validate, derive-WHERE-only and report is a floor for this engine with these
    queries: what no choice of derived triples can go below."""
    from csfkg.cohort.run import patients_of, read_rows
    from csfkg.pipeline.derive import derive_in as derive_store
    from csfkg.sparql.library import derivation_queries
    from csfkg.validation.in_store import validate_store

    totals = {"load+prepare": 0.0, "validate": 0.0, "derive": 0.0, "derive WHERE only": 0.0, "report": 0.0}
    patients = 0
    selects = []
    for query in derivation_queries():
        head, _, rest = query.text.partition("CONSTRUCT")
        selects.append(head + "SELECT (COUNT(*) AS ?n)\n" + rest[rest.index("WHERE") :])
    parts = parts_of(path)
    _warm_up(parts)
    for part in parts:
        data = part.read()
        clock = time.perf_counter()
        store = prepared_store("oxigraph", data)
        members = patients_of(store)
        totals["load+prepare"] += time.perf_counter() - clock
        patients += len(members)
        clock = time.perf_counter()
        found = validate_store(store, members)
        totals["validate"] += time.perf_counter() - clock
        clock = time.perf_counter()
        derive_store(store)
        totals["derive"] += time.perf_counter() - clock
        clock = time.perf_counter()
        read_rows(store, found)
        totals["report"] += time.perf_counter() - clock
        clock = time.perf_counter()
        for text in selects:
            list(store.store.query(text))
        totals["derive WHERE only"] += time.perf_counter() - clock
    return {stage: seconds / patients * 1e6 for stage, seconds in totals.items()}


def recommend_seconds(runs: int = 7) -> list[float]:
    times = []
    for _ in range(runs):
        clock = time.perf_counter()
        subprocess.run(
            ["csfkg", "recommend", str(ROOT / "examples" / "seed-patient.ttl")],
            check=True,
            capture_output=True,
        )
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

    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, Python {platform.python_version()}, "
        f"pyoxigraph {pyoxigraph.__version__}, rdflib {rdflib.__version__}, load average {os.getloadavg()[0]:.2f}"
    )


def yardstick() -> str:
    """Seconds of two fixed workloads, to compare runs made at different moments on a host whose
    speed moves (this one's by a third within minutes): pure Python on one core (rdflib-like
    work: strings hashed and sorted), and a DuckDB hash aggregation on every core (the SQL
    engine's kind of work). The same code's figures scale with these."""
    import hashlib
    import random

    rng = random.Random(1)
    words = [f"https://example.org/p{rng.randrange(10**9)}/study-{i}" for i in range(300_000)]
    clock = time.perf_counter()
    for _ in range(3):
        sorted(hashlib.sha1(w.encode()).hexdigest() for w in words)
    python = time.perf_counter() - clock
    try:
        import duckdb
    except ImportError:
        return f"python {python:.2f} s"
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    clock = time.perf_counter()
    connection.execute(
        "SELECT count(*) FROM (SELECT hash(i % 7000000) AS k, count(*) FROM range(40000000) r(i) GROUP BY k)"
    ).fetchone()
    return f"python {python:.2f} s, duckdb {time.perf_counter() - clock:.2f} s"


def csv_rows(path: Path) -> list[list[str]]:
    """A CSV's rows as the csv module reads them: the engines are compared by their rows, not by
    their bytes."""
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--rdflib-size", type=int, default=3_000, help="cohort for the rdflib ratio")
    parser.add_argument(
        "--validation-size", type=int, default=100_000, help="cohort for the validation figure"
    )
    parser.add_argument("--pyshacl-sample", type=int, default=50)
    parser.add_argument(
        "--floor-size", type=int, default=10_000, help="cohort for the where-the-time-goes section"
    )
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "csfkg-bench")
    parser.add_argument("--no-validate", action="store_true", help="cohort runs without SHACL validation")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["validation", "rdflib", "floor", "recommend"],
        help="sections to leave out",
    )
    parser.add_argument(
        "--engines",
        nargs="+",
        default=["oxigraph", "sql"],
        choices=["oxigraph", "sql"],
        help="csfkg cohort --engine values to run",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each cohort size and engine (the median is printed)"
    )
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="oxigraph", help=argparse.SUPPRESS)
    parser.add_argument("--section", choices=["validation", "rdflib", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_cohort(args.one, args.out, validate=not args.no_validate, engine=args.engine)
        return
    if args.section:
        SECTIONS[args.section](args)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    print(
        f"yardstick at the start (fixed workloads; a slower host moment makes every figure larger): {yardstick()}",
        flush=True,
    )
    print(
        "\n== csfkg cohort FILE --out results.csv (validate + derive + CSV) ==   target: 1M <= 120 s, <= 8 GiB"
    )
    print(
        "(engine oxigraph: parts on one process a core, stage figures are core-seconds summed over the parts;"
    )
    print(
        " engine sql: the whole file in DuckDB, which runs each stage on every core: stage figures are wall seconds)"
    )
    print(
        f"{'patients':>9} {'triples':>10} {'engine':>8} {'wall s':>8} {'peak GiB':>9} | stages s: {'load':>6} {'prep':>6} {'valid':>6} {'derive':>7} {'report':>7} | parts workers  violations"
    )
    for size in args.sizes:
        path = cohort_file(args.workdir, size)
        triples = sum(1 for _ in open(path, "rb"))
        walls: dict[str, float] = {}
        for engine in args.engines:
            out_csv = args.workdir / f"results-{size}-{engine}.csv"
            command = [
                sys.executable,
                __file__,
                "--one",
                str(path),
                "--out",
                str(out_csv),
                "--engine",
                engine,
            ]
            runs = []
            for _ in range(max(1, args.repeat)):
                wall, peak, out = run_measured(command + (["--no-validate"] if args.no_validate else []))
                runs.append(wall)
                figures = json.loads(out.strip().splitlines()[-1])
                core = figures["core_seconds"]
                print(
                    f"{size:>9} {triples:>10} {engine:>8} {wall:>8.1f} {peak / 2**30:>9.2f} | {'':10}{core.get('load', 0):>6.1f} {core.get('prepare', 0):>6.1f} "
                    f"{core.get('validate', 0):>6.1f} {core.get('derive', 0):>7.1f} {core.get('report', 0):>7.1f} | {figures['parts']:>5} {figures['workers']:>7} {figures['violations']:>11}",
                    flush=True,
                )
            walls[engine] = statistics.median(runs)
            if len(runs) > 1:
                print(
                    f"{'':>9} {'':>10} {engine:>8} median {walls[engine]:.1f} s of {len(runs)} runs (least {min(runs):.1f}, most {max(runs):.1f})",
                    flush=True,
                )
        if len(walls) == 2:
            same = csv_rows(args.workdir / f"results-{size}-oxigraph.csv") == csv_rows(
                args.workdir / f"results-{size}-sql.csv"
            )
            print(
                f"{'':>9} {'':>10} oxigraph/sql wall {walls['oxigraph'] / walls['sql']:.2f}x; the two CSVs {'have the same rows' if same else 'DIFFER'}",
                flush=True,
            )

    if args.no_validate:
        print("(cohort runs above without SHACL validation: --no-validate)")
    print(f"yardstick after the cohort runs: {yardstick()}", flush=True)
    # each section in a new process: a process that has held a 100k-patient store allocates
    # more slowly afterwards (measured: the same Oxigraph derivation 1.8x slower)
    for section in SECTIONS:
        if section not in args.skip:
            subprocess.run([sys.executable, __file__, "--section", section, *sys.argv[1:]], check=True)
    if "recommend" not in args.skip:
        print("\n== csfkg recommend examples/seed-patient.ttl, whole process ==   target: median <= 1.0 s")
        times = recommend_seconds()
        print(f"median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})")


def rdflib_section(args: argparse.Namespace) -> None:
    print(
        f"\n== derivation, same derive-*.rq queries, {args.rdflib_size} patients, one core ==   target: >= 50x rdflib"
    )
    ratio = derivation_ratio(cohort_file(args.workdir, args.rdflib_size))
    print(
        f"same {ratio['parts']:.0f} parts for both (loading not timed): rdflib in-memory {ratio['rdflib']:.2f} s; "
        f"embedded Oxigraph {ratio['oxigraph']:.2f} s; ratio {ratio['rdflib'] / ratio['oxigraph']:.1f}x",
        flush=True,
    )


def floor_section(args: argparse.Namespace) -> None:
    workers = os.cpu_count() or 1
    print(
        f"\n== where the time goes: {args.floor_size} patients in the parts csfkg cohort runs, one core, us/patient =="
    )
    floor = per_patient_floor(cohort_file(args.workdir, args.floor_size))
    print("  ".join(f"{stage} {value:.0f}" for stage, value in floor.items()))
    total = sum(v for k, v in floor.items() if k != "derive WHERE only")
    least = total - floor["derive"] + floor["derive WHERE only"]
    print(
        f"all stages {total:.0f} us/patient -> 1M patients on {workers} cores ~{total / workers:.0f} s; "
        f"with derivation writing nothing {least:.0f} us/patient -> ~{least / workers:.0f} s",
        flush=True,
    )


def validation_sql(path: Path) -> dict[str, float]:
    """The SQL engine's validation stage (``csfkg cohort --engine sql``): every compiled check,
    translated, over the whole cohort in DuckDB on every core, and the violations column made per
    patient; the file and the knowledge loaded (and the assessment dates set) before the clock
    starts."""
    from csfkg.cohort.run import add_knowledge
    from csfkg.cohort.sql_engine import DEFAULT_MEMORY
    from csfkg.engines.sql import loading as sql_loading
    from csfkg.engines.sql import store as duckdb_store
    from csfkg.engines.sql import validation as shacl_sql
    from csfkg.pipeline.dates import set_assessment_dates

    with tempfile.TemporaryDirectory(prefix="csfkg-bench-") as spill:
        store = duckdb_store.new_connection(memory_limit=DEFAULT_MEMORY, temp_directory=spill)
        sql_loading.load_ntriples(store, path)
        add_knowledge(store)
        set_assessment_dates(store, date.fromisoformat(TODAY))
        clock = time.perf_counter()
        problems = shacl_sql.problems_by_patient(store)
        seconds = time.perf_counter() - clock
        (patients,) = store.execute(f"SELECT count(*) FROM {problems}").fetchone()
        store.connection.close()
    return {"seconds": seconds, "patients_with_results": patients}


def validation_section(args: argparse.Namespace) -> None:
    path = cohort_file(args.workdir, args.validation_size)
    workers = os.cpu_count() or 1
    print(f"\n== SHACL validation, {args.validation_size} patients ==   target: 100k <= 10 s")
    partitioned = validation_partitioned(path, workers)
    print(
        f"partitioned as csfkg cohort runs it ({partitioned['parts']} parts, {workers} processes, parts loaded before the clock starts): "
        f"{partitioned['seconds']:.2f} s wall for {partitioned['patients']} patients",
        flush=True,
    )
    sql = validation_sql(path)
    print(
        f"SQL engine (csfkg cohort --engine sql: the checks translated, DuckDB on every core, file loaded before the clock starts): "
        f"{sql['seconds']:.2f} s wall ({sql['patients_with_results']} patients with results)",
        flush=True,
    )
    validation = validation_ratio(path, args.pyshacl_sample)
    print(
        f"one store, one core, compiled (shapes as set-at-a-time SPARQL on Oxigraph): {validation['compiled']:.2f} s ({validation['compiled_per_patient'] * 1e6:.0f} us/patient)"
    )
    print(
        f"pySHACL, {args.pyshacl_sample} patients' records: {validation['pyshacl_per_patient'] * 1e3:.0f} ms/patient "
        f"-> {validation['pyshacl_per_patient'] * validation['patients']:.0f} s estimated; ratio {validation['pyshacl_per_patient'] / validation['compiled_per_patient']:.0f}x",
        flush=True,
    )


SECTIONS = {"validation": validation_section, "rdflib": rdflib_section, "floor": floor_section}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
