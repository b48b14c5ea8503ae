"""The one entry point that reads a patient input, whatever its format: an RDF patient file
(Turtle, N-Triples, JSON-LD, RDF/XML: :func:`csfkg.io.patient_files.read_patient_file`), a FHIR
R4 Bundle (a ``.json`` file whose object has a ``resourceType``; any other ``.json`` is JSON-LD)
or NDJSON of Bundles (``.ndjson``, as FHIR bulk export writes, one Bundle a line). Every
command that reads patients calls :func:`read_patient_input`.

A FHIR file is untrusted input as any patient file: read up to a limit (by default
:data:`~csfkg.io.patient_files.MAX_FILE_BYTES`) before it is parsed, decoded as UTF-8, and
nothing it refers to is fetched.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rdflib import Graph

from csfkg.fhir.bundles import FhirImport, graph_from_bundle
from csfkg.io.patient_files import (
    MAX_FILE_BYTES,
    check_file,
    check_iris,
    patients_in,
    read_patient_file,
    read_text,
)
from csfkg.model.errors import InputError
from csfkg.model.vocab import PREFIXES


@dataclass
class PatientInput:
    """A patient input read: its graph, and for FHIR the sentence that says what was ignored."""

    path: Path
    graph: Graph
    ignored: str = ""

    @property
    def note(self) -> str:
        """``PATH: ignored 3 resources: ...``, or ``""``."""
        return f"{self.path}: {self.ignored}" if self.ignored else ""


def _json(text: str, source: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{source} is not valid JSON at line {error.lineno}: {error.msg}.") from None
    except RecursionError:
        raise InputError(f"{source} is not valid JSON: it nests too deeply.") from None


def _text(path: Path, limit: int) -> str:
    check_file(path, "a patient file")
    return read_text(path, limit, "it holds no patient")


def _fhir_document(path: Path, text: str) -> object | None:
    """The JSON document of a ``.json`` file when it is FHIR (an object with a resourceType),
    else None (JSON-LD)."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None  # the JSON-LD reader says what is wrong with it
    return document if isinstance(document, dict) and "resourceType" in document else None


def is_fhir_input(path: Path) -> bool:
    """Whether :func:`read_patient_input` reads ``path`` as FHIR: an ``.ndjson`` file, or a
    ``.json`` file that begins as a FHIR resource does (a ``"resourceType"`` key in its first
    4 KiB), read without parsing the whole file."""
    suffix = path.suffix.lower()
    if suffix == ".ndjson":
        return True
    if suffix != ".json" or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return b'"resourceType"' in head


def read_fhir(
    path: Path, *, today: date | None = None, limit: int = MAX_FILE_BYTES, document: object | None = None
) -> FhirImport:
    """The patient graph of a FHIR Bundle file or NDJSON of Bundles (``.ndjson``).

    Raises:
        InputError: the file is missing, too large, not UTF-8, not JSON, not a valid FHIR R4
            Bundle (one sentence naming the line, entry, resource and element), or holds no
            Patient.
    """
    if document is not None:
        documents = [(document, str(path))]
    elif path.suffix.lower() == ".ndjson":
        text = _text(path, limit)
        documents = [
            (_json(line, f"{path} line {number}"), f"{path} line {number}")
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip()
        ]
    else:
        documents = [(_json(_text(path, limit), str(path)), str(path))]
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    ignored: Counter[str] = Counter()
    patients: set = set()
    for document, source in documents:
        found = graph_from_bundle(document, today=today, source=source)  # type: ignore[arg-type]
        clash = patients & set(found.patients)
        if clash:
            raise InputError(
                f"{source} holds the Patient {sorted(clash)[0]} again; each Patient may be in one Bundle only."
            )
        patients |= set(found.patients)
        graph += found.graph
        ignored.update(found.ignored)
    if not patients:
        raise InputError(f"{path} holds no patient: no FHIR Patient resource.")
    check_iris(path, graph)
    return FhirImport(graph=graph, patients=patients_in(graph), ignored=ignored)


def read_patient_input(path: Path, *, limit: int = MAX_FILE_BYTES, today: date | None = None) -> PatientInput:
    """A patient input of any format (see the module docstring); ``today`` is the assessment
    date :func:`~csfkg.fhir.bundles.graph_from_bundle` gives the patients of a FHIR input.

    Raises:
        InputError: as :func:`read_fhir` for FHIR, else as
            :func:`~csfkg.io.patient_files.read_patient_file`.
    """
    suffix = path.suffix.lower()
    document = _fhir_document(path, _text(path, limit)) if suffix == ".json" and path.is_file() else None
    if suffix == ".ndjson" or document is not None:
        found = read_fhir(path, limit=limit, document=document, today=today)
        return PatientInput(path, found.graph, found.ignored_sentence())
    return PatientInput(path, read_patient_file(path))
