"""``csfkg export``: the merged release as Turtle, RDF/XML (for Protege) or JSON-LD.

Keep heavy imports (rdflib, pyshacl, owlready2, ...) inside the command functions: every module
here is imported on each start of the console script.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class ExportFormat(str, Enum):
    ttl = "ttl"
    owl = "owl"
    jsonld = "jsonld"


def export(
    output_format: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="ttl (Turtle), owl (RDF/XML, for Protege) or jsonld; default: from the --output extension, else ttl.",
            show_default=False,
        ),
    ] = None,
    reasoned: Annotated[
        bool,
        typer.Option(
            "--reasoned", help="Add the subclass and class assertion axioms HermiT infers (needs Java)."
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (atomically) instead of standard output."),
    ] = None,
) -> None:
    """Write the merged release: TBox, guideline knowledge and article statements in one
    ontology with its own IRI and version IRI, imports removed."""
    from csfkg.curation.release import format_for_path, release_graph, serialize_release
    from csfkg.io.output import write_atomically
    from csfkg.model.errors import UsageError

    implied = format_for_path(output.name) if output is not None else None
    if output_format is None:
        chosen = implied or "ttl"
    else:
        chosen = output_format.value
        if implied is not None and implied != chosen:
            raise UsageError(
                f"--format {chosen} does not match the extension of {output}: write to a .{chosen} file or leave out --format."
            )
    graph = release_graph(reasoned=reasoned)
    text = serialize_release(graph, chosen)  # type: ignore[arg-type]
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomically(output, text)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.command(name="export")(export)
