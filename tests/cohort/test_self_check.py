"""The self-check (kg/cohort/self_check.py): the vignettes through an engine before its cohort
run; a wrong answer stops the run with one sentence naming the engine, the vignette and both
answers. A planted wrong engine (a derivation query altered) is refused, through the library and
through ``csfkg cohort --engine sql``; ``--skip-self-check`` runs it anyway, loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from csfkg.cli.main import run
from csfkg.cohort.self_check import EngineRefused, packaged_vignettes, self_check
from csfkg.cohort.sql_engine import SQL_READING
from csfkg.cohort.synth import write_cohort_file
from csfkg.engines.sql.store import SqlStore, new_connection
from csfkg.stores import OxigraphStore, RdflibStore

NEXT_STEP = "derive-next-step"


def test_the_vignettes_cover_many_next_steps() -> None:
    vignettes = packaged_vignettes()
    assert len(vignettes) == 48
    assert len({v.expected_next_step for v in vignettes}) >= 6


@pytest.mark.parametrize("name", ["embedded Oxigraph", "rdflib", "SQL engine"])
def test_the_engines_pass(name: str) -> None:
    if name == "SQL engine":
        assert self_check(new_connection(), name, reading=SQL_READING) == 48
    else:
        assert self_check(OxigraphStore() if name == "embedded Oxigraph" else RdflibStore(), name) == 48


FAULT = ("?onsetDay <= ?threshold", "?onsetDay < ?threshold")
"""An off-by-one in the day arithmetic of derive-criterion-onset-recent: 14 days no longer counts as
recent (the vignette leak-onset-14-days-blood-patch then gets a patch, not post-dural puncture care)."""


class _WrongSqlStore(SqlStore):
    """The SQL store with one derivation query altered (:data:`FAULT`)."""

    def insert(self, construct: str) -> None:
        super().insert(construct.replace(*FAULT))


def _wrong_store() -> SqlStore:
    good = new_connection()
    good.__class__ = _WrongSqlStore
    return good


def test_a_planted_wrong_engine_is_refused() -> None:
    from csfkg.sparql.library import derivation_queries

    assert sum(FAULT[0] in q.text for q in derivation_queries()) == 1, "the fault must change a real query"
    with pytest.raises(EngineRefused) as refused:
        self_check(_wrong_store(), "The SQL engine", reading=SQL_READING)
    message = str(refused.value)
    assert message.startswith(
        "The SQL engine fails the self-check: vignette leak-onset-14-days-blood-patch gives "
    )
    assert "where the algorithm gives post-dural-puncture-care" in message


def test_the_cli_refuses_the_planted_engine_and_skip_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import csfkg.engines.sql.store as sql_store

    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=20, seed=1)
    correct = sql_store.SqlStore.insert

    def faulty(self: SqlStore, construct: str) -> None:
        correct(self, construct.replace(*FAULT))

    monkeypatch.setattr(sql_store.SqlStore, "insert", faulty)
    out = tmp_path / "rows.csv"
    assert run(["cohort", str(cohort), "--engine", "sql", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "The SQL engine fails the self-check" in err and err.count("\n") == 1
    assert not out.exists()
    assert run(["cohort", str(cohort), "--engine", "sql", "-o", str(out), "--skip-self-check"]) in (0, 1)
    assert "WARNING: --skip-self-check" in capsys.readouterr().err
    assert out.exists()


def test_an_endpoint_is_checked_in_a_scratch_graph_that_is_dropped(
    tmp_path: Path, oxigraph_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """csfkg cohort --endpoint runs the self-check in a urn:uuid graph of its own first, and
    drops it: the server afterwards holds the run's graph only."""
    import json
    import urllib.parse
    import urllib.request

    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=20, seed=1)
    out = tmp_path / "rows.csv"
    graph = "https://example.org/csfkg/run"
    code = run(
        [
            "cohort",
            str(cohort),
            "--endpoint",
            oxigraph_server + "/query",
            "--update-url",
            oxigraph_server + "/update",
            "--graph-store-url",
            oxigraph_server + "/store",
            "--graph",
            graph,
            "-o",
            str(out),
        ]
    )
    assert code in (0, 1) and out.exists(), capsys.readouterr().err
    query = urllib.parse.urlencode({"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"})
    request = urllib.request.Request(
        oxigraph_server + "/query?" + query, headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request) as response:
        graphs = {b["g"]["value"] for b in json.load(response)["results"]["bindings"]}
    assert graphs == {graph}


def test_a_planted_wrong_endpoint_is_refused(
    tmp_path: Path, oxigraph_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from csfkg.stores import EndpointStore

    correct = EndpointStore.insert

    def faulty(self: EndpointStore, construct: str) -> None:
        correct(self, construct.replace(*FAULT))

    monkeypatch.setattr(EndpointStore, "insert", faulty)
    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=5, seed=1)
    out = tmp_path / "rows.csv"
    endpoint = ["--endpoint", oxigraph_server + "/query", "--update-url", oxigraph_server + "/update"]
    assert run(["cohort", str(cohort), *endpoint, "--graph", "https://example.org/g", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"The SPARQL endpoint {oxigraph_server}/query fails the self-check" in err and not out.exists()
