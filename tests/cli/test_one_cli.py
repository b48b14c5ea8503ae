"""One command line: the same option for every output file, one spelling per format, errors that
name what the user typed, --version, no library warnings, a held store lock in one sentence.

Regression tests for issue 19, item 8: ``--out`` on synth/cohort but ``--output`` elsewhere;
``turtle``/``table`` beside ``ttl``/``text``; Python parameter names and pydantic's wording in
errors; an impossible ``--today`` called a format error; no ``--version``; rdflib's "Parsing
weird boolean" on the terminal; RocksDB's lock error; ``--output x.owx`` written as Turtle.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import typer

from csfkg.cli.main import app
from csfkg.io.formats import REGISTRY

from conftest import SEED


def _command() -> list[str]:
    script = Path(sys.executable).with_name("csfkg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "csfkg.cli.main"]


def _options(command: str) -> dict[str, object]:
    group = typer.main.get_command(app)
    return {opt: param for param in group.commands[command].params for opt in getattr(param, "opts", [])}  # type: ignore[attr-defined]


def _one_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("csfkg: "), text
    return lines[0]


# ---------------------------------------------------------------------------------------
# -o/--output, and one name per format
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["recommend", "query", "export", "synth", "cohort"])
def test_every_file_output_is_dash_o_or_dash_dash_output(cli, command: str) -> None:
    options = _options(command)
    assert "-o" in options and options["-o"] is options["--output"]
    help_text = cli(command, "--help").out
    assert "--output" in help_text and "-o" in help_text
    assert "--out " not in help_text and "--out\n" not in help_text  # the old name is hidden


def test_synth_and_cohort_write_with_output_and_the_old_out(cli, tmp_path: Path) -> None:
    for flag in ("-o", "--output", "--out"):
        cohort_file = tmp_path / f"cohort{flag.strip('-')}.nt"
        assert cli("synth", "--patients", "3", flag, str(cohort_file)).code == 0
        rows_file = tmp_path / f"rows{flag.strip('-')}.csv"
        done = cli("cohort", str(cohort_file), flag, str(rows_file), "--today", "2026-03-01")
        assert done.code in (0, 1), done.err  # 1: a synthetic patient may violate a shape on purpose
        rows = list(csv.reader(rows_file.open()))
        assert len(rows) == 4  # header and three patients
    assert (tmp_path / "cohorto.nt").read_bytes() == (tmp_path / "cohortout.nt").read_bytes()
    both = cli("synth", "--patients", "3", "-o", str(tmp_path / "a.nt"), "--out", str(tmp_path / "b.nt"))
    assert both.code == 2 and "once" in _one_line(both.err)


def test_every_format_choice_is_a_registry_name() -> None:
    group = typer.main.get_command(app)
    seen: set[str] = set()
    for command in group.commands.values():  # type: ignore[attr-defined]
        for param in command.params:
            if "--format" in getattr(param, "opts", []):
                values = {getattr(c, "value", c) for c in param.type_descriptor.choices}
                assert values <= set(REGISTRY), (command.name, values - set(REGISTRY))
                seen |= values
    assert {"ttl", "owl", "jsonld", "nt", "json", "csv", "text"} <= seen
    assert not seen & {"turtle", "table"}


def test_old_format_spellings_still_work_and_are_not_shown(cli) -> None:
    turtle = cli("recommend", str(SEED), "--format", "turtle")
    assert turtle.code == 0 and turtle.out == cli("recommend", str(SEED), "--format", "ttl").out
    assert turtle.out.startswith("@prefix")
    table = cli("query", "next-step", str(SEED), "--format", "table")
    assert table.code == 0 and table.out == cli("query", "next-step", str(SEED)).out
    for command in ("recommend", "query"):
        shown = " ".join(cli(command, "--help").out.split())
        assert "turtle" not in shown.replace("Turtle", "") and "table]" not in shown and "|table" not in shown


@pytest.mark.parametrize(
    "args",
    [
        ["export", "--format", "ttl"],
        ["export"],  # no --format: .owx is no format export writes
        ["recommend", str(SEED), "--format", "ttl"],
        ["recommend", str(SEED), "--format", "json"],
        ["query", "references", "--format", "csv"],
    ],
)
def test_output_file_with_another_formats_extension_is_refused(cli, tmp_path: Path, args: list[str]) -> None:
    """Regression: ``csfkg export --output x.owx`` wrote Turtle into a file named as OWL/XML."""
    target = tmp_path / "x.owx"
    result = cli(*args, "--output", str(target))
    assert result.code == 2
    line = _one_line(result.err)
    assert "x.owx" in line and "--format" in line
    assert not target.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, name",
    [
        (["cohort", str(SEED)], "rows.txt"),
        (["synth", "--patients", "2"], "cohort.csv"),
        (["recommend", "--symptom", "orthostatic-headache", "--emit-patient"], "patient.json"),
    ],
)
def test_single_format_outputs_refuse_another_extension(
    cli, tmp_path: Path, args: list[str], name: str
) -> None:
    result = cli(*args, "-o", str(tmp_path / name))
    assert result.code == 2 and name in _one_line(result.err)
    assert list(tmp_path.iterdir()) == []


def test_format_is_guessed_from_the_output_extension(cli, tmp_path: Path) -> None:
    assert cli("recommend", str(SEED), "-o", str(tmp_path / "r.json")).code == 0
    assert json.loads((tmp_path / "r.json").read_text())["next_step"]["code"] == "obtain-mri-brain-and-spine"
    assert cli("export", "-o", str(tmp_path / "release.owl")).code == 0
    assert (tmp_path / "release.owl").read_text().lstrip().startswith("<?xml")
    assert cli("query", "references", "-o", str(tmp_path / "refs.csv")).code == 0
    assert (tmp_path / "refs.csv").read_text().splitlines()[0].startswith("reference,")
    assert cli("export", "-f", "nt", "-o", str(tmp_path / "release.nt")).code == 0
    from rdflib import Graph

    assert len(Graph().parse(tmp_path / "release.nt", format="nt")) > 1000


# ---------------------------------------------------------------------------------------
# errors name what the user typed
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, expected",
    [
        (["lookup"], "csfkg: Missing argument TEXT."),
        (["protocol"], "csfkg: Missing argument brain|spine. Choose from: brain, spine."),
        (["protocol", "foo"], "csfkg: Invalid value for brain|spine: 'foo' is not one of 'brain', 'spine'."),
        (["explain"], "csfkg: Missing argument PATIENT.ttl."),
        (
            ["recommend", str(SEED), "--format", "xml"],
            "csfkg: Invalid value for --format: 'xml' is not one of 'text', 'json', 'ttl', 'fhir'.",
        ),
        (
            ["recommend", str(SEED), "-f", "xml"],
            "csfkg: Invalid value for --format: 'xml' is not one of 'text', 'json', 'ttl', 'fhir'.",
        ),
        (
            ["synth", "--patients", "many", "-o", "x.nt"],
            "csfkg: Invalid value for --patients: it should be a valid integer.",
        ),
        (
            ["synth", "--patients", "0", "-o", "x.nt"],
            "csfkg: Invalid value for --patients: it should be greater than or equal to 1.",
        ),
    ],
)
def test_usage_errors_name_the_option_or_argument_as_typed(cli, args: list[str], expected: str) -> None:
    """Regression: "text: Missing argument 'TEXT'", "which: Invalid value for 'brain|spine'",
    "Value error, 'xml' is not one of": Python parameter names and pydantic's words."""
    result = cli(*args)
    assert result.code == 2 and result.out == ""
    assert _one_line(result.err) == expected


