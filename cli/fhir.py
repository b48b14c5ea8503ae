"""``csfkg import-fhir``: a FHIR R4 Bundle (or NDJSON of Bundles) as a patient file in Turtle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .output import OutputOption, TodayOption, emit


def import_fhir(
    bundle: Annotated[
        Path,
        typer.Argument(
            metavar="BUNDLE.json",
            help="A FHIR R4 Bundle (.json) or NDJSON of Bundles (.ndjson, as FHIR bulk export writes).",
            show_default=False,
        ),
    ],
    output: OutputOption = None,
    today: TodayOption = None,
) -> None:
    """Read a FHIR R4 Bundle into a patient file of the csf: vocabulary (Turtle): the record
    `csfkg recommend` reads. Resources and codes it does not know are ignored and counted on stderr."""
    from csfkg.fhir.inputs import is_fhir_input, read_patient_input
    from csfkg.io.flags import parse_date_option
    from csfkg.io.formats import check_output_extension
    from csfkg.model.errors import UsageError

    if output is not None:
        check_output_extension(output, "ttl")
    if bundle.exists() and not is_fhir_input(bundle):
        raise UsageError(
            f"{bundle} is not FHIR: give a Bundle (.json with a resourceType) or NDJSON of Bundles (.ndjson)."
        )
    found = read_patient_input(bundle, today=parse_date_option(today, "--today"))
    emit(found.graph.serialize(format="turtle"), output)
    if found.ignored:
        typer.echo(f"csfkg: {found.note}", err=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.command(name="import-fhir")(import_fhir)
