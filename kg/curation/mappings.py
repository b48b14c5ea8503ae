"""SSSOM mapping tables (``ontology/mappings/*.sssom.tsv``): read them, and render them as RDF.

An SSSOM/TSV file is a YAML metadata block in ``#`` lines (``curie_map``, ``mapping_set_id``,
``license``, ...) followed by a tab-separated table, one mapping a row. This module reads the
subset of YAML that SSSOM metadata blocks use (scalars, one level of nested maps, block and flow
sequences) with the standard library only: the ``sssom`` package would bring in pandas, LinkML
and some fifty other distributions for what is, here, a table of 45 rows.

The mappings are rendered two ways:

* :func:`skos_triples` - the direct triples ``subject predicate object`` (what the ontology
  asserts as ``skos:exactMatch`` and the like);
* :func:`sssom_rdf` - the SSSOM/RDF form: one ``sssom:MappingSet`` per file and one ``owl:Axiom``
  per row with ``owl:annotatedSource`` / ``owl:annotatedProperty`` / ``owl:annotatedTarget``,
  which is what the quality checks query (``unmapped-identifier-violation.rq``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.abc import Traversable
from pathlib import Path

from rdflib import OWL, RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS, XSD

from csfkg.model.errors import InputError
from csfkg.model.resources import ontology_dir
from csfkg.model.vocab import LINKML, PAV, SEMAPV, SSSOM, STANDARD_PREFIXES

BUILT_IN_PREFIXES: dict[str, str] = {
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": STANDARD_PREFIXES["rdfs"],
    "semapv": str(SEMAPV),
    "skos": str(SKOS),
    "sssom": str(SSSOM),
    "xsd": str(XSD),
    "linkml": str(LINKML),
}
"""Prefixes that an SSSOM file may use without declaring them in its ``curie_map``."""

MAPPING_PREDICATES: frozenset[URIRef] = frozenset(
    {SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch}
)
"""The predicates a csfkg mapping may use: the release carries every mapping as a skos triple."""

REQUIRED_COLUMNS: tuple[str, ...] = ("subject_id", "predicate_id", "object_id", "mapping_justification")
REQUIRED_METADATA: tuple[str, ...] = ("curie_map", "mapping_set_id", "license")
MULTIVALUED_COLUMNS: frozenset[str] = frozenset(
    {"author_id", "author_label", "reviewer_id", "reviewer_label", "creator_id", "creator_label", "see_also"}
)

_CURIE = re.compile(r"^(?P<prefix>[A-Za-z_][A-Za-z0-9_.-]*):(?P<local>\S*)$")


@dataclass(frozen=True)
class Mapping:
    """One row of a mapping table, with its CURIEs expanded to IRIs."""

    subject: URIRef
    predicate: URIRef
    object: URIRef
    justification: URIRef
    row: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    """The row as written (CURIEs, labels, comment), by column name."""

    @property
    def subject_id(self) -> str:
        return self.row.get("subject_id", "")

    @property
    def object_id(self) -> str:
        return self.row.get("object_id", "")

    @property
    def subject_label(self) -> str:
        return self.row.get("subject_label", "")

    @property
    def object_label(self) -> str:
        return self.row.get("object_label", "")

    @property
    def predicate_id(self) -> str:
        return self.row.get("predicate_id", "")

    @property
    def comment(self) -> str:
        return self.row.get("comment", "")

    @property
    def triple(self) -> tuple[URIRef, URIRef, URIRef]:
        return (self.subject, self.predicate, self.object)


@dataclass(frozen=True)
class MappingSet:
    """One SSSOM/TSV file: its metadata block, prefix map and mappings."""

    name: str
    metadata: dict[str, object]
    curie_map: dict[str, str]
    mappings: tuple[Mapping, ...]

    @property
    def id(self) -> URIRef:
        return URIRef(str(self.metadata["mapping_set_id"]))

    @property
    def title(self) -> str:
        return str(self.metadata.get("mapping_set_title", self.name))

    def expand(self, curie: str) -> URIRef:
        """The IRI of a CURIE, by this set's prefix map and the SSSOM built-in prefixes.

        Raises:
            InputError: the value is not a CURIE, or its prefix is not declared.
        """
        return _expand(curie, self.curie_map, where=self.name)


# --- reading -------------------------------------------------------------------------------------
def parse_sssom(text: str, *, name: str = "<text>") -> MappingSet:
    """Read an SSSOM/TSV text (embedded metadata mode).

    Raises:
        InputError: the metadata block or the table is malformed, a required slot or column is
            missing, a CURIE has an undeclared prefix, or a predicate is not a SKOS mapping
            predicate.
    """
    lines = text.splitlines()
    header = [line for line in _leading(lines, lambda line: line.startswith("#"))]
    table = "\n".join(lines[len(header) :])
    metadata = parse_metadata_block(header, name=name)
    for slot in REQUIRED_METADATA:
        if slot not in metadata:
            raise InputError(f"{name}: the SSSOM metadata block has no {slot!r}.")
    curie_map = metadata["curie_map"]
    if not isinstance(curie_map, dict):
        raise InputError(f"{name}: 'curie_map' must be a map of prefix to IRI prefix.")
    curie_map = {str(k): str(v) for k, v in curie_map.items()}
    reader = csv.DictReader(io.StringIO(table), delimiter="\t", quotechar='"', strict=True)
    columns = reader.fieldnames or []
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise InputError(f"{name}: the SSSOM table has no column {missing[0]!r}.")
    mappings: list[Mapping] = []
    try:
        for number, record in enumerate(reader, start=2):
            if None in record or any(value is None for value in record.values()):
                raise InputError(f"{name}: row {number} of the table does not have {len(columns)} columns.")
            row = {key: value.strip() for key, value in record.items()}
            for column in REQUIRED_COLUMNS:
                if not row[column]:
                    raise InputError(f"{name}: row {number} has an empty {column}.")
            predicate = _expand(row["predicate_id"], curie_map, where=f"{name} row {number}")
            if predicate not in MAPPING_PREDICATES:
                raise InputError(
                    f"{name}: row {number} uses the predicate {row['predicate_id']}, not a SKOS mapping predicate."
                )
            mappings.append(
                Mapping(
                    subject=_expand(row["subject_id"], curie_map, where=f"{name} row {number}"),
                    predicate=predicate,
                    object=_expand(row["object_id"], curie_map, where=f"{name} row {number}"),
                    justification=_expand(
                        row["mapping_justification"], curie_map, where=f"{name} row {number}"
                    ),
                    row=row,
                )
            )
    except csv.Error as error:
        raise InputError(f"{name}: the SSSOM table is not valid TSV ({error}).") from None
    return MappingSet(name=name, metadata=metadata, curie_map=curie_map, mappings=tuple(mappings))


def read_sssom(path: Path | Traversable) -> MappingSet:
    """Read one SSSOM/TSV file.

    Raises:
        InputError: the file cannot be read or is malformed (see :func:`parse_sssom`).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"Cannot read the mapping table {path}: {error}.") from None
    return parse_sssom(text, name=path.name)


