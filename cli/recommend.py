"""``csfkg recommend``: the next step for a patient file or a quick-lookup patient."""

from __future__ import annotations

from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .choices import (
    BRAIN_MEASUREMENTS,
    BRAIN_SIGNS,
    Finding,
    MyelographyState,
    ProcedureCode,
    ProtocolState,
    RedFlag,
    StudyState,
    Suspicion,
    Symptom,
)
from .output import OutputOption, TodayOption, emit


class RecommendFormat(str, Enum):
    text = "text"
    json = "json"
    ttl = "ttl"
    fhir = "fhir"


def _date(value: str | None, option: str) -> date | None:
    from csfkg.io.flags import parse_date_option

    return parse_date_option(value, option)


def recommend(
    patient_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="PATIENT.ttl",
            help="Patient file (Turtle, N-Triples, JSON-LD or RDF/XML by extension), a FHIR R4 Bundle (.json) or NDJSON of Bundles (.ndjson). Omit it to describe a patient with the flags below.",
            show_default=False,
        ),
    ] = None,
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient", help="IRI (or prefixed name) of the patient to assess, when the file holds several."
        ),
    ] = None,
    all_patients: Annotated[bool, typer.Option("--all", help="Assess every patient in the file.")] = False,
    output_format: Annotated[
        RecommendFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format: text, json, ttl (the derived result graph) or fhir (a FHIR R4 Bundle: GuidanceResponse + RequestGroup); default: from the --output extension, else text.",
            show_default=False,
        ),
    ] = None,
    today: TodayOption = None,
    output: OutputOption = None,
    emit_patient: Annotated[
        bool,
        typer.Option("--emit-patient", help="Print the patient graph the flags build, as Turtle, and stop."),
    ] = False,
    symptom: Annotated[
        list[Symptom] | None, typer.Option("--symptom", help="A symptom recorded present.")
    ] = None,
    absent: Annotated[
        list[Symptom] | None, typer.Option("--absent", help="A symptom recorded absent.")
    ] = None,
    onset: Annotated[
        str | None, typer.Option("--onset", metavar="YYYY-MM-DD", help="Date the symptoms began.")
    ] = None,
    prior_procedure: Annotated[
        list[ProcedureCode] | None,
        typer.Option("--prior-procedure", help="A spinal procedure already done."),
    ] = None,
    levels: Annotated[
        str | None,
        typer.Option(
            "--levels", metavar="L1-L4", help="Vertebral levels of the procedures, e.g. L1-L4 or L4,L5."
        ),
    ] = None,
    procedure_date: Annotated[
        str | None,
        typer.Option("--procedure-date", metavar="YYYY-MM-DD", help="Date of the prior procedure."),
    ] = None,
    planned_procedure: Annotated[
        list[ProcedureCode] | None,
        typer.Option("--planned-procedure", help="A spinal procedure that is planned."),
    ] = None,
    insurance_required: Annotated[
        bool,
        typer.Option(
            "--insurance-required", help="The planned procedure is required by the payer's step therapy."
        ),
    ] = False,
    brain_mri: Annotated[
        StudyState | None,
        typer.Option("--brain-mri", help="Brain MRI: not done, normal, or showing leak signs."),
    ] = None,
    spine_mri: Annotated[
        StudyState | None,
        typer.Option("--spine-mri", help="Whole spine MRI: not done, normal, or showing leak signs."),
    ] = None,
    mri_protocol: Annotated[
        ProtocolState | None,
        typer.Option(
            "--mri-protocol",
            help="Whether the MRIs had every sequence of their protocol. Not given: not recorded, which does not count as conforming.",
        ),
    ] = None,
    finding: Annotated[
        list[Finding] | None,
        typer.Option("--finding", help="An imaging finding; implies its study shows leak signs."),
    ] = None,
    sign: Annotated[
        list[str] | None,
        typer.Option(
            "--sign",
            metavar="NAME=present|absent",
            help=f"A brain MRI sign recorded present or absent; NAME: {', '.join(BRAIN_SIGNS)}.",
        ),
    ] = None,
    measure: Annotated[
        list[str] | None,
        typer.Option(
            "--measure",
            metavar="NAME=MM",
            help=f"A brain MRI measurement in millimetres; NAME: {', '.join(BRAIN_MEASUREMENTS)}.",
        ),
    ] = None,
    suspicion: Annotated[
        Suspicion | None,
        typer.Option("--suspicion", help="Clinical suspicion of a leak after normal imaging."),
    ] = None,
    ebp_count: Annotated[
        int, typer.Option("--ebp-count", min=0, help="Number of non-targeted epidural blood patches done.")
    ] = 0,
    ebp_date: Annotated[
        str | None,
        typer.Option(
            "--ebp-date", metavar="YYYY-MM-DD", help="Date of the latest of the --ebp-count patches."
        ),
    ] = None,
    targeted_count: Annotated[
        int,
        typer.Option("--targeted-count", min=0, help="Number of targeted epidural blood patches done."),
    ] = 0,
    myelography: Annotated[
        MyelographyState | None,
        typer.Option("--myelography", help="Myelography: not done, a leak localised, or no leak found."),
    ] = None,
    dural_puncture: Annotated[
        bool,
        typer.Option("--dural-puncture", help="The prior procedure punctured the dura by accident."),
    ] = False,
    no_headache: Annotated[
        bool,
        typer.Option("--no-headache", help="Both orthostatic and non-orthostatic headache recorded absent."),
    ] = False,
    symptoms_resolved: Annotated[
        bool, typer.Option("--symptoms-resolved", help="Symptoms resolved (with or without treatment).")
    ] = False,
    resolved_date: Annotated[
        str | None,
        typer.Option(
            "--resolved-date", metavar="YYYY-MM-DD", help="Date the symptoms were recorded resolved."
        ),
    ] = None,
    red_flag: Annotated[
        list[RedFlag] | None, typer.Option("--red-flag", help="A red flag recorded present.")
    ] = None,
    no_red_flags: Annotated[
        bool, typer.Option("--no-red-flags", help="Every red flag recorded absent.")
    ] = False,
) -> None:
    """What next for this patient: block first, or MRI first? With the reasons and the evidence."""
    from csfkg.fhir.inputs import read_patient_input
    from csfkg.io.flags import PatientFlags, build_patient_graph
    from csfkg.io.formats import check_output_extension
    from csfkg.io.formats import output_format as choose_format
    from csfkg.io.patient_files import select_patients
    from csfkg.model.errors import UsageError
    from csfkg.pipeline.assess import assess
    from csfkg.pipeline.render import render_json, render_text, render_turtle
    from csfkg.pipeline.render_fhir import render_fhir

    flags = PatientFlags(
        symptoms=[s.value for s in symptom or []],
        absent=[s.value for s in absent or []],
        onset=_date(onset, "--onset"),
        prior_procedures=[p.value for p in prior_procedure or []],
        levels=levels,
        procedure_date=_date(procedure_date, "--procedure-date"),
        planned_procedures=[p.value for p in planned_procedure or []],
        insurance_required=insurance_required,
        brain_mri=brain_mri.value if brain_mri else None,
        spine_mri=spine_mri.value if spine_mri else None,
        mri_protocol=mri_protocol.value if mri_protocol else None,
        findings=[f.value for f in finding or []],
        signs=list(sign or []),
        measures=list(measure or []),
        suspicion=suspicion.value if suspicion else None,
        ebp_count=ebp_count,
        ebp_date=_date(ebp_date, "--ebp-date"),
        targeted_count=targeted_count,
        myelography=myelography.value if myelography else None,
        dural_puncture=dural_puncture,
        no_headache=no_headache,
        symptoms_resolved=symptoms_resolved,
        resolved_date=_date(resolved_date, "--resolved-date"),
        red_flags=[r.value for r in red_flag or []],
        no_red_flags=no_red_flags,
    )
    assessment_date = _date(today, "--today")
    if emit_patient and output is not None:
        check_output_extension(output, "ttl")
    chosen = choose_format(
        output_format.value if output_format else None,
        None if emit_patient else output,
        allowed=[f.value for f in RecommendFormat],
        default="text",
    )
    uses_flags = flags != PatientFlags()
    if patient_file is not None:
        if uses_flags or emit_patient:
            raise UsageError("Give either a patient file or the quick-lookup flags, not both.")
        found = read_patient_input(patient_file)
        if found.note:
            typer.echo(f"csfkg: {found.note}", err=True)
        graph = found.graph
        patients = select_patients(graph, patient=patient, all_patients=all_patients)
    else:
        if patient is not None or all_patients:
            raise UsageError("--patient and --all choose patients in a file; give the file too.")
        if not uses_flags:
            raise UsageError("Give a patient file, or describe the patient with flags (see --help).")
        graph = build_patient_graph(flags)
        if emit_patient:
            emit(graph.serialize(format="turtle"), output)
            return
        patients = select_patients(graph, patient=None, all_patients=True)

    run = assess(graph, patients, today=assessment_date)
    renderer = {"text": render_text, "json": render_json, "ttl": render_turtle, "fhir": render_fhir}
    emit(renderer[chosen](run), output)
    if not run.conforms:
        raise typer.Exit(code=1)
