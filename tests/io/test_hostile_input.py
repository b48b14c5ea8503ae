"""Hostile and broken input, table-driven: every row is a file or an argument, the exit code it must
give and the words its message must contain.

Each row runs the real console script in a subprocess (as a user or a script would meet it), with

- a timeout (:data:`TIMEOUT` seconds): a hang fails the row instead of the suite;
- an address-space limit (:data:`MEMORY_LIMIT`, ``RLIMIT_AS``): a run that needs more memory
  fails with MemoryError, which the row sees as a wrong exit code or an "internal error";
- checks that nothing is a traceback, that an error (exit 2) is one sentence on stderr
  starting ``csfkg:`` with nothing on stdout, and that words that must not leak (the content of
  a local file an input points at) appear nowhere.

Limits decided here and enforced by ``csfkg.io.patient_files``: a patient file is read up to 4 MiB
(``MAX_FILE_BYTES``: a 50 MB file and ``/dev/zero`` are refused before they are read), one run
assesses at most 1,000 patients (``MAX_PATIENTS_PER_RUN``), RDF/XML may declare plain entities
only (no external DTD, external or parameter entity, nesting, or expansion beyond the file
limit), JSON-LD must carry its context inline, and an IRI holding a character IRIs cannot
contain is refused. Files for ``csfkg load`` and ``csfkg cohort FILE`` get the same structural
checks (``csfkg.stores.loading``) without the 4 MiB limit, which would refuse any real cohort; only a
file read whole (JSON-LD, or one sent to an endpoint) has a limit, 256 MiB. Large and
tmp-dependent files are generated in the test's temporary folder; the small fixtures are in
tests/data/hostile/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"
TIMEOUT = 90
MEMORY_LIMIT = 1536 * 1024 * 1024
SECRET = "TOP-SECRET-CONTENT-4f1c"
PREFIXES = (
    "@prefix csf: <https://w3id.org/csfkg/ontology#> .\n"
    "@prefix ex: <https://example.org/csfkg/hostile/> .\n"
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
)


# ---------------------------------------------------------------------------------------
# files generated in the test's temporary folder
# ---------------------------------------------------------------------------------------
def write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    return make


def huge_file(folder: Path) -> None:
    """50 MB of valid Turtle: one patient, then the same finding records over and over."""
    chunk = "".join(
        f"ex:p csf:hasFinding ex:f{i} . ex:f{i} a csf:Fever ; csf:findingStatus csf:absent .\n"
        for i in range(1000)
    )
    with (folder / "huge.ttl").open("w", encoding="utf-8") as handle:
        handle.write(PREFIXES + 'ex:p a csf:Patient ; csf:assessmentDate "2026-03-01"^^xsd:date .\n')
        written = 0
        while written < 50 * 1000 * 1000:
            handle.write(chunk)
            written += len(chunk)


def many_patients(folder: Path) -> None:
    lines = [PREFIXES] + [
        f'ex:p{i} a csf:Patient ; csf:assessmentDate "2026-03-01"^^xsd:date .\n' for i in range(20_000)
    ]
    (folder / "many.ttl").write_text("".join(lines), encoding="utf-8")


def not_a_store(folder: Path) -> None:
    """A folder of the user's own files, given as --store: it must be refused, not swapped away."""
    (folder / "documents").mkdir()
    (folder / "documents" / "notes.txt").write_text("keep me\n", encoding="utf-8")