def mappings_dir() -> Traversable:
    """The packaged ``ontology/mappings/`` folder."""
    return ontology_dir().joinpath("mappings")


@cache
def packaged_mapping_sets() -> tuple[MappingSet, ...]:
    """Every packaged ``*.sssom.tsv`` table, by file name."""
    files = sorted(
        (entry for entry in mappings_dir().iterdir() if entry.name.endswith(".sssom.tsv")),
        key=lambda e: e.name,
    )
    return tuple(read_sssom(entry) for entry in files)


def multivalued(value: str) -> list[str]:
    """Split a multi-valued SSSOM cell on ``|`` (``\\|`` and ``\\\\`` are escapes)."""
    values: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value) and value[index + 1] in "|\\":
            current.append(value[index + 1])
            index += 2
            continue
        if char == "|":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    values.append("".join(current))
    return [v for v in values if v]


# --- rendering -----------------------------------------------------------------------------------
def skos_triples(sets: Iterable[MappingSet] | None = None) -> Graph:
    """The mappings as direct triples (``csf:Fever skos:exactMatch obo:HP_0001945``)."""
    graph = Graph()
    graph.bind("skos", SKOS)
    for mapping_set in packaged_mapping_sets() if sets is None else sets:
        for mapping in mapping_set.mappings:
            graph.add(mapping.triple)
    return graph


