"""An independent oracle: the next-step table of issue 21, read in plain Python.

This module is written from the text of the table (its 16 rows, first match wins, and each row's
companions) and the project's safety rule, not from ``queries/`` or ``ontology/guideline.ttl``; of
the ontology it reads only the list of red-flag signs (:func:`red_flags`). tests/test_oracle.py
compares it with the SPARQL derivation on 10,000 generated patients, so that the two readings
check each other. It holds no RDF: a patient is the plain :class:`Patient` record below, and
tests/test_oracle.py turns the same record into a patient graph.

The table (first matching row wins; companions after the arrow; ``*`` as the issue defines):

1. any red flag present -> ``urgent-evaluation`` | defer*, document*
2. headache unrecorded (neither kind present, and not both absent) -> ``insufficient-data``
   (orthostatic status when it is unrecorded, else the non-orthostatic status)
3. rebound pattern -> ``assess-rebound-hypertension`` | defer*
6. (tried before 4 and 5, see below) symptoms resolved, and imaging evidence at least possible
   or the post-dural puncture pattern -> proceed / not-applicable (treated or not: the rationale)
4. no headache, evidence definite or probable -> ``specialist-mdt-referral`` | defer*
5. no headache otherwise -> proceed / not-applicable
7. post-dural puncture pattern, onset at most 14 days ago, no blood patch -> ``post-dural-puncture-care``
   | conservative, defer*, monitor
8. evidence below probable and brain or spine MRI missing or not to protocol ->
   ``obtain-mri-brain-and-spine`` | defer*, document*, monitor
9. evidence definite or probable, myelography localised a leak, no targeted treatment ->
   ``targeted-treatment`` | defer*, document*, monitor
10. evidence definite or probable and a targeted treatment done; or myelography found no leak ->
    ``specialist-mdt-referral`` | defer*, document*, monitor
11. evidence definite or probable, fewer than 2 non-targeted patches -> ``epidural-blood-patch``
    | conservative, complete-imaging*, defer*, document*, monitor
12. evidence definite or probable, 2 or more non-targeted patches -> ``refer-for-myelography``
    | defer*, document*, monitor
13. evidence possible, imaging to protocol -> ``specialist-mdt-referral`` | consider-non-targeted-ebp,
    defer*, document*, monitor
14. no evidence (normal brain and spine MRI to protocol), suspicion high -> ``specialist-mdt-referral``
    | consider-non-targeted-ebp, defer*, document*, monitor
15. no evidence, suspicion low -> proceed / not-applicable | consider-differential-diagnosis
16. no evidence, suspicion unrecorded -> ``insufficient-data`` (clinical suspicion)

proceed / not-applicable: ``proceed-with-planned-procedure`` when a procedure is planned and the
red-flag screen is complete; ``insufficient-data`` (red-flag screen) when planned and incomplete;
``not-applicable`` when nothing is planned. defer* = ``defer-spinal-intervention`` when a spinal
procedure is planned; document* = ``document-medical-necessity`` when it is insurance-required;
complete-imaging* = ``complete-imaging-to-protocol`` when the brain or spine MRI is missing or not
to protocol; monitor = ``monitor-red-flags`` (no row that has it can have a red flag).

Definitions, from the issue's "Derived" list:

- headache present: orthostatic or non-orthostatic headache recorded present; no headache: both
  recorded absent.
- evidence: definite = an extradural CSF collection shown on a spine MRI, or a leak localised at
  myelography; probable = brain sagging or pachymeningeal enhancement shown, or an MRI reported as
  showing a leak with no sign itemised (the radiologist's impression); possible = any other sign
  shown or reported; none = brain and spine MRI both to protocol, normal. (The Bern score's
  probable branch is not generated here.)
- imaging to protocol: a brain MRI and a spine MRI, each conforming to its protocol and with a
  result or a shown sign.
- post-dural puncture pattern: onset 0-5 days after a completed procedure that punctures the dura
  (by design: dural puncture, lumbar puncture, spinal anaesthesia, myelography; or an accidental
  puncture recorded on it), both dates recorded.
- rebound pattern: a headache worse lying down present after a completed blood patch, unless its
  own onset is recorded and falls on or before the date of every patch (all dated).

Readings this oracle had to choose where the table is silent (each a decision; tests/test_oracle.py
says whether the derivation agrees):

- Row 6 is tried before rows 4 and 5: a resolved patient's absent headache is the resolution, not
  "imaging without symptoms" (the table read literally refers every treated, resolved patient with
  a positive pre-treatment MRI to a specialist).
- A study with no recorded result and no sign shown counts as not done.
- A planned procedure that is a CSF leak procedure (blood patch, myelography, targeted treatment)
  is not "a spinal procedure planned": it is the leak's care. A planned procedure of no more
  specific kind is one.
- "No blood patch" (row 7) counts every completed patch; "non-targeted" (rows 11, 12) only
  completed patches recorded non-targeted; a targeted treatment is a targeted patch or fibrin glue,
  surgical repair or fistula embolisation.
- "Symptoms resolved" is a recorded true (csf:symptomsResolved or the deprecated
  csf:symptomsResolvedAfterTreatment); whether a treatment preceded it is read from the procedures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from csfkg.model.codes import RED_FLAG, code_list


def red_flags() -> tuple[str, ...]:
    """The red-flag signs, by their command-line codes: the one thing the oracle reads from the
    ontology (its list of signs, not its rules), so that a sign added there is screened for here."""
    return code_list(RED_FLAG)


UNNAMED_RED_FLAG = "red-flag-sign"
"""A finding typed csf:RedFlagSign itself: with status present, some red flag; absent, a negative screen."""

URGENT = "urgent-evaluation"
INSUFFICIENT = "insufficient-data"
REBOUND = "assess-rebound-hypertension"
PDPH_CARE = "post-dural-puncture-care"
PROCEED = "proceed-with-planned-procedure"
NOT_APPLICABLE = "not-applicable"
OBTAIN_MRI = "obtain-mri-brain-and-spine"
TARGETED = "targeted-treatment"
MDT = "specialist-mdt-referral"
BLOOD_PATCH = "epidural-blood-patch"
MYELOGRAPHY = "refer-for-myelography"
NEXT_STEPS: frozenset[str] = frozenset(
    {
        URGENT,
        INSUFFICIENT,
        REBOUND,
        PDPH_CARE,
        PROCEED,
        NOT_APPLICABLE,
        OBTAIN_MRI,
        TARGETED,
        MDT,
        BLOOD_PATCH,
        MYELOGRAPHY,
    }
)

DEFER = "defer-spinal-intervention"
DOCUMENT = "document-medical-necessity"
MONITOR = "monitor-red-flags"
CONSIDER_EBP = "consider-non-targeted-ebp"
CONSERVATIVE = "conservative-care-meanwhile"
COMPLETE_IMAGING = "complete-imaging-to-protocol"
DIFFERENTIAL = "consider-differential-diagnosis"
COMPANIONS: frozenset[str] = frozenset(
    {DEFER, DOCUMENT, MONITOR, CONSIDER_EBP, CONSERVATIVE, COMPLETE_IMAGING, DIFFERENTIAL}
)

RECENT_ONSET_DAYS = 14
"""Onset at most this many days before the assessment is recent (row 7)."""
PDPH_DAYS = 5
"""Onset at most this many days after a dural puncture is the post-dural puncture pattern."""

STRONG_SIGNS = frozenset({"extradural-csf-collection", "brain-sagging", "pachymeningeal-enhancement"})
DURAL_PUNCTURES = frozenset({"dural-puncture", "lumbar-puncture", "spinal-anaesthesia", "myelography"})
TARGETED_KINDS = frozenset({"fibrin-glue", "surgical-repair", "fistula-embolisation"})
LEAK_PROCEDURES = frozenset({"epidural-blood-patch", "myelography"}) | TARGETED_KINDS

Region = Literal["brain", "spine"]
StudyResult = Literal["normal", "leak-signs"]
Status = Literal["present", "absent"]


@dataclass(frozen=True)
class Study:
    """One MRI study. ``result`` None: no result recorded. ``conforms``: every sequence of the
    region's protocol was recorded with its required parameters. ``signs``: the codes of the
    imaging findings it shows."""

    region: Region
    result: StudyResult | None
    conforms: bool
    signs: tuple[str, ...] = ()

    @property
    def leak_signs(self) -> bool:
        return self.result == "leak-signs" or bool(self.signs)

    @property
    def done(self) -> bool:
        return self.result is not None or bool(self.signs)


@dataclass(frozen=True)
class Procedure:
    """One spinal procedure, done or planned. ``days_before``: days from its date to the
    assessment (None: no date). ``myelography``: the outcome of a completed myelography."""

    kind: str
    planned: bool
    insurance_required: bool = False
    targeting: Literal["targeted", "non-targeted"] | None = None
    days_before: int | None = None
    accidental_puncture: bool = False
    myelography: Literal["leak-localised", "no-leak"] | None = None


@dataclass(frozen=True)
class Patient:
    """What the algorithm reads of a patient; None means not recorded.

    ``onset_days_before`` counts days from symptom onset to the assessment date (0: the same day);
    ``worse_lying_down_days_before`` the same for a headache worse lying down (None: no onset
    recorded), when ``worse_lying_down`` is present.
    """

    orthostatic: Status | None = None
    non_orthostatic: Status | None = None
    worse_lying_down: bool = False
    worse_lying_down_days_before: int | None = None
    red_flags_present: frozenset[str] = frozenset()
    red_flags_absent: frozenset[str] = frozenset()
    negative_screen: bool = False
    onset_days_before: int | None = None
    suspicion: Literal["high", "low"] | None = None
    symptoms_resolved: bool | None = None
    procedures: tuple[Procedure, ...] = ()
    studies: tuple[Study, ...] = ()


BLOCKING_DATA: dict[str, str] = {
    "orthostatic": "orthostatic-status",
    "non-orthostatic": "non-orthostatic-status",
    "safety": "red-flag-screen",
    "suspicion": "clinical-suspicion",
}
"""For ``insufficient-data``: the data element (its csf:code) whose absence blocks the next step."""


@dataclass(frozen=True)
class Expected:
    """The oracle's answer: one next step, the set of companions, the data element that blocks an
    ``insufficient-data`` next step (None otherwise), and the rule that decided."""

    next_step: str
    companions: frozenset[str] = field(default_factory=frozenset)
    blocking: str | None = None
    why: str = ""


# ---------------------------------------------------------------------------------------
# facts read off the record
# ---------------------------------------------------------------------------------------
def red_flag_present(p: Patient) -> bool:
    return bool(p.red_flags_present)


def red_flag_screen_complete(p: Patient) -> bool:
    """Every red-flag sign recorded (present or absent), or one negative-screen record."""
    return p.negative_screen or set(red_flags()) <= (p.red_flags_absent | p.red_flags_present)


def headache_present(p: Patient) -> bool:
    return "present" in (p.orthostatic, p.non_orthostatic)


def no_headache(p: Patient) -> bool:
    return p.orthostatic == "absent" and p.non_orthostatic == "absent"


def procedure_planned(p: Patient) -> bool:
    """A spinal procedure that is not a CSF leak procedure is planned."""
    return any(x.planned and x.kind not in LEAK_PROCEDURES for x in p.procedures)


def insurance_procedure_planned(p: Patient) -> bool:
    return any(x.planned and x.kind not in LEAK_PROCEDURES and x.insurance_required for x in p.procedures)


def completed(p: Patient) -> list[Procedure]:
    return [x for x in p.procedures if not x.planned]


def blood_patches(p: Patient) -> list[Procedure]:
    return [x for x in completed(p) if x.kind == "epidural-blood-patch"]


def non_targeted_patches(p: Patient) -> int:
    return sum(1 for x in blood_patches(p) if x.targeting == "non-targeted")


def targeted_treatment_done(p: Patient) -> bool:
    return any(x.targeting == "targeted" for x in blood_patches(p)) or any(
        x.kind in TARGETED_KINDS for x in completed(p)
    )


def treatment_done(p: Patient) -> bool:
    return bool(blood_patches(p)) or targeted_treatment_done(p)


def myelography(p: Patient, outcome: str) -> bool:
    return any(x.kind == "myelography" and x.myelography == outcome for x in completed(p))


def mri_leak_signs(p: Patient) -> bool:
    """Evidence at least possible on MRI: a study reported as showing a leak, or a sign shown."""
    return any(s.leak_signs for s in p.studies)


def strong_evidence(p: Patient) -> bool:
    """Definite or probable evidence."""
    return (
        any(set(s.signs) & STRONG_SIGNS for s in p.studies)
        or any(s.result == "leak-signs" and not s.signs for s in p.studies)
        or myelography(p, "leak-localised")
    )


def imaging_to_protocol(p: Patient) -> bool:
    return all(any(s.region == r and s.conforms and s.done for s in p.studies) for r in ("brain", "spine"))


def imaging_normal_and_conforming(p: Patient) -> bool:
    return all(
        any(s.region == r and s.result == "normal" and s.conforms and not s.signs for s in p.studies)
        for r in ("brain", "spine")
    )


def pdph_pattern(p: Patient) -> bool:
    if p.onset_days_before is None:
        return False
    return any(
        x.days_before is not None
        and (x.kind in DURAL_PUNCTURES or x.accidental_puncture)
        and 0 <= x.days_before - p.onset_days_before <= PDPH_DAYS
        for x in completed(p)
    )


def rebound_pattern(p: Patient) -> bool:
    if not p.worse_lying_down or not blood_patches(p):
        return False
    began = p.worse_lying_down_days_before
    dates = [x.days_before for x in blood_patches(p)]
    before_every_patch = began is not None and all(d is not None and began >= d for d in dates)
    return not before_every_patch


def leak_course(p: Patient) -> bool:
    return mri_leak_signs(p) or myelography(p, "leak-localised") or pdph_pattern(p)


# ---------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------
Step = tuple[str, str | None, str, frozenset[str]]
"""A next step, the data element that blocks it (insufficient data only), the rule, and the
companions of its row."""


def _proceed_if_planned(p: Patient, why: str, companions: frozenset[str] = frozenset()) -> Step:
    if not procedure_planned(p):
        return NOT_APPLICABLE, None, f"{why}, nothing planned", companions
    if not red_flag_screen_complete(p):
        return INSUFFICIENT, BLOCKING_DATA["safety"], f"{why}, planned, screen incomplete", companions
    return PROCEED, None, f"{why}, planned, screen complete", companions


def _row(p: Patient, *, defer: bool = True, document: bool = True, monitor: bool = True) -> set[str]:
    found: set[str] = set()
    if defer and procedure_planned(p):
        found.add(DEFER)
    if document and insurance_procedure_planned(p):
        found.add(DOCUMENT)
    if monitor:
        found.add(MONITOR)
    return found


def next_step(p: Patient) -> Step:
    none: frozenset[str] = frozenset()
    if red_flag_present(p):
        return URGENT, None, "1: red flag present", frozenset(_row(p, monitor=False))
    if not headache_present(p) and not no_headache(p):
        if p.orthostatic is None:
            return INSUFFICIENT, BLOCKING_DATA["orthostatic"], "2: orthostatic status unrecorded", none
        return INSUFFICIENT, BLOCKING_DATA["non-orthostatic"], "2: non-orthostatic status unrecorded", none
    if rebound_pattern(p):
        return (
            REBOUND,
            None,
            "3: headache worse lying down after a patch",
            frozenset(_row(p, document=False, monitor=False)),
        )
    if p.symptoms_resolved is True and leak_course(p):
        treated = "treated" if treatment_done(p) else "untreated"
        return _proceed_if_planned(p, f"6: resolved, {treated}")
    if no_headache(p):
        if strong_evidence(p):
            return (
                MDT,
                None,
                "4: no headache, strong evidence",
                frozenset(_row(p, document=False, monitor=False)),
            )
        return _proceed_if_planned(p, "5: no headache")
    # a headache is present
    if (
        pdph_pattern(p)
        and p.onset_days_before is not None
        and p.onset_days_before <= RECENT_ONSET_DAYS
        and not blood_patches(p)
    ):
        return (
            PDPH_CARE,
            None,
            "7: post-dural puncture pattern, recent, no patch",
            frozenset(_row(p, document=False) | {CONSERVATIVE}),
        )
    strong = strong_evidence(p)
    if not strong and not imaging_to_protocol(p):
        return (
            OBTAIN_MRI,
            None,
            "8: no strong evidence, imaging missing or not to protocol",
            frozenset(_row(p)),
        )
    if strong and myelography(p, "leak-localised") and not targeted_treatment_done(p):
        return TARGETED, None, "9: leak localised, no targeted treatment", frozenset(_row(p))
    if strong and targeted_treatment_done(p):
        return MDT, None, "10: targeted treatment done, persisting", frozenset(_row(p))
    if myelography(p, "no-leak"):
        return MDT, None, "10: myelography found no leak", frozenset(_row(p))
    if strong:
        if non_targeted_patches(p) < 2:
            extra = {CONSERVATIVE} | ({COMPLETE_IMAGING} if not imaging_to_protocol(p) else set())
            return (
                BLOOD_PATCH,
                None,
                "11: strong evidence, fewer than two non-targeted patches",
                frozenset(_row(p) | extra),
            )
        return MYELOGRAPHY, None, "12: strong evidence, two or more non-targeted patches", frozenset(_row(p))
    if mri_leak_signs(p):
        return MDT, None, "13: possible evidence, imaging to protocol", frozenset(_row(p) | {CONSIDER_EBP})
    if p.suspicion == "high":
        return MDT, None, "14: no evidence, high suspicion", frozenset(_row(p) | {CONSIDER_EBP})
    if p.suspicion == "low":
        return _proceed_if_planned(p, "15: no evidence, low suspicion", frozenset({DIFFERENTIAL}))
    return INSUFFICIENT, BLOCKING_DATA["suspicion"], "16: no evidence, suspicion unrecorded", none


def expected(p: Patient) -> Expected:
    """The oracle's reading of the table for one patient."""
    step, blocking, why, companions = next_step(p)
    return Expected(next_step=step, companions=companions, blocking=blocking, why=why)
