"""``csfkg reason``: HermiT through owlready2 - consistency, classification, inferred patient types.

Keep heavy imports (rdflib, pyshacl, owlready2, ...) inside the command functions: every module
here is imported on each start of the console script.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

SEED_EXAMPLE = Path("examples") / "seed-patient.ttl"


class ReasonFormat(str, Enum):
    text = "text"
    json = "json"


def _default_patient_files() -> list[Path]:
    """The article's patient: ``examples/seed-patient.ttl`` in the working folder, else in the
    source checkout this package runs from; nothing if neither exists."""
    checkout = Path(__file__).resolve().parents[1] / SEED_EXAMPLE
    return [path for path in (SEED_EXAMPLE, checkout) if path.is_file()][:1]


def reason(
    patient_files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATIENT.ttl",
            help="Patient files to classify (Turtle, N-Triples, JSON-LD or RDF/XML by extension); default: examples/seed-patient.ttl.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        ReasonFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReasonFormat.text,
) -> None:
    """Run HermiT on ontology + guideline + article + patients: consistency, the inferred
    hierarchy of the defined classes, and each patient's inferred types.

    Exit code 0 consistent, 1 inconsistent (or a class is unsatisfiable), 2 error (no Java,
    unreadable file). Date literals of the patients are read as plain strings (xsd:date is
    outside the OWL 2 datatype map).
    """
    from csfkg.curation.reasoning import reason_over_files, render_json, render_text

    report = reason_over_files(list(patient_files) if patient_files else _default_patient_files())
    renderer = render_json if output_format is ReasonFormat.json else render_text
    typer.echo(renderer(report), nl=False)
    if not report.conforms:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.command(name="reason")(reason)
