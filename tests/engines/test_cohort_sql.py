"""``csfkg cohort FILE --engine sql`` (kg/cohort/sql_engine.py): the same CSV rows as the default engine,
bad input refused with one sentence and no output, and the update that sets assessment dates
doing in SQL what it does in Oxigraph."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
import sql_readings

from csfkg.cli.main import run
from csfkg.cohort.synth import write_cohort_file
from csfkg.engines.sql import loading as sql_loading
from csfkg.engines.sql import store as duckdb_store

SEED = 2


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "cohort.nt"
    write_cohort_file(path, patients=1_000, seed=SEED)
    return path


@pytest.mark.parametrize("today", [None, "2026-03-01"])
def test_the_sql_engine_writes_the_csv_the_default_engine_writes(
    cohort: Path, tmp_path: Path, today: str | None
) -> None:
    dates = [] if today is None else ["--today", today]
    default, sql = tmp_path / "default.csv", tmp_path / "sql.csv"
    assert run(["cohort", str(cohort), "--output", str(default), *dates]) == 1  # the cohort holds violations
    assert run(["cohort", str(cohort), "--engine", "sql", "--output", str(sql), *dates]) == 1
    rows = _csv_rows(sql)
    assert rows == _csv_rows(default)
    assert len(rows) == 1_001 and rows[0] == [
        "patient",
        "next_step",
        "companions",
        "missing_data",
        "violations",
    ]
    assert len({row[1] for row in rows[1:]}) >= 8  # many next steps, not one
    assert any(row[4] for row in rows[1:]) and any(not row[4] for row in rows[1:])


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def test_bad_input_gives_one_sentence_exit_2_and_no_output(cohort: Path, tmp_path: Path) -> None:
    lines = cohort.read_bytes().splitlines(keepends=True)
    lines[len(lines) // 2] = b'<https://example.org/x> <https://example.org/p> "unterminated .\n'
    broken = tmp_path / "broken.nt"
    broken.write_bytes(b"".join(lines))
    out = tmp_path / "results.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "csfkg.cli.main",
            "cohort",
            str(broken),
            "--engine",
            "sql",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.count("\n") == 1
        and "is not N-Triples as the SQL engine reads it" in result.stderr
        and "unterminated" in result.stderr
    )
    assert not out.exists() and not list(tmp_path.glob(".results.csv*"))


@pytest.mark.parametrize(
    "arguments",
    [
        ["--engine", "sql", "--workers", "2"],
        ["--engine", "sql", "--graph-out", "g.nt"],
        ["--engine", "duckdb"],
    ],
)
def test_what_the_sql_engine_does_not_take_is_a_usage_error(
    cohort: Path, tmp_path: Path, arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["cohort", str(cohort), "--output", str(tmp_path / "r.csv"), *arguments]) == 2
    assert "--engine" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("replace", ["true", "false"])
def test_the_assessment_date_update_in_sql_is_the_update_in_oxigraph(tmp_path: Path, replace: str) -> None:
    import pyoxigraph

    from csfkg.sparql.library import get_query

    csf = "https://w3id.org/csfkg/ontology#"
    date = "<http://www.w3.org/2001/XMLSchema#date>"
    data = (
        f"<http://e/p1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{csf}Patient> .\n"
        f"<http://e/p2> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{csf}Patient> .\n"
        f'<http://e/p1> <{csf}assessmentDate> "2025-01-01"^^{date} .\n'
        f'<http://e/x> <{csf}assessmentDate> "2025-01-02"^^{date} .\n'
    )
    head = get_query("update-assessment-date").text.split("WHERE {", 1)
    update = f'{head[0]}WHERE {{ VALUES (?today ?replace) {{ ("2026-03-01"^^{date} {replace}) }}{head[1]}'
    oxigraph = pyoxigraph.Store()
    oxigraph.load(data.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES)
    oxigraph.update(update)
    expected = sorted(f"{q.subject} {q.predicate} {q.object} ." for q in oxigraph)

    path = tmp_path / "data.nt"
    path.write_text(data)
    store = duckdb_store.new_connection()
    sql_loading.load_ntriples(store, path)
    duckdb_store.run_update(store, update)
    assert sorted(sql_readings.derived_ntriples(store, {}).splitlines()) == expected
    assert any("2026-03-01" in line for line in expected)


TRICKY = [
    "",
    "plain",
    "a,b",
    'say "hi"',
    "two\nlines",
    "carriage\rreturn",
    " lead",
    "é, ü",
    'x"',
    "tab\there",
]


def _sql_lines(rows: list[list[str]]) -> list[str]:
    """CSV lines as the SQL engine makes them (:func:`csfkg.cohort.sql_engine._csv_field`)."""
    import duckdb

    from csfkg.cohort.sql_engine import _csv_field

    connection = duckdb.connect()
    lines = []
    for row in rows:
        fields = " || ',' || ".join(_csv_field(f"${n}::VARCHAR") for n in range(1, len(row) + 1))
        (line,) = connection.execute(f"SELECT {fields} || chr(10)", row).fetchone()
        lines.append(line)
    return lines


def test_csv_fields_made_in_sql_read_back_with_the_csv_module() -> None:
    rows = [[value, "x"] for value in TRICKY] + [["x", value] for value in TRICKY]
    lines = _sql_lines(rows)
    assert list(csv.reader(io.StringIO("".join(lines), newline=""))) == rows
    assert [next(csv.reader([line])) for line in lines] == rows
    # quoted only where a field must be
    assert lines[TRICKY.index("plain")] == "plain,x\n"
    assert lines[TRICKY.index("a,b")] == '"a,b",x\n'


@pytest.mark.parametrize("codes", ["b a c", "  a\tb\n c  ", "z\x0by\xa0x\u3000w", "", "single", "B a Á b"])
def test_codes_sorted_in_sql_are_sorted_as_python_sorts_them(codes: str) -> None:
    import duckdb

    from csfkg.cohort.sql_engine import _words

    (got,) = duckdb.connect().execute(f"SELECT {_words('$1::VARCHAR')}", [codes]).fetchone()
    assert got == " ".join(sorted(codes.split()))


@pytest.mark.parametrize("blocked", [False, True])
def test_rows_read_back_from_their_csv_lines_are_the_rows_cohort_row_makes(blocked: bool) -> None:
    from csfkg.cohort.run import LineRows, cohort_row

    made = [
        cohort_row(patient, step, companions, missing, reported=(problems, blocked))
        for patient, step, companions, missing, problems in zip(
            TRICKY,
            reversed(TRICKY),
            ["b a", None, "x\ty z", "", "é a"] * 2,
            [None, "m2 m1", "q", " p ", "z a"] * 2,
            TRICKY[3:] + TRICKY[:3],
            strict=True,
        )
    ]
    lines = _sql_lines(
        [
            [row.patient, row.next_step, " ".join(row.companions), " ".join(row.missing_data), row.problems]
            for row in made
        ]
    )
    table = LineRows(lines, [blocked] * len(lines))
    assert len(table) == len(made)
    assert list(table) == made
    assert table[1:3] == made[1:3]
    assert table.blocked_count() == (len(made) if blocked else 0)


def test_a_triple_written_twice_or_loaded_again_is_held_once(cohort: Path, tmp_path: Path) -> None:
    """A graph is a set: a file that repeats lines gives the CSV of the file without the repeats
    (the SQL engine once kept both copies, and listed a patient once per copy of its type)."""
    from datetime import date

    from csfkg.cohort.sql_engine import run_cohort_sql

    lines = cohort.read_text(encoding="utf-8").splitlines(keepends=True)
    repeated = tmp_path / "repeated.nt"
    repeated.write_text(
        "".join(line * (2 if i % 3 == 0 else 1) for i, line in enumerate(lines)), encoding="utf-8"
    )
    once = run_cohort_sql(cohort, today=date(2026, 3, 1))
    twice = run_cohort_sql(repeated, today=date(2026, 3, 1))
    assert twice.lines == once.lines
    # a file loaded again adds nothing
    store = duckdb_store.new_connection()
    sql_loading.load_ntriples(store, cohort)
    counts = sql_readings.row_counts(store)
    sql_loading.load_ntriples(store, repeated)
    assert sql_readings.row_counts(store) == counts


def test_a_predicate_outside_the_vocabulary_is_read_too(cohort: Path, tmp_path: Path) -> None:
    """The loader takes the predicates' texts from the vocabulary when every line's predicate is
    one of its own (one read of the file), else reads the file again for them: both give every
    triple."""
    extra = tmp_path / "extra.nt"
    extra.write_bytes(
        cohort.read_bytes() + b'<https://example.org/x> <https://example.org/not-in-the-vocabulary> "x" .\n'
    )
    plain, more = duckdb_store.new_connection(), duckdb_store.new_connection()
    sql_loading.load_ntriples(plain, cohort)
    sql_loading.load_ntriples(more, extra)
    assert set(more.tables) == set(plain.tables) | {"<https://example.org/not-in-the-vocabulary>"}
    counts = sql_readings.row_counts(more)
    assert counts.pop(more.tables["<https://example.org/not-in-the-vocabulary>"]) == 1
    assert sorted(counts.values()) == sorted(sql_readings.row_counts(plain).values())
    assert plain.tables.keys() <= sql_loading.vocabulary_predicates()
