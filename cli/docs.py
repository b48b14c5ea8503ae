"""``csfkg docs``: browsable HTML documentation and a picture of the management algorithm.

Keep heavy imports (rdflib, pyshacl, owlready2, ...) inside the command functions: every module
here is imported on each start of the console script.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class PictureKind(str, Enum):
    auto = "auto"
    svg = "svg"
    outline = "outline"
    mermaid = "mermaid"  # the older name of outline


def docs(
    out: Annotated[
        Path,
        typer.Argument(
            metavar="OUT",
            help="Folder to write: new, empty, or an earlier csfkg docs output (replaced as a whole).",
            show_default=False,
        ),
    ],
    picture: Annotated[
        PictureKind,
        typer.Option(
            "--picture",
            help="Algorithm picture: svg (graphviz dot), outline (static HTML, with algorithm.mmd for a Mermaid viewer), or auto (svg when dot is on the PATH).",
        ),
    ] = PictureKind.auto,
) -> None:
    """Write browsable HTML documentation of the ontology, with a picture of the management algorithm
    and the class hierarchy HermiT infers (when Java is on the PATH)."""
    from csfkg.curation.docs import build_docs

    result = build_docs(out, picture=picture.value)
    pages = [name for name in result.files if name.endswith(".html")]
    how = "SVG (graphviz)" if result.picture == "svg" else "outline"
    if result.picture == "outline" and picture is PictureKind.auto:
        how += " (graphviz dot is not on the PATH)"
    hierarchy = (
        "inferred (HermiT)"
        if result.hierarchy == "inferred"
        else "asserted only (Java is not on the PATH, HermiT did not run)"
    )
    typer.echo(
        f"Wrote {result.folder}/ ({len(result.files)} files, {result.size_bytes / 1024:.0f} KiB): "
        f"{', '.join(pages)}; algorithm picture: {how}; class hierarchy: {hierarchy}."
        f" Open {result.folder / 'index.html'}."
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.command(name="docs")(docs)
