"""Reading patient files: format by extension, one clear sentence for every way a file can be
wrong, selection of the patients to assess, and the assessment date.

A patient file is untrusted input. Before rdflib sees it, it is

- bounded: at most :data:`MAX_FILE_BYTES` are read, whatever the file is (a regular file, a
  pipe, ``/dev/zero``), so a huge file costs neither time nor memory;
- decoded as UTF-8 (a byte-order mark is allowed);
- for RDF/XML, checked for DOCTYPE declarations that would reach outside the file or expand
  without bound: an external DTD, external or parameter entities, entities that refer to other
  entities (the "billion laughs" bomb) and entity references that would expand to more text than
  the file limit are refused. Python's expat never fetches external entities, but it replaces them
  by nothing without a word, and rdflib's RDF/XML handler takes quadratic time on a large
  expansion; plain entities such as Protege's ``<!ENTITY owl "http://www.w3.org/2002/07/owl#">``
  are kept;
- for JSON-LD, checked for contexts given by reference (``"@context": "https://..."`` or
  ``"file:///..."``, ``"@import"``): rdflib would fetch them from the network or read them from
  the disk; a patient file must carry its context inline.

After parsing, an IRI holding a character that IRIs cannot contain (a Turtle ``\\u003E`` escape
gives ``>``) is refused, since it could not be passed on to a query engine as a term, and a
selection of more than :data:`MAX_PATIENTS_PER_RUN` patients is refused.

:func:`check_rdf_xml_file` applies the RDF/XML rules to a file of any size in bounded memory, for
loaders that hand whole files to a parser (Oxigraph's RDF/XML parser expands entities).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.parsers import expat

from rdflib import RDF, XSD, Graph, URIRef

from csfkg.io.formats import PATIENT_FILE_FORMATS, by_rdflib_name, input_format
from csfkg.model.errors import InputError, PatientSelectionError
from csfkg.model.ordering import natural_key
from csfkg.model.vocab import CSF, PREFIXES

MAX_FILE_BYTES = 4 * 1024 * 1024
"""The largest patient file read (4 MiB: some 1,000 patients in Turtle; one patient takes a few
kB). Parsing costs rdflib about 7 s and 200 MB a megabyte, so the limit bounds a run to about
half a minute and under a gigabyte; cohorts belong in a store, not in one file read whole."""

MAX_PATIENTS_PER_RUN = 1000
"""The most patients one run validates and derives (``--all``)."""

MAX_ENTITY_CHARACTERS = 1000
"""The longest replacement text of an XML entity declared in an RDF/XML patient file."""

_BAD_IRI_CHARACTER = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f]')


def _syntax_error_sentence(path: Path, fmt: str, error: Exception) -> str:
    text = " ".join(str(error).split())
    line = re.search(r"at line (\d+)", text) or re.search(r"line (\d+)", text)
    why = re.search(r"Bad syntax \((.*?)\) at \^", text)
    reason = why.group(1) if why else text.split(" at ^ in:")[0]
    reason = reason[:160].rstrip(". ")
    where = f" at line {line.group(1)}" if line else ""
    return f"{path} is not valid {by_rdflib_name(fmt).label}{where}: {reason}."


def read_at_most(path: Path, limit: int, too_large: str) -> bytes:
    """The bytes of ``path``, refused when there are more than ``limit`` (an endless file such as
    ``/dev/zero`` included): ``too_large`` is the end of that sentence, after "PATH is larger
    than N MB, ".

    Raises:
        InputError: the file cannot be read or is larger than the limit.
    """
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror or error}.") from None
    if len(raw) > limit:
        raise InputError(f"{path} is larger than {limit // (1024 * 1024)} MB, {too_large}")
    return raw


class _StopScan(Exception):
    """The prolog of an XML document has been read."""


PROLOG_BYTES = 1024 * 1024
"""How much of an RDF/XML file :func:`check_rdf_xml_file` reads to find its DOCTYPE."""

_ENTITY_REFERENCE = re.compile(rb"&([A-Za-z_:][A-Za-z0-9_.:-]*);")


def _declared_entities(path: Path, head: bytes, *, complete: bool) -> dict[str, str] | None:
    """The plain entities an XML prolog declares; None when ``head`` ends before the root element.

    Raises:
        InputError: an external DTD, an external or parameter entity, an entity whose value refers
            to another entity, or one longer than :data:`MAX_ENTITY_CHARACTERS`.
    """
    entities: dict[str, str] = {}
    reached_root = False

    def doctype(name: str, system_id: str | None, public_id: str | None, has_internal_subset: int) -> None:
        if system_id or public_id:
            raise InputError(
                f"{path} declares an external DTD ({system_id or public_id}); csfkg reads nothing outside the file: "
                "remove the DOCTYPE's SYSTEM or PUBLIC identifier."
            )

    def entity(name, is_parameter, value, base, system_id, public_id, notation):
        if is_parameter:
            raise InputError(
                f"{path} declares the parameter entity %{name};, which csfkg refuses: declare plain entities only."
            )
        if system_id or public_id:
            raise InputError(
                f"{path} declares the external entity &{name}; ({system_id or public_id}), which would read a file or "
                "the network; csfkg refuses external entities: write the value in the file."
            )
        value = value or ""
        if "&" in value or "%" in value:
            raise InputError(
                f"{path} declares the entity &{name}; in terms of other entities, which can expand without bound "
                "(an entity-expansion bomb); csfkg refuses nested entities."
            )
        if len(value) > MAX_ENTITY_CHARACTERS:
            raise InputError(
                f"{path} declares the entity &{name}; of {len(value)} characters; entities are limited to {MAX_ENTITY_CHARACTERS}."
            )
        entities[name] = value

    def element(name: str, attributes: object) -> None:
        nonlocal reached_root
        reached_root = True
        raise _StopScan

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.StartElementHandler = element
    try:
        parser.Parse(head, complete)
    except (_StopScan, expat.ExpatError):
        pass  # syntax errors are the RDF/XML parser's to report
    return entities if reached_root or complete else None


def _check_expansion(path: Path, entities: dict[str, str], counts: dict[str, int], limit: int) -> None:
    expansion = sum(len(value) * counts.get(name, 0) for name, value in entities.items())
    if expansion > limit:
        raise InputError(
            f"{path} uses its XML entities so often that they would expand to {expansion:,} characters, "
            f"more than the {limit // (1024 * 1024)} MB this file may grow to."
        )


def check_xml_entities(path: Path, text: str) -> None:
    """Refuse an RDF/XML document whose DOCTYPE reaches outside the file or expands without bound.

    Only the prolog is parsed (up to the root element); syntax errors are left to the RDF/XML parser.

    Raises:
        InputError: an external DTD, an external or parameter entity, an entity whose value refers
            to another entity or is longer than :data:`MAX_ENTITY_CHARACTERS`, or entity
            references that would expand to more than :data:`MAX_FILE_BYTES` characters.
    """
    if "<!DOCTYPE" not in text and "<!ENTITY" not in text:
        return
    data = text.encode("utf-8")
    entities = _declared_entities(path, data, complete=True) or {}
    counts: dict[str, int] = {}
    for match in _ENTITY_REFERENCE.finditer(data):
        name = match.group(1).decode("utf-8", "replace")
        counts[name] = counts.get(name, 0) + 1
    _check_expansion(path, entities, counts, MAX_FILE_BYTES)


def check_rdf_xml_file(path: Path) -> None:
    """:func:`check_xml_entities` for an RDF/XML file of any size, in bounded memory: the prolog is
    read from the first :data:`PROLOG_BYTES`, entity references are counted chunk by chunk, and the
    entities may expand the file to at most ten times its size (at least :data:`MAX_FILE_BYTES`).
    For loaders that hand a whole file to a parser (Oxigraph's RDF/XML parser expands entities).

    Raises:
        InputError: as :func:`check_xml_entities`; also a DOCTYPE longer than :data:`PROLOG_BYTES`,
            or a file that cannot be read.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(PROLOG_BYTES)
            if b"<!DOCTYPE" not in head and b"<!ENTITY" not in head:
                return
            entities = _declared_entities(path, head, complete=len(head) < PROLOG_BYTES)
            if entities is None:
                raise InputError(
                    f"{path} has a DOCTYPE longer than {PROLOG_BYTES // (1024 * 1024)} MB, which csfkg refuses."
                )
            if not entities:
                return
            counts: dict[str, int] = {}
            handle.seek(0)
            carry = b""
            while chunk := handle.read(PROLOG_BYTES):
                buffer = carry + chunk
                cut = buffer.rfind(b"&")
                carry = b""
                if cut != -1 and b";" not in buffer[cut:] and len(buffer) - cut < 256:
                    buffer, carry = buffer[:cut], buffer[cut:]
                for match in _ENTITY_REFERENCE.finditer(buffer):
                    name = match.group(1).decode("utf-8", "replace")
                    counts[name] = counts.get(name, 0) + 1
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror or error}.") from None
    _check_expansion(path, entities, counts, max(MAX_FILE_BYTES, 10 * size))


