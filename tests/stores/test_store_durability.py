"""A persistent store survives a process killed in the middle of a load (issue 5).

``csfkg load FILE... --store DIR`` never writes into DIR: it copies the store beside it, loads the
files into the copy and swaps the two folders in one atomic step. A load killed with SIGKILL at
any moment leaves DIR holding exactly the old content or exactly the new one - never a mix - and
openable; what the killed load left beside DIR is never opened in its place, and the next load
removes it. The kills run against the real console script on a synthetic cohort large enough
that the load takes a few seconds.
"""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csfkg.cohort.synth import write_cohort_file

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

PATIENT = "https://w3id.org/csfkg/ontology#Patient"
BIG_PATIENTS = 12_000  # some 390,000 triples: the bulk load alone takes a few seconds


def _command() -> list[str]:
    script = Path(sys.executable).with_name("csfkg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "csfkg.cli.main"]


def _csfkg(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_command(), *args], capture_output=True, text=True, timeout=timeout)


def _content(folder: Path) -> tuple[int, frozenset[str]]:
    """Triple count and patient IRIs of the store in ``folder``, opened as a reader would."""
    import pyoxigraph

    assert folder.is_dir(), f"{folder} is gone"
    store = pyoxigraph.Store.read_only(str(folder))
    try:
        count = len(store)
        patients = frozenset(row[0].value for row in store.query(f"SELECT ?p WHERE {{ ?p a <{PATIENT}> }}"))
    finally:
        del store
        gc.collect()
    return count, patients


def _leftover(store: Path) -> Path:
    return store.with_name(f".{store.name}.loading")


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cohorts")
    small, big = folder / "small.nt", folder / "big.nt"
    write_cohort_file(small, patients=200, seed=2)
    write_cohort_file(big, patients=BIG_PATIENTS, seed=1)
    return small, big