def secrets(folder: Path) -> None:
    """A local file that hostile inputs point at; its content must never reach the output."""
    (folder / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    (folder / "secret.nt").write_text(
        f'<https://example.org/s> <https://example.org/says> "{SECRET}" .\n', encoding="utf-8"
    )


def xxe(folder: Path) -> None:
    secrets(folder)
    (folder / "xxe.rdf").write_text(
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE rdf:RDF [ <!ENTITY xxe SYSTEM "{(folder / "secret.txt").as_uri()}"> ]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:csf="https://w3id.org/csfkg/ontology#">\n'
        '  <csf:Patient rdf:about="https://example.org/csfkg/hostile/p"><csf:note>&xxe;</csf:note></csf:Patient>\n'
        "</rdf:RDF>\n",
        encoding="utf-8",
    )


def from_local_file(folder: Path) -> None:
    secrets(folder)
    (folder / "from-file.rq").write_text(
        f"SELECT ?s ?p ?o FROM <{(folder / 'secret.nt').as_uri()}> WHERE {{ ?s ?p ?o }}\n", encoding="utf-8"
    )


def quadratic_blowup(folder: Path) -> None:
    """No nesting, but one 1,000-character entity used 5,000 times: 5 MB of text from 30 kB."""
    (folder / "blowup.rdf").write_text(
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE rdf:RDF [ <!ENTITY a "{"a" * 1000}"> ]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:csf="https://w3id.org/csfkg/ontology#">\n'
        f'  <csf:Patient rdf:about="https://example.org/csfkg/hostile/p"><csf:note>{"&a;" * 5000}</csf:note></csf:Patient>\n'
        "</rdf:RDF>\n",
        encoding="utf-8",
    )


DEEP_TURTLE = (
    PREFIXES + "ex:p a csf:Patient ; csf:note " + "[ csf:note " * 20_000 + "1" + " ]" * 20_000 + " .\n"
)
DEEP_JSONLD = (
    '{"@id": "https://example.org/csfkg/hostile/p", "https://example.org/n": '
    + "[" * 20_000
    + "]" * 20_000
    + "}"
)


# ---------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """``args`` may use ``{tmp}`` (the test's temporary folder) and ``{hostile}`` (the fixtures)."""

    id: str
    args: tuple[str, ...]
    code: int
    words: tuple[str, ...]
    make: Callable[[Path], None] | None = None
    never: tuple[str, ...] = ()


def recommend(path: str, *more: str) -> tuple[str, ...]:
    return ("recommend", path, *more)


def load(path: str, *, store: str = "{tmp}/store") -> tuple[str, ...]:
    return ("load", path, "--store", store)


ROWS: list[Row] = [
    # --- files that are not there, not files, or not text ----------------------------------
    Row("missing file", recommend("{tmp}/no-such-patient.ttl"), 2, ("File not found", "no-such-patient.ttl")),
    Row("directory instead of a file", recommend("{tmp}"), 2, ("is a directory",)),
    Row("empty file", recommend("{tmp}/empty.ttl"), 2, ("is empty",), write("empty.ttl", "")),
    Row("only white space", recommend("{tmp}/blank.ttl"), 2, ("is empty",), write("blank.ttl", " \n\t\r\n ")),
    Row(
        "binary garbage",
        recommend("{tmp}/garbage.ttl"),
        2,
        ("not UTF-8",),
        write("garbage.ttl", bytes(range(256)) * 64),
    ),
    Row(
        "control characters",
        recommend("{tmp}/control.ttl"),
        2,
        ("not valid Turtle",),
        write("control.ttl", "\x00\x01\x02\x1b[31m garbage\n"),
    ),
    Row("non-UTF-8 text (Latin-1)", recommend("{hostile}/latin-1.ttl"), 2, ("not UTF-8", "byte")),
    Row(
        "UTF-8 with a byte-order mark is read",
        recommend("{hostile}/byte-order-mark.ttl"),
        0,
        ("Next step: no action from this algorithm.",),  # the label of not-applicable
    ),
    Row("a 50 MB file", recommend("{tmp}/huge.ttl"), 2, ("larger than 4 MB", "split"), huge_file),
    Row("an endless device (/dev/zero)", recommend("/dev/zero"), 2, ("larger than 4 MB",)),
    # --- syntax ------------------------------------------------------------------------------
    Row("malformed Turtle", recommend("{hostile}/malformed.ttl"), 2, ("not valid Turtle", "line 8")),
    Row(
        "Turtle prefix not declared",
        recommend("{hostile}/undeclared-prefix.ttl"),
        2,
        ("not valid Turtle", "line 3", "ex:"),
    ),
    Row(
        "Turtle relative IRIs resolve against the file",
        recommend("{hostile}/relative-iri.ttl", "--format", "json"),
        0,
        ("file://", "relative-patient", "not-applicable"),
    ),
    Row(
        "Turtle nested 20,000 deep",
        recommend("{tmp}/deep.ttl"),
        2,
        ("nests too deeply",),
        write("deep.ttl", DEEP_TURTLE),
    ),
    Row("malformed N-Triples", recommend("{hostile}/malformed.nt"), 2, ("not valid N-Triples",)),
    Row("malformed JSON-LD", recommend("{hostile}/malformed.jsonld"), 2, ("not valid JSON-LD", "line 7")),
    Row(
        "JSON-LD that is a bare string",
        recommend("{hostile}/not-an-object.jsonld"),
        2,
        ("not valid JSON-LD", "not an object"),
    ),
    Row(
        "JSON-LD nested 20,000 deep",
        recommend("{tmp}/deep.jsonld"),
        2,
        ("nests too deeply",),
        write("deep.jsonld", DEEP_JSONLD),
    ),
    Row(
        "JSON-LD remote context",
        recommend("{hostile}/remote-context.jsonld"),
        2,
        ("context by reference", "https://example.org/contexts", "inline"),
    ),
    Row(
        "JSON-LD context read from a local file",
        recommend("{hostile}/local-context.jsonld"),
        2,
        ("context by reference", "file:///etc/passwd"),
        never=("root:",),
    ),
    Row("malformed RDF/XML", recommend("{hostile}/malformed.rdf"), 2, ("not valid RDF/XML",)),
    Row(
        "RDF/XML entity-expansion bomb (billion laughs)",
        recommend("{hostile}/billion-laughs.rdf"),
        2,
        ("&lol1;", "entity-expansion bomb"),
    ),
    Row(
        "RDF/XML entity repeated past the size limit",
        recommend("{tmp}/blowup.rdf"),
        2,
        ("expand to 5,000,000 characters",),
        quadratic_blowup,
    ),
    Row(
        "RDF/XML external entity (XXE) on a local file",
        recommend("{tmp}/xxe.rdf"),
        2,
        ("external entity", "&xxe;"),
        xxe,
        never=(SECRET,),
    ),
    Row("RDF/XML external DTD", recommend("{hostile}/external-dtd.rdf"), 2, ("external DTD", "evil.dtd")),
    Row(
        "RDF/XML parameter entity",
        recommend("{hostile}/parameter-entity.rdf"),
        2,
        ("parameter entity", "%remote;"),
    ),
    Row(
        "RDF/XML plain entities (Protege style) are read",
        recommend("{hostile}/protege-entities.rdf"),
        0,
        ("Next step: no action from this algorithm.",),  # the label of not-applicable
    ),
    Row(
        "RDF/XML IRI with an escaped '>'",
        recommend("{hostile}/iri-with-angle-bracket.rdf"),
        2,
        ("IRIs cannot contain", "DROP ALL"),
    ),
    Row("a file with no patient", recommend("{hostile}/no-patient.ttl"), 2, ("holds no patient",)),
    # --- records that violate a shape: exit 1, the shape named ------------------------------
    Row(
        "wrong datatype: onset as free text",
        recommend("{hostile}/wrong-datatype-onset.ttl"),
        1,
        ("symptom onset date", "xsd:date"),
    ),
    Row("wrong datatype: 30 February", recommend("{hostile}/invalid-date.ttl"), 1, ("symptom onset date",)),
    Row(
        "wrong datatype: onset as xsd:dateTime",
        recommend("{hostile}/datetime-onset.ttl"),
        1,
        ("symptom onset date",),
    ),
    Row(
        "wrong datatype: suspicion as a string",
        recommend("{hostile}/wrong-datatype-suspicion.ttl"),
        1,
        ("clinical suspicion",),
    ),
    Row(
        "wrong datatype: patch volume as words",
        recommend("{hostile}/wrong-datatype-volume.ttl"),
        1,
        ("patch volume",),
    ),
    Row(
        "unknown code: csf:findingStatus csf:sometimes",
        recommend("{hostile}/unknown-status-code.ttl", "--format", "json"),
        1,
        ("finding status", "sometimes"),
    ),
    Row(
        "unknown class: csf:Migraine",
        recommend("{hostile}/unknown-finding-class.ttl"),
        1,
        ("[finding]", "clinical finding class"),
    ),
    Row("a blank-node patient", recommend("{hostile}/blank-node-patient.ttl"), 1, ("[patient]", "IRI")),
    Row(
        "future date: symptom onset",
        recommend("{hostile}/future-onset.ttl"),
        1,
        ("onset not after assessment", "2026-04-15"),
    ),
    Row(
        "future date: a completed procedure",
        recommend("{hostile}/future-completed-procedure.ttl"),
        1,
        ("completed procedure not in the future",),
    ),
    Row(
        "future date: --onset after --today",
        ("recommend", "--symptom", "orthostatic-headache", "--onset", "2026-05-01", "--today", "2026-03-01"),
        1,
        ("onset not after assessment",),
    ),
    Row(
        "contradictory facts: fever present and absent",
        recommend("{hostile}/contradictory-finding.ttl"),
        1,
        ("both present and absent",),
    ),
    Row(
        "contradictory facts: a normal MRI showing a leak sign",
        recommend("{hostile}/contradictory-study.ttl"),
        1,
        ("normal study with a leak sign",),
    ),
    # --- choosing patients --------------------------------------------------------------------
    Row(
        "patient IRI not in the file",
        recommend("{hostile}/one-patient.ttl", "--patient", "https://example.org/csfkg/hostile/nobody"),
        2,
        ("nobody", "not in the file"),
    ),
    Row(
        "two patients and no --patient",
        recommend("{hostile}/two-patients.ttl"),
        2,
        ("2 patients", "--patient", "--all"),
    ),
    Row(
        "20,000 patients with --all",
        recommend("{tmp}/many.ttl", "--all"),
        2,
        ("20,000 patients", "at most 1,000"),
        many_patients,
    ),
    Row(
        "20,000 patients for a query",
        ("query", "next-step", "{tmp}/many.ttl"),
        2,
        ("20,000 patients", "at most 1,000", "csfkg cohort"),
        many_patients,
    ),
    # --- arguments ----------------------------------------------------------------------------
    Row(
        "--today not a date",
        recommend("{hostile}/one-patient.ttl", "--today", "next tuesday"),
        2,
        ("--today", "YYYY-MM-DD", "'next tuesday'"),
    ),
    Row(
        "--today a day that does not exist",
        recommend("{hostile}/one-patient.ttl", "--today", "2026-02-30"),
        2,
        ("--today 2026-02-30", "does not exist"),
    ),
    Row(
        "contradictory flags",
        ("recommend", "--symptom", "orthostatic-headache", "--absent", "orthostatic-headache"),
        2,
        ("contradict",),
    ),
    Row("unknown flag value", ("recommend", "--red-flag", "sometimes"), 2, ("--red-flag", "sometimes")),
    Row(
        "negative count",
        ("recommend", "--symptom", "orthostatic-headache", "--ebp-count", "-1"),
        2,
        ("--ebp-count",),
    ),
    Row(
        "--output into a folder that does not exist",
        recommend("{hostile}/one-patient.ttl", "--output", "{tmp}/no/such/folder/out.txt"),
        2,
        ("does not exist",),
    ),
    # --- injection ----------------------------------------------------------------------------
    Row(
        "--patient value that tries to inject SPARQL",
        recommend("{hostile}/one-patient.ttl", "--patient", "x> } ; DROP ALL ; #"),
        2,
        ("not in the file",),
    ),
    Row(
        "patient IRI in the file that tries to inject SPARQL",
        recommend("{hostile}/iri-injection.ttl"),
        2,
        ("IRIs cannot contain", "UNION"),
    ),
    Row(
        "query parameter that tries to inject SPARQL",
        ("query", "next-step", "--param", "patient=<x> } DROP ALL {", "{hostile}/one-patient.ttl"),
        2,
        ("--param patient", "IRI"),
    ),
    Row(
        "query parameter that tries to close a string",
        ("query", "next-step", "--param", 'patient=x" } DROP ALL { "', "{hostile}/one-patient.ttl"),
        2,
        ("--param patient", "IRI"),
    ),
    Row(
        "query file that is an update (DROP ALL)",
        ("query", "--file", "{hostile}/drop-all.rq", "{hostile}/one-patient.ttl"),
        2,
        ("SPARQL Update",),
    ),
    Row(
        "query file with SERVICE",
        ("query", "--file", "{hostile}/service.rq", "{hostile}/one-patient.ttl"),
        2,
        ("SERVICE", "--allow-remote"),
    ),
    Row(
        "query file with FROM a local file",
        ("query", "--file", "{tmp}/from-file.rq", "{hostile}/one-patient.ttl", "--format", "csv"),
        0,
        ("https://example.org/csfkg/hostile/p",),
        from_local_file,
        never=(SECRET,),
    ),
    # --- cohort files (csfkg load, csfkg cohort FILE): the same checks, but no 4 MiB limit ---
    Row(
        "load: RDF/XML entity-expansion bomb",
        load("{hostile}/billion-laughs.rdf"),
        2,
        ("&lol1;", "entity-expansion bomb"),
    ),
    Row(
        "cohort: RDF/XML entity-expansion bomb",
        ("cohort", "{hostile}/billion-laughs.rdf", "--output", "{tmp}/rows.csv"),
        2,
        ("&lol1;", "entity-expansion bomb"),
    ),
    Row(
        "load: RDF/XML entity repeated past ten times the file",
        load("{tmp}/blowup.rdf"),
        2,
        ("expand to 5,000,000 characters",),
        quadratic_blowup,
    ),
    Row(
        "load: RDF/XML external entity (XXE)",
        load("{tmp}/xxe.rdf"),
        2,
        ("external entity", "&xxe;"),
        xxe,
        never=(SECRET,),
    ),
    Row("load: RDF/XML external DTD", load("{hostile}/external-dtd.rdf"), 2, ("external DTD", "evil.dtd")),
    Row(
        "load: JSON-LD remote context",
        load("{hostile}/remote-context.jsonld"),
        2,
        ("context by reference", "https://example.org/contexts"),
    ),
    Row(
        "cohort: JSON-LD context read from a local file",
        ("cohort", "{hostile}/local-context.jsonld", "--output", "{tmp}/rows.csv"),
        2,
        ("context by reference", "file:///etc/passwd"),
        never=("root:",),
    ),
    Row(
        "load: an IRI with an escaped '>'",
        load("{hostile}/iri-injection.ttl"),
        2,
        ("not valid RDF", "Invalid IRI code point '>'"),
    ),
    Row("load: a directory instead of a file", load("{hostile}"), 2, ("is a directory",)),
    Row("load: an endless device (/dev/zero)", load("/dev/zero"), 2, ("not a regular file",)),
    Row(
        "load: a store folder that is not a store",
        load("{hostile}/one-patient.ttl", store="{tmp}/documents"),
        2,
        ("not a store",),
        not_a_store,
    ),
]


def _limit_memory() -> None:  # runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _command() -> list[str]:
    script = Path(sys.executable).with_name("csfkg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "csfkg.cli.main"]


def test_the_table_has_at_least_25_rows() -> None:
    assert len(ROWS) >= 25
    assert len({row.id for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_hostile_input(row: Row, tmp_path: Path) -> None:
    if "/dev/zero" in row.args and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    if row.make is not None:
        row.make(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)).replace("{hostile}", str(HOSTILE)) for a in row.args]
    before = {p: p.read_bytes() for p in HOSTILE.iterdir()}
    env = {k: v for k, v in os.environ.items() if k != "CSFKG_DEBUG"}
    try:
        done = subprocess.run(
            [*_command(), *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            preexec_fn=_limit_memory if sys.platform.startswith("linux") else None,
            env=env,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{row.id}: csfkg {' '.join(args)[:200]} did not finish in {TIMEOUT} s")
    shown = f"exit {done.returncode}\nstdout: {done.stdout[:1500]}\nstderr: {done.stderr[:1500]}"
    assert done.returncode == row.code, shown
    assert "Traceback" not in done.stdout + done.stderr, shown
    assert "internal error" not in done.stderr, shown
    if row.code == 2:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("csfkg: "), shown
        assert done.stdout == "", shown
        message = lines[0]
    else:
        message = done.stdout + done.stderr
    for word in row.words:
        assert word in message, f"{word!r} missing\n{shown}"
    for word in row.never:
        assert word not in done.stdout + done.stderr, f"{word!r} leaked\n{shown}"
    assert {p: p.read_bytes() for p in HOSTILE.iterdir()} == before, "an input file was changed"


# ---------------------------------------------------------------------------------------
# the RDF/XML check for files of any size (loaders that hand a whole file to a parser)
# ---------------------------------------------------------------------------------------
def _entity_file(path: Path, value: str, references: int) -> Path:
    path.write_text(
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE rdf:RDF [ <!ENTITY a "{value}"> ]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:csf="https://w3id.org/csfkg/ontology#">\n'
        f'  <csf:Patient rdf:about="https://example.org/csfkg/hostile/p"><csf:note>{"&a;" * references}</csf:note></csf:Patient>\n'
        "</rdf:RDF>\n",
        encoding="utf-8",
    )
    return path


def test_the_streaming_rdf_xml_check_refuses_what_the_patient_file_check_refuses() -> None:
    from csfkg.io.patient_files import check_rdf_xml_file
    from csfkg.model.errors import InputError

    for name, words in (
        ("billion-laughs.rdf", "entity-expansion bomb"),
        ("external-dtd.rdf", "external DTD"),
        ("parameter-entity.rdf", "parameter entity"),
    ):
        with pytest.raises(InputError, match=words):
            check_rdf_xml_file(HOSTILE / name)
    check_rdf_xml_file(HOSTILE / "protege-entities.rdf")  # plain entities pass


def test_the_streaming_rdf_xml_check_counts_references_across_chunks(tmp_path: Path) -> None:
    """1,000,000 references (3 MB, read in 1 MiB chunks): a 9-character entity may expand the file
    to 9 MB (within ten times its size), a 100-character one to 100 MB may not - and the count in
    the message is exact, so no reference split by a chunk boundary is lost or counted twice."""
    from csfkg.io.patient_files import check_rdf_xml_file
    from csfkg.model.errors import InputError

    check_rdf_xml_file(_entity_file(tmp_path / "fine.rdf", "a" * 9, 1_000_000))
    with pytest.raises(InputError, match="expand to 100,000,000 characters"):
        check_rdf_xml_file(_entity_file(tmp_path / "blowup.rdf", "a" * 100, 1_000_000))


# ---------------------------------------------------------------------------------------
# cohort files: no 4 MiB limit for what the bulk loader streams, a limit for what is read whole
# ---------------------------------------------------------------------------------------
def test_cohort_files_have_no_patient_file_limit_but_files_read_whole_have_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csfkg.stores.loading as store_load
    from csfkg.cohort.synth import write_cohort_file
    from csfkg.io.patient_files import MAX_FILE_BYTES
    from csfkg.model.errors import InputError
    from csfkg.stores import OxigraphStore, RdflibStore

    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=1000, seed=3)
    assert cohort.stat().st_size > MAX_FILE_BYTES
    assert store_load.load_files(OxigraphStore(), [cohort]) > 30_000

    monkeypatch.setattr(store_load, "MAX_WHOLE_FILE_BYTES", 1024)
    with pytest.raises(InputError, match="cohort.nt is larger than .* read whole"):
        store_load.load_files(RdflibStore(), [cohort])  # parsed whole by rdflib
    document = tmp_path / "cohort.jsonld"
    document.write_text(
        '{"@id": "https://example.org/p", "https://example.org/note": "' + "x" * 2000 + '"}', encoding="utf-8"
    )
    with pytest.raises(InputError, match="cohort.jsonld is larger than .* read whole"):
        store_load.load_files(OxigraphStore(), [document])
