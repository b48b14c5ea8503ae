"""Lookups for a person at a terminal: ``csfkg protocol``, ``findings``, ``red-flags``, ``lookup``, ``explain``.

Keep heavy imports (rdflib, pyshacl, owlready2, ...) inside the command functions: every module
here is imported on each start of the console script.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from .output import TodayOption


class LookupFormat(str, Enum):
    text = "text"
    json = "json"


class Study(str, Enum):
    brain = "brain"
    spine = "spine"


FormatOption = Annotated[LookupFormat, typer.Option("--format", "-f", help="Output format.")]


def _show(data: Any, output_format: LookupFormat, renderer: Callable[[Any], str]) -> None:
    if output_format is LookupFormat.json:
        import json

        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        typer.echo(renderer(data), nl=False)


def protocol(
    which: Annotated[
        Study, typer.Argument(metavar="brain|spine", help="The brain or the whole spine MRI protocol.")
    ],
    output_format: FormatOption = LookupFormat.text,
) -> None:
    """The sequences an MRI protocol requires, with their parameters and the evidence (tier, source)."""
    from csfkg.lookups.guideline import protocol as read_protocol
    from csfkg.lookups.guideline import render_protocol

    _show(read_protocol(which.value), output_format, render_protocol)


def findings(
    which: Annotated[
        Study, typer.Argument(metavar="brain|spine", help="Findings on brain MRI or on whole spine MRI.")
    ],
    output_format: FormatOption = LookupFormat.text,
) -> None:
    """The expected MRI findings of a CSF leak, with frequency evidence and caveats."""
    from csfkg.lookups.guideline import findings as read_findings
    from csfkg.lookups.guideline import render_findings

    _show(read_findings(which.value), output_format, render_findings)


def red_flags(output_format: FormatOption = LookupFormat.text) -> None:
    """The red flag signs that need immediate evaluation, with the evidence."""
    from csfkg.lookups.guideline import red_flags as read_red_flags
    from csfkg.lookups.guideline import render_red_flags

    _show(read_red_flags(), output_format, render_red_flags)


def lookup(
    text: Annotated[
        str,
        typer.Argument(
            metavar="TEXT",
            help="A label, synonym, code or identifier: STIR, blood patch, G96.02, HP:0001945.",
        ),
    ],
    output_format: FormatOption = LookupFormat.text,
) -> None:
    """Find nodes of the knowledge graph by label, synonym, code or mapped identifier; exit 1 when
    nothing matches (the closest names are suggested)."""
    from csfkg.lookups.guideline import lookup as search
    from csfkg.lookups.guideline import render_lookup

    found = search(text)
    _show(found, output_format, render_lookup)
    if not found["matches"]:
        raise typer.Exit(code=1)


def explain(
    patient_file: Annotated[
        Path,
        typer.Argument(
            metavar="PATIENT.ttl",
            help="Patient file (Turtle, N-Triples, JSON-LD or RDF/XML by extension).",
            show_default=False,
        ),
    ],
    patient: Annotated[
        str | None,
        typer.Option("--patient", help="IRI (or prefixed name) of the patient, when the file holds several."),
    ] = None,
    all_patients: Annotated[bool, typer.Option("--all", help="Explain every patient of the file.")] = False,
    today: TodayOption = None,
    output_format: FormatOption = LookupFormat.text,
) -> None:
    """Why this next step: the rule, the criteria met and not met with the patient facts, and all the evidence."""
    from csfkg.fhir.inputs import read_patient_input
    from csfkg.io.flags import parse_date_option
    from csfkg.io.patient_files import select_patients
    from csfkg.pipeline.assess import assess
    from csfkg.pipeline.render import render_explain, render_json

    found = read_patient_input(patient_file)
    if found.note:
        typer.echo(f"csfkg: {found.note}", err=True)
    graph = found.graph
    chosen = select_patients(graph, patient=patient, all_patients=all_patients)
    run = assess(graph, chosen, today=parse_date_option(today, "--today"))
    renderer = render_json if output_format is LookupFormat.json else render_explain
    typer.echo(renderer(run), nl=False)
    if not run.conforms:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.command(name="protocol")(protocol)
    app.command(name="findings")(findings)
    app.command(name="red-flags")(red_flags)
    app.command(name="lookup")(lookup)
    app.command(name="explain")(explain)
