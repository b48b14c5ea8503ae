"""``csfkg export``: the merged release as Turtle, RDF/XML (for Protege) or JSON-LD.

Keep heavy imports (rdflib, pyshacl, owlready2, ...) inside the command functions: every module
here is imported on each start of the console script.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