def check_jsonld_contexts(path: Path, text: str) -> None:
    """Refuse a JSON-LD document that is not JSON or names a context by reference.

    Raises:
        InputError: the text is not JSON (with its line), nests too deeply, is not an object or an
            array, or an ``@context`` or ``@import`` names a document (rdflib would fetch it from the network or the disk).
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path} is not valid JSON-LD at line {error.lineno}: {error.msg}.") from None
    except RecursionError:
        raise InputError(f"{path} is not valid JSON-LD: it nests too deeply.") from None
    if not isinstance(document, (dict, list)):
        raise InputError(
            f"{path} is not valid JSON-LD: the document is a {type(document).__name__}, not an object or an array."
        )
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("@context", "@import"):
                    for reference in value if isinstance(value, list) else [value]:
                        if isinstance(reference, str):
                            raise InputError(
                                f"{path} names its JSON-LD context by reference ({reference}), which would be fetched "
                                "from the network or read from the disk; write the context inline."
                            )
                stack.append(value)


@contextmanager
def rdflib_reading() -> Iterator[None]:
    """rdflib reading a file: quiet (it logs a warning for each malformed IRI; the refusal that
    follows says it in one sentence), and each literal kept with the lexical form the file gives
    it: rdflib otherwise rewrites some ill-typed ones into valid ones ("yes"^^xsd:boolean and
    " true"^^xsd:boolean both become "false"), and the compiled SHACL checks, which read the
    text, would then pass a value the file never held (pySHACL sees rdflib's ill-typed flag
    either way)."""
    import rdflib

    logger = logging.getLogger("rdflib")
    level = logger.level
    normalize = rdflib.NORMALIZE_LITERALS
    logger.setLevel(logging.ERROR)
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        logger.setLevel(level)
        rdflib.NORMALIZE_LITERALS = normalize


def check_iris(path: Path, graph: Graph) -> None:
    """Refuse a graph holding an IRI with a character IRIs cannot contain.

    Raises:
        InputError: naming the first such IRI.
    """
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef) and _BAD_IRI_CHARACTER.search(term):
                shown = repr(str(term)[:120])
                raise InputError(
                    f"{path} holds the IRI {shown}, which contains a character IRIs cannot contain "
                    '(a space, a control character or one of <>"{}|^`\\).'
                )


def read_patient_file(path: Path) -> Graph:
    """Parse a patient file (Turtle unless the extension says otherwise).

    Raises:
        InputError: the file is missing, a directory, larger than :data:`MAX_FILE_BYTES`, empty,
            not UTF-8 text, not valid RDF, unsafe RDF/XML or JSON-LD (see the module docstring),
            holds a malformed IRI, or holds no ``csf:Patient``.
    """
    graph = read_rdf_file(path, "a patient file", "it holds no patient")
    if not patients_in(graph):
        raise InputError(f"{path} holds no patient: no node is typed csf:Patient ({CSF.Patient}).")
    return graph


def check_file(path: Path, kind: str) -> None:
    """Refuse a ``path`` that is missing or a directory (``kind``: what was expected, "a patient
    file").

    Raises:
        InputError: one sentence.
    """
    if not path.exists():
        raise InputError(f"File not found: {path}.")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not {kind}.")


def read_text(path: Path, limit: int, empty: str) -> str:
    """The UTF-8 text of ``path`` (a byte-order mark dropped), refused when larger than ``limit``
    bytes, not UTF-8 or blank (``empty`` ends that sentence: "it holds no patient").

    Raises:
        InputError: one sentence.
    """
    raw = read_at_most(path, limit, "the limit for a patient file; split it into smaller files.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path} is not UTF-8 text (byte {error.start} cannot be read; is it a binary file?)."
        ) from None
    if not text.strip():
        raise InputError(f"{path} is empty: {empty}.")
    return text


def read_rdf_file(path: Path, kind: str = "an RDF file", empty: str = "it holds no triple") -> Graph:
    """Parse an RDF file with the checks of a patient file (size, encoding, safe RDF/XML and
    JSON-LD, well-formed IRIs), each literal as written; ``kind`` and ``empty`` word the refusals.

    Raises:
        InputError: the file is missing, a directory, too large, empty, not UTF-8 text, not
            valid RDF, unsafe, or holds a malformed IRI.
    """
    check_file(path, kind)
    fmt = input_format(path, PATIENT_FILE_FORMATS)
    text = read_text(path, MAX_FILE_BYTES, empty)
    if fmt == "xml":
        check_xml_entities(path, text)
    elif fmt == "json-ld":
        check_jsonld_contexts(path, text)
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    try:
        with rdflib_reading():
            if fmt == "nt":
                _parse_ntriples(text, graph)
            else:
                graph.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
    except RecursionError:
        raise InputError(f"{path} is not valid {by_rdflib_name(fmt).label}: it nests too deeply.") from None
    except Exception as error:  # every parser raises its own types; all mean bad syntax
        raise InputError(_syntax_error_sentence(path, fmt, error)) from None
    check_iris(path, graph)
    return graph


_XSD_STRING = str(XSD.string)


def _parse_ntriples(text: str, graph: Graph) -> None:
    """N-Triples by Oxigraph's parser, as the cohort engines read it: rdflib's refuses an IRI
    holding U+00A0 (or another Unicode space), which N-Triples' IRIREF and RFC 3987 allow.
    Blank node labels are kept as the file writes them; a simple literal is rdflib's plain one."""
    import pyoxigraph
    from rdflib import BNode, Literal

    def term(node: object) -> object:
        if isinstance(node, pyoxigraph.NamedNode):
            return URIRef(node.value)
        if isinstance(node, pyoxigraph.BlankNode):
            return BNode(node.value)
        assert isinstance(node, pyoxigraph.Literal)
        if node.language:
            return Literal(node.value, lang=node.language)
        if node.datatype.value == _XSD_STRING:  # RDF 1.1: "a" and "a"^^xsd:string are one term
            return Literal(node.value)
        return Literal(node.value, datatype=URIRef(node.datatype.value))

    for triple in pyoxigraph.parse(text.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES):
        graph.add((term(triple.subject), term(triple.predicate), term(triple.object)))  # type: ignore[arg-type]


def patients_in(graph: Graph) -> list[URIRef]:
    """The patients of a graph (nodes typed ``csf:Patient``), in the natural order of their IRIs
    (``p2`` before ``p10``)."""
    return sorted({s for s in graph.subjects(RDF.type, CSF.Patient)}, key=natural_key)  # type: ignore[misc]


def check_patient_count(
    patients: list[URIRef],
    *,
    holder: str = "The file holds",
    advice: str = "split the file, or choose one with --patient IRI",
) -> None:
    """Refuse to assess more than :data:`MAX_PATIENTS_PER_RUN` patients in one run; ``holder`` and
    ``advice`` begin and end the sentence.

    Raises:
        PatientSelectionError: too many patients.
    """
    if len(patients) > MAX_PATIENTS_PER_RUN:
        raise PatientSelectionError(
            f"{holder} {len(patients):,} patients; one run assesses at most {MAX_PATIENTS_PER_RUN:,} "
            f"(each is validated and derived): {advice}."
        )


def select_patients(graph: Graph, *, patient: str | None, all_patients: bool) -> list[URIRef]:
    """The patients to assess: the one named, all of them, or the only one.

    ``patient`` is a full IRI or a prefixed name using the file's prefixes (``ex:p1``).

    Raises:
        PatientSelectionError: the named patient is not in the file, the file holds several
            patients and neither ``patient`` nor ``all_patients`` was given, or ``all_patients``
            selects more than :data:`MAX_PATIENTS_PER_RUN`.
    """
    found = patients_in(graph)
    if patient is not None:
        wanted = _expand(graph, patient)
        if wanted not in found:
            raise PatientSelectionError(f"Patient {patient} is not in the file; it holds {_names(found)}.")
        return [wanted]
    if all_patients or len(found) == 1:
        check_patient_count(found)
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
    with rdflib_reading():
        return URIRef(name)


def _names(patients: list[URIRef], limit: int = 5) -> str:
    shown = ", ".join(f"<{p}>" for p in patients[:limit])
    return shown + (f" and {len(patients) - limit} more" if len(patients) > limit else "")