@pytest.mark.parametrize(
    "command",
    [
        ["recommend", str(SEED)],
        ["query", "next-step", str(SEED)],
        ["explain", str(SEED)],
        ["cohort", str(SEED), "-o", "unused.csv"],
    ],
)
def test_impossible_date_is_not_called_a_format_error(cli, command: list[str]) -> None:
    impossible = cli(*command, "--today", "2026-02-30")
    assert impossible.code == 2
    assert _one_line(impossible.err) == (
        "csfkg: --today 2026-02-30: that date does not exist (February 2026 has 28 days)."
    )
    month = cli(*command, "--today", "2026-13-01")
    assert month.code == 2 and "there is no month 13" in _one_line(month.err)
    malformed = cli(*command, "--today", "2026-2-3")
    assert malformed.code == 2
    assert _one_line(malformed.err) == "csfkg: --today must be a date as YYYY-MM-DD, not '2026-2-3'."


# ---------------------------------------------------------------------------------------
# the console script: --version, no library warnings
# ---------------------------------------------------------------------------------------
def test_version(tmp_path: Path) -> None:
    done = subprocess.run(
        [*_command(), "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == f"csfkg {version('csfkg')}\n"


def test_library_warnings_stay_off_the_terminal(tmp_path: Path) -> None:
    """Regression: rdflib's "UserWarning: Parsing weird boolean, 'yes' does not map to True or
    False" reached stderr; the shape that the value violates says it, in our words."""
    weird = tmp_path / "weird.ttl"
    weird.write_text(
        SEED.read_text(encoding="utf-8")
        + '\nex:seed csf:symptomsResolvedAfterTreatment "yes"^^xsd:boolean .\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [*_command(), "recommend", str(weird)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stderr == ""
    assert "Symptoms resolved after treatment must be one boolean" in " ".join(done.stdout.split())


# ---------------------------------------------------------------------------------------
# a store another process has open
# ---------------------------------------------------------------------------------------
def test_store_in_use_by_another_process_is_one_sentence(cli, tmp_path: Path) -> None:
    """Regression: two ``csfkg cohort --store`` at once printed RocksDB's "While lock file:
    DIR/LOCK: Resource temporarily unavailable"."""
    store = tmp_path / "store"
    assert cli("load", str(SEED), "--store", str(store)).code == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); print('open', flush=True); sys.stdin.read()",
            str(store),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        expected = (
            f"csfkg: The store {store} is in use by another process (a csfkg cohort or load, or a "
            "server, has it open); wait for it to finish."
        )
        result = cli("cohort", "--store", str(store), "-o", str(tmp_path / "rows.csv"))
        assert result.code == 2 and _one_line(result.err) == expected
        assert not (tmp_path / "rows.csv").exists()
        result = cli("load", str(SEED), "--store", str(store))
        assert result.code == 2 and "is in use by another process" in _one_line(result.err)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    assert cli("cohort", "--store", str(store), "-o", str(tmp_path / "rows.csv")).code == 0