def _kill_during_load(big: Path, store: Path, delay: float) -> bool:
    """Start ``csfkg load big --store store``, wait until it has begun its copy of the store, wait
    ``delay`` seconds more and SIGKILL it. True when the kill hit a load in progress."""
    started = time.time_ns()
    process = subprocess.Popen(
        [*_command(), "load", str(big), "--store", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    current = _leftover(store) / "CURRENT"
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if current.stat().st_ctime_ns >= started:  # this process's copy, not a leftover
                break
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    time.sleep(delay)
    if process.poll() is not None:
        assert process.returncode == 0, process.stderr.read() if process.stderr else ""
        return False
    in_progress = _leftover(store).exists()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return in_progress


def test_a_load_killed_at_any_moment_leaves_the_old_store_or_the_new_never_a_mix(
    cohorts: tuple[Path, Path], tmp_path: Path
) -> None:
    from csfkg.cohort.run import add_knowledge, load_files
    from csfkg.stores import OxigraphStore

    small, big = cohorts
    store = tmp_path / "cohort.db"
    first = _csfkg("load", str(small), "--store", str(store))
    assert first.returncode == 0, first.stderr
    old = _content(store)
    assert len(old[1]) == 200

    seen: list[tuple[int, frozenset[str]]] = []
    hits = 0
    for delay in (0.0, 0.3, 0.8, 1.5):
        hits += _kill_during_load(big, store, delay)
        seen.append(_content(store))  # opens: never unopenable, never the leftover copy
    assert hits >= 1, "no kill hit a load in progress: make the cohort bigger"
    assert _leftover(store).exists(), "the last kill should have left its copy behind"

    done = _csfkg("load", str(big), "--store", str(store))
    assert done.returncode == 0, done.stderr
    new = _content(store)
    assert not _leftover(store).exists(), "the completed load did not remove the killed load's copy"
    assert [
        p.name for p in tmp_path.iterdir() if p.name.startswith(".cohort.db.") and p.name != ".cohort.db.lock"
    ] == []

    # the new content is exactly what loading both files at once gives
    reference = OxigraphStore()
    add_knowledge(reference)
    load_files(reference, [small, big])
    expected_patients = frozenset(
        str(row[0]) for row in reference.query(f"SELECT ?p WHERE {{ ?p a <{PATIENT}> }}").rows
    )  # type: ignore[union-attr]
    assert new == (len(reference), expected_patients)
    assert new != old and old[1] < new[1]
    for state in seen:
        assert state in (old, new), f"a killed load left a mix: {state[0]} triples, {len(state[1])} patients"


def test_after_a_killed_load_the_store_answers_and_takes_the_next_load(
    cohorts: tuple[Path, Path], tmp_path: Path
) -> None:
    small, big = cohorts
    store = tmp_path / "cohort.db"
    first = _csfkg("load", str(small), "--store", str(store))
    assert first.returncode == 0
    triples = sum(1 for line in small.open(encoding="utf-8") if line.strip())
    assert f"{triples} triples loaded into" in first.stderr  # the file's triples, not the knowledge graph's
    old = _content(store)
    assert _kill_during_load(big, store, 0.2), "the kill did not hit the load"
    assert _content(store) == old
    out = tmp_path / "results.csv"
    ran = _csfkg("cohort", "--store", str(store), "--no-validate", "--output", str(out))
    assert ran.returncode == 0, ran.stderr
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("patient,next_step") and len(rows) == 201
    assert all(row.split(",")[1] for row in rows[1:]), "a patient has no next step"
    again = _csfkg("load", str(small), "--store", str(store))
    assert again.returncode == 0, again.stderr
    assert "0 triples loaded" in again.stderr
    assert not _leftover(store).exists()


# ---------------------------------------------------------------------------------------
# the same guarantees, in-process: errors, leftovers, and folders that are not stores
# ---------------------------------------------------------------------------------------
def test_a_bad_file_after_a_good_one_leaves_the_store_unchanged(
    cohorts: tuple[Path, Path], tmp_path: Path
) -> None:
    from csfkg.cohort.run import add_knowledge
    from csfkg.model.errors import InputError
    from csfkg.stores.loading import load_store_folder

    small, _ = cohorts
    store = tmp_path / "cohort.db"
    load_store_folder(store, [small], prepare=add_knowledge)
    old = _content(store)
    more = tmp_path / "more.nt"
    more.write_text(
        "<https://example.org/csfkg/synthetic/extra> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/csfkg/ontology#Patient> .\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not Turtle\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.ttl is not valid RDF"):
        load_store_folder(store, [more, bad], prepare=add_knowledge)
    assert _content(store) == old  # the first file is not half-loaded
    assert not _leftover(store).exists()


def test_a_crash_after_the_swap_leaves_the_new_store_and_a_leftover_the_next_load_removes(
    cohorts: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between the swap and the removal of the old copy: DIR is the new store, the old one
    lies beside it under the temporary name; opening DIR gives the new content, and the next load
    removes the old copy."""
    import csfkg.stores.loading as store_load
    from csfkg.cohort.run import add_knowledge

    small, _ = cohorts
    store = tmp_path / "cohort.db"
    store_load.load_store_folder(store, [small], prepare=add_knowledge)
    old = _content(store)
    more = tmp_path / "more.nt"
    more.write_text(
        "<https://example.org/csfkg/synthetic/extra> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/csfkg/ontology#Patient> .\n",
        encoding="utf-8",
    )

    class Killed(BaseException):
        pass

    def killed(path: Path) -> None:
        raise Killed

    monkeypatch.setattr(store_load, "_remove_folder", killed)
    with pytest.raises(Killed):
        store_load.load_store_folder(store, [more], prepare=add_knowledge)
    monkeypatch.undo()
    count, patients = _content(store)
    assert (count, patients) == (old[0] + 1, old[1] | {"https://example.org/csfkg/synthetic/extra"})
    assert _content(_leftover(store)) == old  # the old store, beside DIR, not in its place
    store_load.load_store_folder(store, [more], prepare=add_knowledge)
    assert not _leftover(store).exists()
    assert _content(store) == (count, patients)


def test_a_folder_that_is_not_a_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    from csfkg.cohort.run import add_knowledge
    from csfkg.model.errors import InputError
    from csfkg.stores.loading import load_store_folder

    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me\n", encoding="utf-8")
    patient = tmp_path / "p.nt"
    patient.write_text(
        "<https://example.org/p> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/csfkg/ontology#Patient> .\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="not a store"):
        load_store_folder(folder, [patient], prepare=add_knowledge)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me\n"


def test_a_second_load_while_one_runs_is_refused(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    from csfkg.model.errors import InputError
    from csfkg.stores.loading import load_store_folder

    store = tmp_path / "cohort.db"
    patient = tmp_path / "p.nt"
    patient.write_text(
        "<https://example.org/p> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/csfkg/ontology#Patient> .\n",
        encoding="utf-8",
    )
    with open(tmp_path / ".cohort.db.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another load holds it
        with pytest.raises(InputError, match="Another csfkg load"):
            load_store_folder(store, [patient])
    assert not store.exists()
    load_store_folder(store, [patient])
    assert _content(store)[1] == {"https://example.org/p"}


def test_the_store_in_use_by_another_process_is_refused_in_one_sentence(tmp_path: Path) -> None:
    store = tmp_path / "cohort.db"
    patient = tmp_path / "p.nt"
    patient.write_text(
        "<https://example.org/p> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/csfkg/ontology#Patient> .\n",
        encoding="utf-8",
    )
    assert _csfkg("load", str(patient), "--store", str(store)).returncode == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import pyoxigraph, sys; s = pyoxigraph.Store({str(store)!r}); print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        refused = _csfkg("load", str(patient), "--store", str(store))
    finally:
        holder.communicate("", timeout=30)
    assert refused.returncode == 2
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("csfkg: ") and "in use" in lines[0], refused.stderr
    assert _content(store)[1] == {"https://example.org/p"}
    assert not _leftover(store).exists()
