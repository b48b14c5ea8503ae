"""SSSOM mapping tables (``ontology/mappings/*.sssom.tsv``): read them, and render them as RDF.

An SSSOM/TSV file is a YAML metadata block in ``#`` lines (``curie_map``, ``mapping_set_id``,
``license``, ...) followed by a tab-separated table, one mapping a row. This module reads the
metadata block with PyYAML and the table with the csv module: the ``sssom`` package would bring
in pandas, LinkML and some fifty other distributions for what is, here, a table of 45 rows.

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

import yaml
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


class _MetadataLoader(yaml.BaseLoader):
    """PyYAML's BaseLoader (every scalar a string: dates and versions stay as written) that
    refuses a key given twice, which YAML forbids and PyYAML would otherwise settle by keeping
    the last value."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is set twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_REFUSED_TOKENS = (yaml.AnchorToken, yaml.AliasToken, yaml.TagToken, yaml.DirectiveToken)


def parse_metadata_block(lines: list[str], *, name: str = "<text>") -> dict[str, object]:
    """Read an SSSOM metadata block: the ``#`` lines, without their ``#``, are a YAML map (read
    with PyYAML). Scalars stay strings (dates included).

    Raises:
        InputError: the block is not valid YAML, is not a map, sets a key twice, or uses anchors,
            aliases, tags or directives (which a metadata block has no use for).
    """
    text = "\n".join(line[1:] for line in lines)
    try:
        for token in yaml.scan(text, Loader=_MetadataLoader):
            if isinstance(token, _REFUSED_TOKENS):
                raise InputError(
                    f"{name}: line {token.start_mark.line + 1} of the metadata block uses YAML that SSSOM "
                    "metadata blocks must not use (an anchor, alias, tag or directive)."
                )
        # BaseLoader builds only str, list and dict: no Python object can be named in the file.
        metadata = yaml.load(text, Loader=_MetadataLoader)
    except yaml.MarkedYAMLError as error:
        where = f" at line {error.problem_mark.line + 1}" if error.problem_mark is not None else ""
        raise InputError(f"{name}: the metadata block is not valid YAML{where}: {error.problem}.") from None
    except yaml.YAMLError as error:
        raise InputError(f"{name}: the metadata block is not valid YAML: {error}.") from None
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InputError(f"{name}: the metadata block is not a map of slot names to values.")
    return metadata
