"""``csfkg export``: the merged release as Turtle, RDF/XML (for Protege), JSON-LD or N-Triples.

Keep heavy imports (rdflib, pyshacl, owlready2, ...) inside the command functions: every module
here is imported on each start of the console script.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from .output import OutputOption, emit


class ExportFormat(str, Enum):
    ttl = "ttl"
    owl = "owl"
    jsonld = "jsonld"
    nt = "nt"


def export(
    output_format: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="ttl (Turtle), owl (RDF/XML, for Protege), jsonld or nt (N-Triples); default: from the --output extension, else ttl.",
            show_default=False,
        ),
    ] = None,
    reasoned: Annotated[
        bool,
        typer.Option(
            "--reasoned", help="Add the subclass and class assertion axioms HermiT infers (needs Java)."
        ),
    ] = False,
    output: OutputOption = None,
) -> None:
    """Write the merged release: TBox, guideline knowledge and article statements in one
    ontology with its own IRI and version IRI, imports removed."""
    from csfkg.curation.release import RELEASE_FORMATS, release_graph, serialize_release
    from csfkg.io.formats import output_format as choose_format

    chosen = choose_format(
        output_format.value if output_format else None, output, allowed=RELEASE_FORMATS, default="ttl"
    )
    graph = release_graph(reasoned=reasoned)
    text = serialize_release(graph, chosen)  # type: ignore[arg-type]
    emit(text if output is not None or text.endswith("\n") else text + "\n", output)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.command(name="export")(export)
