"""Reading patient files: format by extension, one clear sentence for every way a file can be
wrong, selection of the patients to assess, and the assessment date."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD

from .errors import InputError, PatientSelectionError
from .vocab import CSF, PREFIXES

FORMATS: dict[str, str] = {
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
FORMAT_NAMES: dict[str, str] = {
    "turtle": "Turtle",
    "nt": "N-Triples",
    "n3": "N3",
    "json-ld": "JSON-LD",
    "xml": "RDF/XML",
}


def _syntax_error_sentence(path: Path, fmt: str, error: Exception) -> str:
    text = " ".join(str(error).split())
    line = re.search(r"at line (\d+)", text) or re.search(r"line (\d+)", text)
    why = re.search(r"Bad syntax \((.*?)\) at \^", text)
    reason = why.group(1) if why else text.split(" at ^ in:")[0]
    reason = reason[:160].rstrip(". ")
    where = f" at line {line.group(1)}" if line else ""
    return f"{path} is not valid {FORMAT_NAMES[fmt]}{where}: {reason}."


def read_patient_file(path: Path) -> Graph:
    """Parse a patient file (Turtle unless the extension says otherwise).

    Raises:
        InputError: the file is missing, a directory, empty, not UTF-8 text, not valid RDF,
            or holds no ``csf:Patient``.
    """
    if not path.exists():
        raise InputError(f"File not found: {path}.")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a patient file.")
    fmt = FORMATS.get(path.suffix.lower(), "turtle")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror}.") from None
    if not raw.strip():
        raise InputError(f"{path} is empty: it holds no patient.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text (is it a binary file?).") from None
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    try:
        graph.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
    except Exception as error:  # every parser raises its own types; all mean bad syntax
        raise InputError(_syntax_error_sentence(path, fmt, error)) from None
    if not patients_in(graph):
        raise InputError(f"{path} holds no patient: no node is typed csf:Patient ({CSF.Patient}).")
    return graph


def patients_in(graph: Graph) -> list[URIRef]:
    """The patients of a graph (nodes typed ``csf:Patient``), sorted by IRI."""
    return sorted({s for s in graph.subjects(RDF.type, CSF.Patient)}, key=str)  # type: ignore[misc]


def select_patients(graph: Graph, *, patient: str | None, all_patients: bool) -> list[URIRef]:
    """The patients to assess: the one named, all of them, or the only one.

    ``patient`` is a full IRI or a prefixed name using the file's prefixes (``ex:p1``).

    Raises:
        PatientSelectionError: the named patient is not in the file, or the file holds
            several patients and neither ``patient`` nor ``all_patients`` was given.
    """
    found = patients_in(graph)
    if patient is not None:
        wanted = _expand(graph, patient)
        if wanted not in found:
            raise PatientSelectionError(
                f"Patient {patient} is not in the file; it holds {_names(found)}."
            )
        return [wanted]
    if all_patients or len(found) == 1:
        return found
    raise PatientSelectionError(
        f"The file holds {len(found)} patients ({_names(found)}): choose one with --patient IRI, or use --all."
    )


def _expand(graph: Graph, name: str) -> URIRef:
    name = name.strip().strip("<>")
    if ":" in name and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", name) and not name.startswith("urn:"):
        try:
            return URIRef(graph.namespace_manager.expand_curie(name))
        except ValueError:
            pass
    return URIRef(name)


def _names(patients: list[URIRef], limit: int = 5) -> str:
    shown = ", ".join(f"<{p}>" for p in patients[:limit])
    return shown + (f" and {len(patients) - limit} more" if len(patients) > limit else "")


def set_assessment_date(graph: Graph, patients: list[URIRef], today: date | None) -> None:
    """Give each patient its assessment date: ``today`` when given (replacing the file's),
    else the file's own, else the current date."""
    for patient in patients:
        if today is not None:
            graph.remove((patient, CSF.assessmentDate, None))
        if today is not None or graph.value(patient, CSF.assessmentDate) is None:
            graph.add((patient, CSF.assessmentDate, Literal(today or date.today(), datatype=XSD.date)))
