"""Quick-lookup flags -> the same patient graph a Turtle file would give.

The builder only records facts; it decides nothing. Which sequences a complete protocol has
is read from the protocol individuals of the guideline graph, and which study shows a finding
from the finding class's ``csf:shownOn``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal as Choice

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import XSD

from csfkg.model.codes import (
    BRAIN_MEASUREMENT,
    BRAIN_MRI_FINDING,
    IMAGING_FINDING,
    MYELOGRAPHY_OUTCOME,
    RED_FLAG,
    SPINAL_PROCEDURE,
    SYMPTOM,
    class_for,
)
from csfkg.model.errors import UsageError
from csfkg.model.knowledge import rules_graph
from csfkg.model.vocab import CSF, CSF_NS, PATIENT, PREFIXES

StudyState = Choice["not-done", "normal", "leak-signs"]
ProtocolState = Choice["complete", "incomplete"]
VERTEBRAL_ORDER: tuple[str, ...] = ("T12", "L1", "L2", "L3", "L4", "L5", "S1")
HEADACHE_KINDS: tuple[str, str] = ("orthostatic-headache", "non-orthostatic-headache")
"""The two headache symptoms whose recorded absence is "no headache" (``--no-headache``)."""


def parse_date_option(value: str | None, option: str) -> date | None:
    """The date a ``YYYY-MM-DD`` option value (``--today``, ``--onset``, ...) names; None for None.

    Raises:
        UsageError: the value is not written as YYYY-MM-DD, or names a day that does not exist
            (2026-02-30), each said in its own sentence.
    """
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise UsageError(f"{option} must be a date as YYYY-MM-DD, not {value!r}.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        year, month, day = (int(part) for part in value.split("-"))
        if year < 1:
            why = "there is no year 0"
        elif not 1 <= month <= 12:
            why = f"there is no month {month}"
        else:
            why = f"{calendar.month_name[month]} {year} has {calendar.monthrange(year, month)[1]} days"
        raise UsageError(f"{option} {value}: that date does not exist ({why}).") from None


@dataclass
class PatientFlags:
    """The quick-lookup description of one patient; ``None`` means not recorded."""

    symptoms: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    onset: date | None = None
    prior_procedures: list[str] = field(default_factory=list)
    levels: str | None = None
    procedure_date: date | None = None
    planned_procedures: list[str] = field(default_factory=list)
    insurance_required: bool = False
    brain_mri: StudyState | None = None
    spine_mri: StudyState | None = None
    mri_protocol: ProtocolState | None = None
    findings: list[str] = field(default_factory=list)
    signs: list[str] = field(default_factory=list)
    """``NAME=present|absent`` of a brain MRI sign (``--sign``)."""
    measures: list[str] = field(default_factory=list)
    """``NAME=MM`` of a brain MRI measurement (``--measure``)."""
    suspicion: Choice["high", "low"] | None = None
    ebp_count: int = 0
    ebp_date: date | None = None
    targeted_count: int = 0
    myelography: Choice["not-done", "leak-localised", "no-leak"] | None = None
    dural_puncture: bool = False
    no_headache: bool = False
    symptoms_resolved: bool = False
    resolved_date: date | None = None
    red_flags: list[str] = field(default_factory=list)
    no_red_flags: bool = False
    patient_iri: str = str(PATIENT["quick-lookup"])


def parse_levels(text: str) -> list[str]:
    """``L1-L4`` -> ``[L1, L2, L3, L4]``; ``L4,L5`` -> ``[L4, L5]``.

    Raises:
        UsageError: a level is unknown or a range runs backwards.
    """
    levels: list[str] = []
    for part in text.upper().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        last = last or first
        if first not in VERTEBRAL_ORDER or last not in VERTEBRAL_ORDER:
            raise UsageError(
                f"Unknown vertebral level in {text!r}; accepted: {', '.join(VERTEBRAL_ORDER)}, as L1-L4 or L4,L5."
            )
        start, stop = VERTEBRAL_ORDER.index(first), VERTEBRAL_ORDER.index(last)
        if stop < start:
            raise UsageError(f"The level range {part!r} runs backwards; write it head to tail, e.g. L1-L4.")
        levels.extend(VERTEBRAL_ORDER[start : stop + 1])
    return list(dict.fromkeys(levels))


def parse_signs(texts: list[str]) -> dict[str, tuple[URIRef, bool]]:
    """``--sign NAME=present|absent`` values -> sign code -> (its class, present?). The names are
    the codes of the brain MRI finding classes of the ontology.

    Raises:
        UsageError: a value is not NAME=STATUS, names no brain MRI sign, has another status, or
            gives one sign twice with different statuses.
    """
    signs: dict[str, tuple[URIRef, bool]] = {}
    for text in texts:
        code, equals, status = text.partition("=")
        if not equals:
            raise UsageError(f"--sign takes NAME=present or NAME=absent, not {text!r}.")
        cls = class_for(code, BRAIN_MRI_FINDING, "brain MRI sign")
        if status not in ("present", "absent"):
            raise UsageError(f"--sign {code} must be present or absent, not {status!r}.")
        if code in signs and signs[code][1] != (status == "present"):
            raise UsageError(f"--sign {code} is given both present and absent: it is one or the other.")
        signs[code] = (cls, status == "present")
    return signs


def parse_measures(texts: list[str]) -> dict[str, tuple[URIRef, Decimal]]:
    """``--measure NAME=MM`` values -> measurement code -> (its property, millimetres). The names
    are the codes of the subproperties of csf:brainMeasurementMm in the ontology.

    Raises:
        UsageError: a value is not NAME=MM, names no measurement, is not a number of 0 or more,
            or gives one measurement twice with different values.
    """
    measures: dict[str, tuple[URIRef, Decimal]] = {}
    for text in texts:
        code, equals, value = text.partition("=")
        if not equals:
            raise UsageError(f"--measure takes NAME=MM, a measurement in millimetres, not {text!r}.")
        prop = class_for(code, BRAIN_MEASUREMENT, "brain MRI measurement")
        if not re.fullmatch(r"\d+(\.\d+)?", value.strip()):
            raise UsageError(f"--measure {code} must be a number of millimetres, 0 or more, not {value!r}.")
        mm = Decimal(value.strip())
        if code in measures and measures[code][1] != mm:
            raise UsageError(f"--measure {code} is given twice, {measures[code][1]} and {mm}: give it once.")
        measures[code] = (prop, mm)
    return measures


def _check_flags(flags: PatientFlags) -> None:
    for symptom in [*flags.symptoms, *flags.absent]:
        class_for(symptom, SYMPTOM, "symptom")
    both = sorted(set(flags.symptoms) & set(flags.absent))
    if both:
        raise UsageError(
            f"--symptom {both[0]} and --absent {both[0]} contradict each other: it is either present or absent."
        )
    if flags.no_red_flags and flags.red_flags:
        raise UsageError(f"--no-red-flags contradicts --red-flag {flags.red_flags[0]}: use one or the other.")
    if flags.ebp_count < 0:
        raise UsageError(f"--ebp-count must be 0 or more, not {flags.ebp_count}.")
    if flags.targeted_count < 0:
        raise UsageError(f"--targeted-count must be 0 or more, not {flags.targeted_count}.")
    if flags.ebp_date is not None and flags.ebp_count < 1:
        raise UsageError("--ebp-date is the date of the latest of the --ebp-count patches; give that too.")
    if flags.resolved_date is not None and not flags.symptoms_resolved:
        raise UsageError("--resolved-date is the date of --symptoms-resolved; give that too.")
    if flags.dural_puncture and not flags.prior_procedures:
        raise UsageError(
            "--dural-puncture records an accidental dural puncture on the --prior-procedure; give that too."
        )
    headaches = {HEADACHE_KINDS[0], HEADACHE_KINDS[1]}
    if flags.no_headache and headaches & set(flags.symptoms):
        raise UsageError(
            f"--no-headache contradicts --symptom {sorted(headaches & set(flags.symptoms))[0]}: use one or the other."
        )
    # a --finding records the study it is shown on (with leak signs), or contradicts a study said
    # not done or normal, which build_patient_graph refuses naming both flags
    imaged = (
        flags.brain_mri in ("normal", "leak-signs")
        or flags.spine_mri in ("normal", "leak-signs")
        or flags.findings
        or flags.signs
        or flags.measures
    )
    if flags.mri_protocol is not None and not imaged:
        raise UsageError(
            "--mri-protocol describes an MRI, but neither --brain-mri, --spine-mri nor --finding says one was done."
        )
    if flags.levels is not None and not (flags.prior_procedures or flags.planned_procedures):
        raise UsageError("--levels needs --prior-procedure or --planned-procedure.")
    if flags.procedure_date is not None and not flags.prior_procedures:
        raise UsageError("--procedure-date is the date of the --prior-procedure; give that too.")
    if flags.insurance_required and not flags.planned_procedures:
        raise UsageError("--insurance-required qualifies a --planned-procedure; give that too.")


def build_patient_graph(flags: PatientFlags) -> Graph:
    """The patient graph the flags describe.

    Raises:
        UsageError: unknown values or flags that cannot hold together.
    """
    _check_flags(flags)
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    patient = URIRef(flags.patient_iri)
    graph.add((patient, RDF.type, CSF.Patient))

    def node(suffix: str) -> URIRef:
        return URIRef(f"{patient}/{suffix}")

    def finding(cls: URIRef, code: str, status: URIRef) -> None:
        record = node(f"finding/{code}")
        graph.add((patient, CSF.hasFinding, record))
        graph.add((record, RDF.type, cls))
        graph.add((record, CSF.findingStatus, status))

    for code in flags.symptoms:
        finding(class_for(code, SYMPTOM, "symptom"), code, CSF.present)
        graph.add((node(f"finding/{code}"), CSF.frequency, Literal("daily")))
    absent = list(flags.absent)
    if flags.no_headache:
        absent.extend(kind for kind in HEADACHE_KINDS if kind not in absent)
    for code in absent:
        finding(class_for(code, SYMPTOM, "symptom"), code, CSF.absent)

    for code in flags.red_flags:
        finding(class_for(code, RED_FLAG, "red flag"), code, CSF.present)
    if flags.no_red_flags:  # one negative screen record: csf:RedFlagSign itself, absent
        finding(CSF.RedFlagSign, "red-flag-screen", CSF.absent)

    if flags.onset is not None:
        graph.add((patient, CSF.symptomOnsetDate, Literal(flags.onset, datatype=XSD.date)))
    if flags.symptoms_resolved:
        graph.add((patient, CSF.symptomsResolved, Literal(True)))
    if flags.resolved_date is not None:
        graph.add((patient, CSF.resolutionDate, Literal(flags.resolved_date, datatype=XSD.date)))
    if flags.suspicion is not None:
        level = {"high": CSF.highSuspicion, "low": CSF.lowSuspicion}[flags.suspicion]
        graph.add((patient, CSF.clinicalSuspicion, level))

    levels = parse_levels(flags.levels) if flags.levels else []
    for index, code in enumerate(flags.prior_procedures, start=1):
        proc = _procedure(graph, patient, node(f"procedure/prior-{index}"), code, CSF.completed, levels)
        if flags.procedure_date is not None:
            graph.add((proc, CSF.procedureDate, Literal(flags.procedure_date, datatype=XSD.date)))
        if flags.dural_puncture:
            graph.add((proc, CSF.accidentalDuralPuncture, Literal(True)))
    for index, code in enumerate(flags.planned_procedures, start=1):
        proc = _procedure(graph, patient, node(f"procedure/planned-{index}"), code, CSF.planned, levels)
        if flags.insurance_required:
            graph.add((proc, CSF.planReason, CSF.insuranceStepTherapy))
    patches = [("", CSF.nonTargeted)] * flags.ebp_count + [("targeted-", CSF.targeted)] * flags.targeted_count
    counted: dict[str, int] = {}
    for kind, targeting in patches:
        counted[kind] = counted.get(kind, 0) + 1
        patch = node(f"procedure/{kind}blood-patch-{counted[kind]}")
        graph.add((patient, CSF.hasProcedure, patch))
        graph.add((patch, RDF.type, CSF.EpiduralBloodPatch))
        graph.add((patch, CSF.procedureStatus, CSF.completed))
        graph.add((patch, CSF.patchTargeting, targeting))
        if kind == "" and counted[kind] == flags.ebp_count and flags.ebp_date is not None:  # the latest
            graph.add((patch, CSF.procedureDate, Literal(flags.ebp_date, datatype=XSD.date)))
    if flags.myelography not in (None, "not-done"):
        myelography = node("procedure/myelography")
        graph.add((patient, CSF.hasProcedure, myelography))
        graph.add((myelography, RDF.type, class_for("myelography", SPINAL_PROCEDURE, "procedure")))
        graph.add((myelography, CSF.procedureStatus, CSF.completed))
        graph.add(
            (
                myelography,
                CSF.myelographyOutcome,
                class_for(flags.myelography, MYELOGRAPHY_OUTCOME, "myelography outcome"),
            )
        )

    studies = {"brain": (CSF.BrainMRI, flags.brain_mri), "spine": (CSF.SpineMRI, flags.spine_mri)}
    shown: dict[str, list[tuple[str, URIRef]]] = {"brain": [], "spine": []}
    for code in flags.findings:
        cls = class_for(code, IMAGING_FINDING, "imaging finding")
        region = _region_of(cls)
        state = studies[region][1]
        if state in ("normal", "not-done"):
            raise UsageError(f"--finding {code} is a {region} MRI finding, but --{region}-mri says {state}.")
        shown[region].append((code, cls))
    signs, measures = parse_signs(flags.signs), parse_measures(flags.measures)
    absent_signs: list[tuple[str, URIRef]] = []
    for code, (cls, present) in signs.items():
        if not present:
            if code in flags.findings:
                raise UsageError(f"--finding {code} and --sign {code}=absent contradict each other.")
            absent_signs.append((code, cls))
        elif code not in flags.findings:
            if flags.brain_mri in ("normal", "not-done"):
                raise UsageError(
                    f"--sign {code}=present is a brain MRI finding, but --brain-mri says {flags.brain_mri}."
                )
            shown["brain"].append((code, cls))
    if (absent_signs or measures) and flags.brain_mri == "not-done":
        raise UsageError("--sign and --measure describe a brain MRI, but --brain-mri says not-done.")
    if (absent_signs or measures) and flags.brain_mri is None and not shown["brain"]:
        raise UsageError(
            "--sign NAME=absent and --measure describe a brain MRI: say what it showed with --brain-mri normal or leak-signs."
        )
    for region, (study_class, state) in studies.items():
        if state == "leak-signs" or (state is None and shown[region]):
            state = "leak-signs"
        if state in (None, "not-done"):
            continue
        study = node(f"study/{region}-mri")
        graph.add((patient, CSF.hasImagingStudy, study))
        graph.add((study, RDF.type, study_class))
        graph.add((study, CSF.studyResult, CSF.normalResult if state == "normal" else CSF.leakSignsResult))
        for code, cls in shown[region]:
            sign = node(f"study/{region}-mri/finding/{code}")
            graph.add((study, CSF.showsFinding, sign))
            graph.add((sign, RDF.type, cls))
        if region == "brain":
            for code, cls in absent_signs:
                sign = node(f"study/brain-mri/absent/{code}")
                graph.add((study, CSF.assessedAbsentFinding, sign))
                graph.add((sign, RDF.type, cls))
            for prop, mm in measures.values():
                graph.add((study, prop, Literal(mm, datatype=XSD.decimal)))
        if flags.mri_protocol is not None:
            _add_protocol_sequences(graph, study, study_class, complete=flags.mri_protocol == "complete")
    return graph


def _procedure(
    graph: Graph, patient: URIRef, proc: URIRef, code: str, status: URIRef, levels: list[str]
) -> URIRef:
    graph.add((patient, CSF.hasProcedure, proc))
    graph.add((proc, RDF.type, class_for(code, SPINAL_PROCEDURE, "procedure")))
    graph.add((proc, CSF.procedureStatus, status))
    for level in levels:
        graph.add((proc, CSF.atVertebralLevel, CSF_NS[level]))
    return proc


def _region_of(finding_class: URIRef) -> str:
    rules = rules_graph()
    for cls in rules.transitive_objects(finding_class, RDFS.subClassOf):
        for study_class in rules.objects(cls, CSF.shownOn):
            above = set(rules.transitive_objects(study_class, RDFS.subClassOf))
            if CSF.BrainMRI in above:
                return "brain"
            if CSF.SpineMRI in above:
                return "spine"
    raise UsageError(f"The ontology does not say on which study {finding_class} is shown.")


def _add_protocol_sequences(graph: Graph, study: URIRef, study_class: URIRef, *, complete: bool) -> None:
    """Record a sequence meeting each requirement of the study's protocol (all of them when
    complete; all but the last, by csf:sequenceOrder, when incomplete)."""
    rules = rules_graph()
    requirements: list[URIRef] = []
    for protocol in rules.subjects(CSF.appliesToStudyClass, study_class):
        requirements.extend(rules.objects(protocol, CSF.requiresSequence))  # type: ignore[arg-type]
    requirements.sort(key=lambda r: int(rules.value(r, CSF.sequenceOrder) or 0))
    if not complete:
        requirements = requirements[:-1]
    for index, requirement in enumerate(requirements, start=1):
        seq = URIRef(f"{study}/sequence-{index}")
        graph.add((study, CSF.performedSequence, seq))
        graph.add((seq, RDF.type, CSF.MRISequence))
        for source, target in (
            (CSF.requiredWeighting, CSF.weighting),
            (CSF.acceptedTechnique, CSF.technique),
            (CSF.requiredPlane, CSF.plane),
            (CSF.requiredDimension, CSF.dimension),
            (CSF.requiredContrastPhase, CSF.contrastPhase),
        ):
            values = sorted(rules.objects(requirement, source), key=str)
            if values:
                graph.add((seq, target, values[0]))
        thickness = rules.value(requirement, CSF.maxSliceThicknessMm)
        if thickness is not None:
            graph.add((seq, CSF.sliceThicknessMm, Literal(Decimal(str(thickness)), datatype=XSD.decimal)))
        voxel = rules.value(requirement, CSF.maxIsotropicVoxelMm)
        if voxel is not None:
            graph.add((seq, CSF.isotropicVoxelMm, Literal(Decimal(str(voxel)), datatype=XSD.decimal)))
        if rules.value(requirement, CSF.requiresFatSuppression) is not None:
            graph.add((seq, CSF.fatSuppressed, Literal(True)))
