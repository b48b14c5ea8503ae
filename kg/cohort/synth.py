"""Deterministic synthetic cohorts in the patient vocabulary of the ontology.

The mix reaches every row of the next-step table (issue 21): red flags, unrecorded headache
status (orthostatic or not), a headache worse lying down after a patch, resolved symptoms with
and without a recorded treatment, no headache with strong or weak imaging evidence, the
post-dural puncture pattern, leak signs with and without protocol-conforming imaging, blood
patches, myelography that localised a leak or found none, targeted treatment, normal MRIs with
complete, incomplete and unrecorded protocols, every suspicion level, planned procedures with and
without insurance, incomplete red-flag screens - and a small share of
records that violate a shape (onset after the assessment date, a finding both present and
absent), which a cohort run must report rather than drop.

Output is N-Triples (fast to write and to bulk-load) or Turtle, by file extension. The same
``seed`` and ``patients`` always give the same bytes, for the same ontology: the red flags and
imaging findings drawn from are the ontology's code lists (:func:`code_lists`), in code order.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from csfkg.model.codes import BRAIN_MRI_FINDING, RED_FLAG, SPINE_MRI_FINDING, codes_under
from csfkg.model.vocab import CSF_NS, STANDARD_PREFIXES, SYNTHETIC

CSF = str(CSF_NS)
RDF_TYPE = STANDARD_PREFIXES["rdf"] + "type"
XSD = STANDARD_PREFIXES["xsd"]
PATIENT_NS = str(SYNTHETIC)
ASSESSMENT = date(2026, 3, 1)


@dataclass(frozen=True)
class CodeLists:
    """The classes a synthetic record draws from, as IRIs, read from the ontology (so that a
    red flag or imaging finding added there is generated without a change here)."""

    red_flags: tuple[str, ...]
    brain_signs: tuple[str, ...]
    spine_signs: tuple[str, ...]


def code_lists() -> CodeLists:
    """The red-flag signs and the brain and spine MRI findings of the ontology, by code."""
    return CodeLists(
        red_flags=tuple(codes_under(RED_FLAG).values()),
        brain_signs=tuple(codes_under(BRAIN_MRI_FINDING).values()),
        spine_signs=tuple(codes_under(SPINE_MRI_FINDING).values()),
    )


# One acquired sequence per protocol requirement (ontology/guideline.ttl csfg:req-*), as
# (predicate local name, object) pairs; objects starting with '"' are literals.
BRAIN_SEQUENCES = (
    (
        ("weighting", "t2Weighting"),
        ("dimension", "twoDimensional"),
        ("plane", "axial"),
        ("sliceThicknessMm", '"4.5"^^<' + XSD + "decimal>"),
    ),
    (("technique", "flair"), ("plane", "axial")),
    (("technique", "swi"),),
    (
        ("weighting", "t1Weighting"),
        ("dimension", "threeDimensional"),
        ("contrastPhase", "preContrast"),
        ("isotropicVoxelMm", '"1.0"^^<' + XSD + "decimal>"),
    ),
    (
        ("weighting", "t1Weighting"),
        ("dimension", "threeDimensional"),
        ("contrastPhase", "postContrast"),
        ("isotropicVoxelMm", '"1.0"^^<' + XSD + "decimal>"),
    ),
)
SPINE_SEQUENCES = (
    (("technique", "stir"), ("weighting", "t2Weighting"), ("fatSuppressed", '"true"^^<' + XSD + "boolean>")),
    (
        ("weighting", "t2Weighting"),
        ("plane", "sagittal"),
        ("dimension", "twoDimensional"),
        ("sliceThicknessMm", '"3.0"^^<' + XSD + "decimal>"),
    ),
    (
        ("technique", "ciss"),
        ("weighting", "heavyT2Weighting"),
        ("dimension", "threeDimensional"),
        ("isotropicVoxelMm", '"0.8"^^<' + XSD + "decimal>"),
    ),
)


def _date(day: date) -> str:
    return f'"{day.isoformat()}"^^<{XSD}date>'


def patient_triples(
    index: int, rng: random.Random, codes: CodeLists | None = None
) -> Iterator[tuple[str, str, str]]:
    """The triples of synthetic patient ``index`` as N-Triples terms (subject, predicate, object);
    ``codes`` defaults to :func:`code_lists`."""
    codes = codes or code_lists()
    p = f"<{PATIENT_NS}p{index}>"

    def iri(local: str) -> str:
        return f"<{CSF}{local}>"

    def node(suffix: str) -> str:
        return f"<{PATIENT_NS}p{index}/{suffix}>"

    yield p, f"<{RDF_TYPE}>", iri("Patient")
    yield p, iri("assessmentDate"), _date(ASSESSMENT)

    def finding(cls: str, suffix: str, status: str) -> Iterator[tuple[str, str, str]]:
        """A finding record of class ``cls`` (an IRI)."""
        record = node(suffix)
        yield p, iri("hasFinding"), record
        yield record, f"<{RDF_TYPE}>", f"<{cls}>"
        yield record, iri("findingStatus"), iri(status)

    roll = rng.random()
    orthostatic = "present" if roll < 0.65 else "absent" if roll < 0.90 else None
    if orthostatic:
        yield from finding(CSF + "OrthostaticHeadache", "oh", orthostatic)
    roll = rng.random()
    other = {  # a new daily headache without the postural pattern: present, absent or unrecorded
        "present": "absent" if roll < 0.3 else "present" if roll < 0.4 else None,
        "absent": "absent" if roll < 0.75 else "present" if roll < 0.9 else None,
        None: "present" if roll < 0.2 else "absent" if roll < 0.5 else None,
    }[orthostatic]
    if other:
        yield from finding(CSF + "NonOrthostaticHeadache", "noh", other)

    # red flags: 3% have one present; 45% have a complete screen; the rest record none
    flag_roll = rng.random()
    present_flag = rng.choice(codes.red_flags) if flag_roll < 0.03 else None
    if present_flag:
        yield from finding(present_flag, "rf", "present")
    if 0.03 <= flag_roll < 0.40:  # a negative screen, in one record
        yield from finding(CSF + "RedFlagSign", "rf-screen", "absent")
    elif flag_roll < 0.48:  # a screen recorded sign by sign
        for flag in codes.red_flags:
            if flag != present_flag:
                yield from finding(flag, f"rf-{flag.rsplit('#', 1)[-1]}", "absent")

    invalid = rng.random()
    onset_date = None
    if rng.random() < 0.85:
        onset = ASSESSMENT - timedelta(days=rng.randint(0, 120))
        if invalid < 0.001:
            onset = ASSESSMENT + timedelta(days=rng.randint(1, 30))  # violates a shape
        else:
            onset_date = onset
        yield p, iri("symptomOnsetDate"), _date(onset)
    if 0.001 <= invalid < 0.002:  # contradiction: a red flag present and absent
        yield from finding(codes.red_flags[0], "rf-yes", "present")
        yield from finding(codes.red_flags[0], "rf-no", "absent")

    if onset_date is not None and rng.random() < 0.12:  # a lumbar puncture: the PDPH pattern, or just past it
        puncture = node("lp")
        yield p, iri("hasProcedure"), puncture
        yield puncture, f"<{RDF_TYPE}>", iri("LumbarPuncture")
        yield puncture, iri("procedureStatus"), iri("completed")
        yield puncture, iri("procedureDate"), _date(onset_date - timedelta(days=rng.choice((0, 1, 2, 5, 7))))
    if rng.random() < 0.8:
        mbb = node("mbb-1")
        yield p, iri("hasProcedure"), mbb
        yield mbb, f"<{RDF_TYPE}>", iri("MedialBranchBlock")
        yield mbb, iri("procedureStatus"), iri("completed")
        yield mbb, iri("procedureDate"), _date(ASSESSMENT - timedelta(days=rng.randint(20, 150)))
        for level in rng.choice((("L4", "L5"), ("L3", "L4", "L5"), ("L1", "L2", "L3", "L4"))):
            yield mbb, iri("atVertebralLevel"), iri(level)
    if rng.random() < 0.75:
        planned = node("mbb-2")
        yield p, iri("hasProcedure"), planned
        yield planned, f"<{RDF_TYPE}>", iri("MedialBranchBlock")
        yield planned, iri("procedureStatus"), iri("planned")
        if rng.random() < 0.6:
            yield planned, iri("planReason"), iri("insuranceStepTherapy")

    for region, cls, signs, sequences in (
        ("brain", "BrainMRI", codes.brain_signs, BRAIN_SEQUENCES),
        ("spine", "SpineMRI", codes.spine_signs, SPINE_SEQUENCES),
    ):
        study_roll = rng.random()
        if study_roll < 0.55:
            continue
        study = node(f"{region}-mri")
        yield p, iri("hasImagingStudy"), study
        yield study, f"<{RDF_TYPE}>", iri(cls)
        if study_roll < 0.70:
            yield study, iri("studyResult"), iri("leakSignsResult")
            sign = node(f"{region}-mri/sign")
            yield study, iri("showsFinding"), sign
            yield sign, f"<{RDF_TYPE}>", f"<{rng.choice(signs)}>"
            if rng.random() < 0.7:
                continue  # sequences not recorded
            for number, parameters in enumerate(sequences):
                sequence = node(f"{region}-mri/seq-{number}")
                yield study, iri("performedSequence"), sequence
                for predicate, value in parameters:
                    yield sequence, iri(predicate), value if value.startswith('"') else iri(value)
            continue
        yield study, iri("studyResult"), iri("normalResult")
        protocol = rng.random()
        if protocol < 0.15:
            continue  # sequences not recorded
        kept = sequences if protocol < 0.8 else sequences[:-1]
        for number, parameters in enumerate(kept):
            sequence = node(f"{region}-mri/seq-{number}")
            yield study, iri("performedSequence"), sequence
            for predicate, value in parameters:
                yield sequence, iri(predicate), value if value.startswith('"') else iri(value)

    suspicion = rng.random()
    if suspicion < 0.35:
        yield p, iri("clinicalSuspicion"), iri("highSuspicion")
    elif suspicion < 0.75:
        yield p, iri("clinicalSuspicion"), iri("lowSuspicion")

    patches = rng.choices((0, 1, 2, 3), weights=(60, 25, 12, 3))[0]
    for number in range(patches):
        patch = node(f"ebp-{number}")
        yield p, iri("hasProcedure"), patch
        yield patch, f"<{RDF_TYPE}>", iri("EpiduralBloodPatch")
        yield patch, iri("procedureStatus"), iri("completed")
        yield patch, iri("patchTargeting"), iri("nonTargeted")
    if patches and rng.random() < 0.1:  # a headache worse lying down after a patch: the rebound pattern
        yield from finding(CSF + "HeadacheWorseLyingDown", "hwld", "present")
    outcome = rng.random()
    if outcome < 0.08:  # myelography: a leak localised, or none found
        myelography = node("myelography")
        yield p, iri("hasProcedure"), myelography
        yield myelography, f"<{RDF_TYPE}>", iri("Myelography")
        yield myelography, iri("procedureStatus"), iri("completed")
        yield (
            myelography,
            iri("myelographyOutcome"),
            iri("leakLocalised" if outcome < 0.05 else "noLeakFound"),
        )
        if outcome < 0.02:  # and the leak treated at its site
            glue = node("fibrin-glue")
            yield p, iri("hasProcedure"), glue
            yield glue, f"<{RDF_TYPE}>", iri("FibrinGlueSealing")
            yield glue, iri("procedureStatus"), iri("completed")
    if rng.random() < 0.12:
        yield p, iri("symptomsResolved"), f'"true"^^<{XSD}boolean>'


def write_cohort(stream: TextIO, *, patients: int, seed: int) -> int:
    """Write ``patients`` synthetic patients as N-Triples; returns the number of triples."""
    rng = random.Random(seed)
    codes = code_lists()
    count = 0
    buffer: list[str] = []
    for index in range(patients):
        for s, p, o in patient_triples(index, rng, codes):
            buffer.append(f"{s} {p} {o} .\n")
        if len(buffer) > 50_000:
            count += len(buffer)
            stream.write("".join(buffer))
            buffer.clear()
    count += len(buffer)
    stream.write("".join(buffer))
    return count


def write_cohort_file(path: Path, *, patients: int, seed: int) -> int:
    """Write a cohort file atomically: N-Triples for ``.nt``, Turtle otherwise (parsed and
    re-serialised through rdflib, so meant for small cohorts). Returns the number of triples."""
    from csfkg.io.output import atomic_stream

    if path.suffix.lower() == ".nt":
        with atomic_stream(path) as stream:
            return write_cohort(stream, patients=patients, seed=seed)
    import io

    from rdflib import Graph

    from csfkg.model.vocab import PREFIXES

    text = io.StringIO()
    count = write_cohort(text, patients=patients, seed=seed)
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    graph.bind("syn", PATIENT_NS)
    graph.parse(data=text.getvalue(), format="nt")
    with atomic_stream(path) as stream:
        stream.write(graph.serialize(format="turtle"))
    return count
