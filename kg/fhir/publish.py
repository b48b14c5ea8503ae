"""What is published from the graph for FHIR users: our CodeSystem
(``ontology/csfkg.codesystem.json``, every labelled csf: term with its label and definition) and
the mapping table of ``docs/fhir-mapping.md`` (which FHIR element and code becomes which csf
term), both generated from the ontology, the codings of ``queries/fhir-codings.rq`` and the
element table of :mod:`csfkg.fhir.mapping`. Tests check that the committed files are in step;
``python -m csfkg.fhir.publish REPOSITORY`` writes them again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rdflib import OWL, RDFS, SKOS

from csfkg.fhir import mapping
from csfkg.fhir.codes import code_table
from csfkg.fhir.mapping import ELEMENTS, RECORD_CODES
from csfkg.io.output import write_atomically
from csfkg.model.knowledge import ontology_graph
from csfkg.model.vocab import FHIR_CODE_SYSTEM, FHIR_EXTENSION_BASE, ONTOLOGY_IRI, prefixed_name

CODE_SYSTEM_FILE = "csfkg.codesystem.json"
"""The CodeSystem's file name in ``ontology/``."""
MAPPING_DOC = Path("docs") / "fhir-mapping.md"
"""The mapping table's path in the repository."""


def code_system() -> dict[str, Any]:
    """Our FHIR CodeSystem: one concept per code of :data:`~csfkg.model.vocab.FHIR_CODE_SYSTEM`
    (the local name of a labelled, undeprecated csf: term), with its label and definition;
    validated with ``fhir.resources``."""
    from fhir.resources.R4B.codesystem import CodeSystem

    graph = ontology_graph()
    version = str(graph.value(ONTOLOGY_IRI, OWL.versionInfo))
    concepts = []
    for coding in code_table().codings:
        if coding.match != "own":
            continue
        concept = {"code": coding.code, "display": str(graph.value(coding.term, RDFS.label))}
        definition = graph.value(coding.term, SKOS.definition)
        if definition is not None:
            concept["definition"] = str(definition)
        concepts.append(concept)
    concepts.sort(key=lambda c: c["code"])
    resource = {
        "resourceType": "CodeSystem",
        "id": "csfkg",
        "url": FHIR_CODE_SYSTEM,
        "version": version,
        "name": "Csfkg",
        "title": "csfkg: terms of the CSF leak knowledge graph without a standard code",
        "status": "active",
        "experimental": True,
        "description": (
            "Every class, individual and property of the csfkg ontology, coded by its local name "
            f"(the term's IRI is {ONTOLOGY_IRI}#CODE). Generated from the ontology; FHIR extensions of "
            f"csfkg are {FHIR_EXTENSION_BASE}PROPERTY."
        ),
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }
    CodeSystem.model_validate(resource)
    return resource


def code_system_json() -> str:
    """:func:`code_system` as the text of ``ontology/csfkg.codesystem.json``."""
    return json.dumps(code_system(), indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def mapping_markdown() -> str:
    """The text of ``docs/fhir-mapping.md``: the codes each FHIR element is read with (resource,
    element, code system, code, csf term, match), then the elements that hold values."""
    table = code_table()
    lines = [
        "# FHIR R4 mapping",
        "",
        "Generated from the graph by `csfkg.fhir.publish.mapping_markdown` (`python -m csfkg.fhir.publish .`",
        "writes it again; `tests/fhir/test_publish.py` fails when this file is not in step). The importer",
        "(`csfkg import-fhir`, and `recommend`/`cohort` given a Bundle) and the writer read the same tables:",
        "`kg/fhir/mapping.py` (elements) and the ontology's `skos:*Match` mappings",
        "(`queries/fhir-codings.rq`). A code is imported as the csf term when it matches exactly, closely,",
        "or is narrower (`narrow`); `broad` and `related` codes are listed but not imported (the resource",
        "is ignored and counted). `own`: our CodeSystem, `" + FHIR_CODE_SYSTEM + "`",
        "(`ontology/" + CODE_SYSTEM_FILE + "`).",
        "",
        "## Codes",
        "",
        "| resource | element | code system | code | csf term | match |",
        "|---|---|---|---|---|---|",
    ]
    places = [(c.resource, c.element, c.scope) for c in RECORD_CODES]
    places += [
        (
            e.resource,
            e.element if e.element != "extension" else f"extension {e.extension_url}",
            e.scope or e.property,
        )
        for e in ELEMENTS
        if e.kind in ("code", "node", "flag")
    ]
    seen: set[tuple[str, ...]] = set()
    for resource, element, scope in places:
        for coding in table.codings:
            if scope not in table.scopes.get(coding.term, ()):
                continue
            row = (resource, element, coding.system, coding.code, prefixed_name(coding.term), coding.match)
            if row not in seen:
                seen.add(row)
                lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    choices = (mapping.__doc__ or "").split("Choices (documented in ``docs/fhir-mapping.md``):", 1)[-1]
    lines += ["", "## Choices", "", *choices.strip().replace("``", "`").splitlines()]
    lines += [
        "",
        "## Elements",
        "",
        "| resource | element | csf property | value |",
        "|---|---|---|---|",
    ]
    for e in ELEMENTS:
        element = e.element if e.element != "extension" else f"extension {e.extension_url}"
        value = {"code": "a code of a " + prefixed_name(e.scope) if e.scope else "a code"}.get(e.kind, e.kind)
        if e.kind == "node":
            value = f"a node of the class a code of a {prefixed_name(e.scope)} names"  # type: ignore[arg-type]
        lines.append(f"| {e.resource} | {_cell(element)} | {prefixed_name(e.property)} | {value} |")
    return "\n".join(lines) + "\n"


def write_published(repository: Path) -> list[Path]:
    """Write the CodeSystem and the mapping table into a checkout of the repository."""
    written = [repository / "ontology" / CODE_SYSTEM_FILE, repository / MAPPING_DOC]
    write_atomically(written[0], code_system_json())
    write_atomically(written[1], mapping_markdown())
    return written


if __name__ == "__main__":
    write_published(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