def sssom_rdf(sets: Iterable[MappingSet] | None = None) -> Graph:
    """The mapping sets in SSSOM/RDF: a ``sssom:MappingSet`` each, an ``owl:Axiom`` a mapping.

    Mapping records are blank nodes (the tables have no ``record_id``); set-level slots that SSSOM
    propagates (``mapping_date``) are written on every record, as the SSSOM/RDF specification
    recommends for generic RDF applications.
    """
    graph = Graph()
    for prefix, namespace in (
        ("sssom", SSSOM),
        ("semapv", SEMAPV),
        ("owl", OWL),
        ("skos", SKOS),
        ("pav", PAV),
    ):
        graph.bind(prefix, namespace)
    for mapping_set in packaged_mapping_sets() if sets is None else sets:
        set_node = mapping_set.id
        graph.add((set_node, RDF.type, SSSOM.MappingSet))
        license_ = mapping_set.metadata.get("license")
        if license_:
            graph.add((set_node, DCTERMS.license, URIRef(str(license_))))
        for slot, predicate in (
            ("mapping_set_title", DCTERMS.title),
            ("mapping_set_description", DCTERMS.description),
        ):
            if slot in mapping_set.metadata:
                graph.add((set_node, predicate, Literal(str(mapping_set.metadata[slot]))))
        if "mapping_set_version" in mapping_set.metadata:
            graph.add((set_node, OWL.versionInfo, Literal(str(mapping_set.metadata["mapping_set_version"]))))
        date = mapping_set.metadata.get("mapping_date")
        for mapping in mapping_set.mappings:
            record = _record_node(mapping_set, mapping)
            graph.add((set_node, SSSOM.mappings, record))
            graph.add((record, RDF.type, OWL.Axiom))
            graph.add((record, OWL.annotatedSource, mapping.subject))
            graph.add((record, OWL.annotatedProperty, mapping.predicate))
            graph.add((record, OWL.annotatedTarget, mapping.object))
            graph.add((record, SSSOM.mapping_justification, mapping.justification))
            for column in ("subject_label", "object_label", "comment"):
                if mapping.row.get(column):
                    graph.add((record, SSSOM[column], Literal(mapping.row[column])))
            for author in multivalued(mapping.row.get("author_label", "")):
                graph.add((record, SSSOM.author_label, Literal(author)))
            if date:
                graph.add((record, DCTERMS.created, Literal(str(date), datatype=XSD.date)))
    return graph


def _record_node(mapping_set: MappingSet, mapping: Mapping) -> BNode:
    """A blank node labelled from the set and the triple: serialisations compare equal between runs."""
    key = "|".join((str(mapping_set.id), *map(str, mapping.triple)))
    return BNode("m" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16])


# --- CURIEs and the metadata block -----------------------------------------------------------------
def _expand(curie: str, curie_map: dict[str, str], *, where: str) -> URIRef:
    match = _CURIE.match(curie)
    if match is None or curie.startswith(("http://", "https://")):
        raise InputError(f"{where}: {curie!r} is not a CURIE (SSSOM/TSV writes identifiers as CURIEs).")
    prefix = match.group("prefix")
    base = curie_map.get(prefix, BUILT_IN_PREFIXES.get(prefix))
    if base is None:
        raise InputError(f"{where}: the prefix {prefix!r} of {curie} is not declared in the curie_map.")
    return URIRef(base + match.group("local"))


