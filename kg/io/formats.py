"""The one registry of file formats: the names a user types after ``--format`` (``ttl``, ``nt``,
``jsonld``, ``owl``, ``json``, ``csv``, ``text``, ``fhir``; ``n3`` and ``nq`` are read only), rdflib's name
for each RDF format, and the file extensions that go with each.

The extensions of the RDF formats are rdflib's own (``rdflib.util.SUFFIX_FORMAT_MAP``, the table
``guess_format`` reads), restricted to the formats a reader accepts; the registry adds only
``.turtle``, which rdflib does not know. An output file must carry an extension of the format it
receives (:func:`output_format`), so that ``--format ttl --output x.owx`` is refused rather than
written as Turtle under an OWL/XML name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rdflib.util import SUFFIX_FORMAT_MAP

from csfkg.model.errors import UsageError


@dataclass(frozen=True)
class Format:
    """A format: its name on the command line, its name for people, rdflib's name (RDF formats
    only) and the extensions of its files, the usual one first (without the dot)."""

    name: str
    label: str
    rdflib: str | None
    extensions: tuple[str, ...]


def _rdf(name: str, label: str, rdflib_name: str, *extra: str) -> Format:
    """An RDF format whose extensions are rdflib's for it (``SUFFIX_FORMAT_MAP``), then ``extra``;
    our own name first when rdflib knows it as an extension."""
    known = [suffix for suffix, fmt in SUFFIX_FORMAT_MAP.items() if fmt == rdflib_name]
    ordered = sorted(known, key=lambda suffix: suffix != name)
    return Format(name, label, rdflib_name, (*ordered, *extra))


REGISTRY: dict[str, Format] = {
    f.name: f
    for f in (
        _rdf("ttl", "Turtle", "turtle", "turtle"),
        _rdf("nt", "N-Triples", "nt"),
        _rdf("n3", "N3", "n3"),
        _rdf("nq", "N-Quads", "nquads"),
        _rdf("jsonld", "JSON-LD", "json-ld"),
        _rdf("owl", "RDF/XML", "xml"),
        Format("json", "JSON", None, ("json",)),
        Format("csv", "CSV", None, ("csv",)),
        Format("text", "text", None, ("txt", "text")),
        Format("fhir", "FHIR R4 JSON", None, ("json",)),
    )
}
"""Every format by its command-line name."""

OLD_NAMES: dict[str, str] = {"turtle": "ttl", "table": "text"}
"""Spellings of format names from before there was one per format (``recommend --format turtle``,
``query --format table``), still accepted on the command line and shown nowhere."""

PATIENT_FILE_FORMATS = ("ttl", "nt", "n3", "jsonld", "owl")
"""The formats a patient file may be in (anything else is read as Turtle)."""

LOAD_FILE_FORMATS = (*PATIENT_FILE_FORMATS, "nq")
"""The formats a file loaded into a store may be in (anything else is read as Turtle)."""


def by_rdflib_name(rdflib_name: str) -> Format:
    """The format rdflib calls ``rdflib_name`` (``turtle``, ``xml``, ...).

    Raises:
        KeyError: no format of the registry has that rdflib name.
    """
    for fmt in REGISTRY.values():
        if fmt.rdflib == rdflib_name:
            return fmt
    raise KeyError(rdflib_name)


def input_format(path: Path, accepted: Sequence[str]) -> str:
    """rdflib's name for the format of an RDF file to read, by its extension, among the
    ``accepted`` formats; Turtle for any other extension."""
    suffix = path.suffix.lower().lstrip(".")
    for name in accepted:
        fmt = REGISTRY[name]
        if fmt.rdflib is not None and suffix in fmt.extensions:
            return fmt.rdflib
    return "turtle"


def _listed(words: Sequence[str], last: str = "or") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def output_format(requested: str | None, output: Path | None, *, allowed: Sequence[str], default: str) -> str:
    """The format to write: ``requested`` (``--format``), else the one ``output``'s extension
    names among ``allowed`` (the first that claims it), else ``default``.

    A file without an extension takes any format.

    Raises:
        UsageError: ``output``'s extension is not one of the requested format's, or, without
            ``--format``, not one of any allowed format's.
    """
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    if requested is not None:
        fmt = REGISTRY[requested]
        if suffix and suffix not in fmt.extensions:
            endings = _listed([f".{e}" for e in fmt.extensions])
            raise UsageError(
                f"--format {requested} does not match the extension of {output}: {fmt.label} goes to a "
                f"file ending in {endings}; rename the file or leave out --format."
            )
        return requested
    if not suffix:
        return default
    for name in allowed:
        if suffix in REGISTRY[name].extensions:
            return name
    endings = _listed([f".{REGISTRY[name].extensions[0]}" for name in allowed])
    raise UsageError(
        f"--output {output} ends in .{suffix}, which is none of the formats written here "
        f"({_listed(list(allowed))}): give a file ending in {endings}, or choose one with --format."
    )


def check_output_extension(output: Path, fmt: str, *, option: str = "--output") -> None:
    """Refuse an output file for a command that writes one format only (``csfkg cohort`` writes
    CSV) whose extension is not that format's; a file without an extension is taken.

    Raises:
        UsageError: the extension is not one of ``fmt``'s.
    """
    suffix = output.suffix.lower().lstrip(".")
    spec = REGISTRY[fmt]
    if suffix and suffix not in spec.extensions:
        endings = _listed([f".{e}" for e in spec.extensions])
        raise UsageError(
            f"{option} {output} ends in .{suffix}, but {spec.label} is written there: give a file ending in {endings}."
        )
