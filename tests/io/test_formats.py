"""The format registry: the readers keep the formats they read by extension, and an output file's
extension must be that of the format written to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from csfkg.io.formats import (
    LOAD_FILE_FORMATS,
    PATIENT_FILE_FORMATS,
    REGISTRY,
    input_format,
    output_format,
)
from csfkg.model.errors import UsageError

# the two tables the readers had before the registry (kg/io/patient_files.py FORMATS and
# kg/stores/loading.py LOAD_FORMATS), written out here as the behaviour to keep
OLD_PATIENT_FORMATS = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "nt",
    ".n3": "n3",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
}
OLD_LOAD_FORMATS = {**OLD_PATIENT_FORMATS, ".nq": "nquads"}


@pytest.mark.parametrize("suffix, rdflib_name", sorted(OLD_PATIENT_FORMATS.items()))
def test_patient_files_keep_their_formats(suffix: str, rdflib_name: str) -> None:
    assert input_format(Path(f"p{suffix}"), PATIENT_FILE_FORMATS) == rdflib_name
    assert input_format(Path(f"p{suffix.upper()}"), PATIENT_FILE_FORMATS) == rdflib_name


@pytest.mark.parametrize("suffix, rdflib_name", sorted(OLD_LOAD_FORMATS.items()))
def test_loaded_files_keep_their_formats(suffix: str, rdflib_name: str) -> None:
    assert input_format(Path(f"cohort{suffix}"), LOAD_FILE_FORMATS) == rdflib_name


@pytest.mark.parametrize(
    "name", ["p", "p.txt", "p.html", "p.trig", "p.trix", "p.svg", "p.nq", "ttl", "p.ttl.gz"]
)
def test_any_other_patient_file_is_read_as_turtle(name: str) -> None:
    """rdflib's table knows .html, .trig, .trix, .svg: a patient file is still read as Turtle
    (and refused as such when it is not), as before; so is N-Quads, which only a store loads."""
    assert input_format(Path(name), PATIENT_FILE_FORMATS) == "turtle"


def test_every_format_has_extensions_and_rdf_formats_an_rdflib_name() -> None:
    for name, fmt in REGISTRY.items():
        assert fmt.name == name and fmt.extensions
    assert {n for n, f in REGISTRY.items() if f.rdflib} == {"ttl", "nt", "n3", "nq", "jsonld", "owl"}
    assert REGISTRY["owl"].extensions[0] == "owl" and REGISTRY["jsonld"].extensions[0] == "jsonld"


@pytest.mark.parametrize(
    "requested, output, allowed, chosen",
    [
        (None, None, ("text", "json", "ttl"), "text"),  # the default
        (None, "r.json", ("text", "json", "ttl"), "json"),  # guessed from the extension
        (None, "r.JSON", ("ttl", "owl", "jsonld"), "jsonld"),  # .json means JSON-LD where no JSON is written
        (None, "release.rdf", ("ttl", "owl", "jsonld"), "owl"),
        (None, "r", ("text", "json"), "text"),  # no extension: the default
        ("ttl", "r", ("text", "ttl"), "ttl"),  # no extension: any format
        ("ttl", "r.turtle", ("text", "ttl"), "ttl"),
        ("text", "r.txt", ("text", "json"), "text"),
    ],
)
def test_output_format(
    requested: str | None, output: str | None, allowed: tuple[str, ...], chosen: str
) -> None:
    path = Path(output) if output is not None else None
    assert output_format(requested, path, allowed=allowed, default=allowed[0]) == chosen


@pytest.mark.parametrize(
    "requested, output, words",
    [
        ("ttl", "x.owx", ["--format ttl does not match", "x.owx", ".ttl or .turtle"]),
        ("json", "x.csv", ["--format json does not match", ".json"]),
        (None, "x.owx", ["x.owx ends in .owx", "ttl, owl or jsonld", "--format"]),
    ],
)
def test_output_file_of_another_format_is_refused(
    requested: str | None, output: str, words: list[str]
) -> None:
    with pytest.raises(UsageError) as raised:
        output_format(requested, Path(output), allowed=("ttl", "owl", "jsonld"), default="ttl")
    for word in words:
        assert word in str(raised.value)