def _leading(lines: list[str], keep) -> Iterable[str]:
    for line in lines:
        if not keep(line):
            return
        yield line


def parse_metadata_block(lines: list[str], *, name: str = "<text>") -> dict[str, object]:
    """Read an SSSOM metadata block (``#`` lines) written in the YAML subset SSSOM uses.

    Supported: ``key: scalar``; ``key:`` followed by indented ``sub: scalar`` lines (a map) or
    ``- item`` lines (a sequence); flow sequences ``[a, b]``; plain, single- and double-quoted
    scalars. Scalars stay strings (dates included).

    Raises:
        InputError: the block uses YAML this reader does not support (anchors, aliases, tags,
            block scalars, flow maps) or is not indented consistently.
    """
    content = [line[1:] for line in lines]
    pad = next((len(line) - len(line.lstrip(" ")) for line in content if line.strip()), 0)
    result: dict[str, object] = {}
    current: str | None = None
    for number, raw in enumerate(content, start=1):
        if not raw.strip() or raw.strip().startswith("#"):
            continue
        if raw[:pad].strip():
            raise InputError(f"{name}: line {number} of the metadata block is not indented like the others.")
        line = raw[pad:]
        indent = len(line) - len(line.lstrip(" "))
        body = line.strip()
        if indent == 0:
            key, value = _key_value(body, name=name, number=number)
            if key in result:
                raise InputError(f"{name}: the metadata block sets {key!r} twice.")
            if value == "":
                result[key] = None
                current = key
            else:
                result[key] = _value(value, name=name, number=number)
                current = None
            continue
        if current is None:
            raise InputError(f"{name}: line {number} of the metadata block is indented under no key.")
        if body.startswith("- ") or body == "-":
            container = result[current]
            if container is None:
                container = result[current] = []
            if not isinstance(container, list):
                raise InputError(f"{name}: line {number} mixes a list item into the map {current!r}.")
            container.append(_scalar(body[1:].strip(), name=name, number=number))
        else:
            container = result[current]
            if container is None:
                container = result[current] = {}
            if not isinstance(container, dict):
                raise InputError(f"{name}: line {number} mixes a map entry into the list {current!r}.")
            key, value = _key_value(body, name=name, number=number)
            container[key] = _scalar(value, name=name, number=number)
    return result


def _key_value(body: str, *, name: str, number: int) -> tuple[str, str]:
    key, sep, value = body.partition(":")
    if not sep or not key or (value and not value.startswith(" ")):
        raise InputError(f"{name}: line {number} of the metadata block is not 'key: value'.")
    return _scalar(key.strip(), name=name, number=number), value.strip()


def _value(text: str, *, name: str, number: int) -> object:
    if text.startswith("["):
        if not text.endswith("]"):
            raise InputError(f"{name}: line {number} has an unclosed flow sequence.")
        inner = text[1:-1].strip()
        if not inner:
            return []
        return [
            _scalar(part.strip(), name=name, number=number)
            for part in next(csv.reader([inner], skipinitialspace=True))
        ]
    return _scalar(text, name=name, number=number)


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t"}


def _unescape(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in _ESCAPES:
            out.append(_ESCAPES[text[index + 1]])
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def _scalar(text: str, *, name: str, number: int) -> str:
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"'):
            raise InputError(f"{name}: line {number} has an unclosed double-quoted string.")
        return _unescape(text[1:-1])
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise InputError(f"{name}: line {number} has an unclosed single-quoted string.")
        return text[1:-1].replace("''", "'")
    if text[:1] in {"&", "*", "!", "|", ">", "{", "%", "@", "`"}:
        raise InputError(
            f"{name}: line {number} uses YAML that SSSOM metadata blocks must not use ({text[:1]!r})."
        )
    comment = text.find(" #")
    return (text[:comment] if comment >= 0 else text).strip()
