"""An independent oracle: the management algorithm of issue 2 / issue 5, read in plain Python.

This module is written from the text of the algorithm (the precedence list, the companions and the
project's safety rule), not from ``queries/`` or ``ontology/guideline.ttl``; of the ontology it
reads only the list of red-flag signs (:func:`red_flags`): tests/test_oracle.py
compares it with the SPARQL derivation on thousands of generated patients, so that the two
readings check each other. It holds no RDF: a patient is the plain :class:`Patient` record below,
and tests/test_oracle.py turns the same record into a patient graph.

The algorithm, precedence top wins:

1. any red flag present -> ``urgent-evaluation``
2. orthostatic symptoms neither recorded present nor recorded absent -> ``insufficient-data``
3. orthostatic absent: an MRI with signs of a leak -> 5; otherwise
   ``proceed-with-planned-procedure`` if a spinal procedure (other than a blood patch) is
   planned, else ``not-applicable``
4. orthostatic present: any brain or spine MRI shows leak signs -> 5; brain or spine MRI not
   done (not recorded = not done), or a normal study that does not conform to its protocol (no
   sequences recorded = not conforming) -> ``obtain-mri-brain-and-spine``; both normal and
   conforming: suspicion high -> ``specialist-mdt-referral``; low -> proceed if planned, else
   ``not-applicable``; not recorded -> ``insufficient-data``
5. leak signs on MRI: symptoms resolved after treatment -> proceed if planned, else
   ``not-applicable``; onset unknown -> ``insufficient-data``; onset less than 14 days before the
   assessment and no blood patch yet -> ``conservative-management``; fewer than two
   non-targeted blood patches -> ``epidural-blood-patch``; two or more ->
   ``specialist-mdt-referral``.

Safety rule (csfg:ev-no-proceed-on-missing-data): ``proceed-with-planned-procedure`` also needs a
complete red-flag screen - every red-flag sign recorded, or one negative-screen record (a finding
typed csf:RedFlagSign itself, status absent) - otherwise ``insufficient-data``.

Companions, beside the next step (the next step does not change them):

- ``defer-spinal-intervention``: a spinal procedure other than a blood patch is planned and either
  a leak is active (suspected: orthostatic present, or confirmed: leak signs on MRI; and neither
  resolved - leak signs and symptoms resolved - nor excluded - no leak signs, normal conforming
  brain and spine MRI and low suspicion) or a red flag is present;
- ``document-medical-necessity``: the same, for a planned procedure required by insurance;
- ``monitor-red-flags``: a leak is active;
- ``consider-non-targeted-ebp``: orthostatic present, brain and spine MRI normal and conforming,
  suspicion high, no leak signs.

Readings this oracle had to choose where the text is silent (each is a decision, and
tests/test_oracle.py says whether the derivation agrees):

- A study with no recorded result counts as not done, unless it shows a leak sign: a study that
  shows brain sagging shows signs of a leak, whatever its result field says (a study recorded
  normal that shows a sign is a contradiction the shapes refuse).
- "Brain MRI normal and conforming" with several brain studies: leak signs on any study win (the
  text says "any"); otherwise the region counts as normal and conforming when at least one of
  its studies is normal and conforms (a later complete study makes up for an earlier incomplete
  one).
- A finding typed csf:RedFlagSign itself with status present (an unnamed red flag) is a red flag
  present.
- "No blood patch yet" counts every completed blood patch, targeted or not; "non-targeted" counts
  only completed patches recorded csf:nonTargeted (a patch of unrecorded targeting is not known
  to be non-targeted). Planned blood patches count for neither.
- A planned spinal procedure of no more specific kind (csf:SpinalProcedure) is "a spinal procedure
  other than a blood patch": it is not known to be a blood patch, so it is planned and deferred.
- "Symptoms resolved" is the boolean csf:symptomsResolvedAfterTreatment = true; false and not
  recorded both mean not resolved.
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
PROCEED = "proceed-with-planned-procedure"
NOT_APPLICABLE = "not-applicable"
OBTAIN_MRI = "obtain-mri-brain-and-spine"
MDT = "specialist-mdt-referral"
CONSERVATIVE = "conservative-management"
BLOOD_PATCH = "epidural-blood-patch"
NEXT_STEPS: frozenset[str] = frozenset(
    {URGENT, INSUFFICIENT, PROCEED, NOT_APPLICABLE, OBTAIN_MRI, MDT, CONSERVATIVE, BLOOD_PATCH}
)

DEFER = "defer-spinal-intervention"
DOCUMENT = "document-medical-necessity"
MONITOR = "monitor-red-flags"
CONSIDER_EBP = "consider-non-targeted-ebp"
COMPANIONS: frozenset[str] = frozenset({DEFER, DOCUMENT, MONITOR, CONSIDER_EBP})

RECENT_ONSET_DAYS = 14
"""Onset fewer than this many days before the assessment is recent."""

Region = Literal["brain", "spine"]
StudyResult = Literal["normal", "leak-signs"]
ProcedureKind = Literal["medial-branch-block", "epidural-blood-patch", "dural-puncture", "spinal-procedure"]
"""``spinal-procedure``: typed csf:SpinalProcedure and nothing more specific."""


@dataclass(frozen=True)
class Study:
    """One MRI study. ``result`` None: no result recorded. ``conforms``: every sequence of the
    region's protocol was recorded with its required parameters. ``shows_signs``: the study shows
    at least one imaging finding of a leak (csf:showsFinding)."""

    region: Region
    result: StudyResult | None
    conforms: bool
    shows_signs: bool = False

    @property
    def leak_signs(self) -> bool:
        return self.result == "leak-signs" or self.shows_signs


@dataclass(frozen=True)
class Procedure:
    """One spinal procedure, done or planned."""

    kind: ProcedureKind
    planned: bool
    insurance_required: bool = False
    targeting: Literal["targeted", "non-targeted"] | None = None


@dataclass(frozen=True)
class Patient:
    """What the algorithm reads of a patient; None means not recorded.

    ``red_flags_present`` and ``red_flags_absent`` hold codes of :func:`red_flags` (or
    :data:`UNNAMED_RED_FLAG` in ``red_flags_present``); ``negative_screen`` is the one record
    that every red flag is absent. ``onset_days_before`` counts days from symptom onset to the
    assessment date (0: the same day).
    """

    orthostatic: Literal["present", "absent"] | None = None
    red_flags_present: frozenset[str] = frozenset()
    red_flags_absent: frozenset[str] = frozenset()
    negative_screen: bool = False
    onset_days_before: int | None = None
    suspicion: Literal["high", "low"] | None = None
    symptoms_resolved: bool | None = None
    procedures: tuple[Procedure, ...] = ()
    studies: tuple[Study, ...] = ()


BLOCKING_DATA: dict[str, str] = {
    "2": "orthostatic-status",
    "safety": "red-flag-screen",
    "onset": "symptom-onset",
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


def procedure_planned(p: Patient) -> bool:
    """A spinal procedure other than a blood patch is planned."""
    return any(x.planned and x.kind != "epidural-blood-patch" for x in p.procedures)


def insurance_procedure_planned(p: Patient) -> bool:
    """A planned spinal procedure (other than a blood patch) is required by insurance."""
    return any(x.planned and x.kind != "epidural-blood-patch" and x.insurance_required for x in p.procedures)


def leak_signs(p: Patient) -> bool:
    """Any brain or spine MRI shows signs of a leak."""
    return any(s.leak_signs for s in p.studies)


def normal_and_conforming(p: Patient, region: Region) -> bool:
    """The region has a normal study that conforms to its protocol."""
    return any(
        s.region == region and s.result == "normal" and s.conforms and not s.shows_signs for s in p.studies
    )


def imaging_normal_and_conforming(p: Patient) -> bool:
    return normal_and_conforming(p, "brain") and normal_and_conforming(p, "spine")


def blood_patches_done(p: Patient) -> int:
    return sum(1 for x in p.procedures if x.kind == "epidural-blood-patch" and not x.planned)


def non_targeted_blood_patches_done(p: Patient) -> int:
    return sum(
        1
        for x in p.procedures
        if x.kind == "epidural-blood-patch" and not x.planned and x.targeting == "non-targeted"
    )


def leak_suspected(p: Patient) -> bool:
    """Suspected (orthostatic present) or confirmed (leak signs on MRI)."""
    return p.orthostatic == "present" or leak_signs(p)


def leak_resolved(p: Patient) -> bool:
    """A confirmed leak, treated, with symptoms resolved."""
    return leak_signs(p) and p.symptoms_resolved is True


def leak_excluded(p: Patient) -> bool:
    """No leak signs, normal protocol-conforming brain and spine MRI, and low suspicion."""
    return not leak_signs(p) and imaging_normal_and_conforming(p) and p.suspicion == "low"


def leak_active(p: Patient) -> bool:
    return leak_suspected(p) and not leak_resolved(p) and not leak_excluded(p)


# ---------------------------------------------------------------------------------------
# the algorithm
# ---------------------------------------------------------------------------------------
Step = tuple[str, str | None, str]
"""A next step, the data element that blocks it (insufficient data only), and the rule."""


def _proceed_if_planned(p: Patient, why: str) -> Step:
    if not procedure_planned(p):
        return NOT_APPLICABLE, None, f"{why}, nothing planned"
    if not red_flag_screen_complete(p):
        return (
            INSUFFICIENT,
            BLOCKING_DATA["safety"],
            f"{why}, planned, red-flag screen incomplete (safety rule)",
        )
    return PROCEED, None, f"{why}, planned, red flags screened"


def _leak_on_mri(p: Patient) -> Step:
    if p.symptoms_resolved is True:
        return _proceed_if_planned(p, "5: leak treated, symptoms resolved")
    if p.onset_days_before is None:
        return INSUFFICIENT, BLOCKING_DATA["onset"], "5: leak signs, onset unknown"
    if p.onset_days_before < RECENT_ONSET_DAYS and blood_patches_done(p) == 0:
        return CONSERVATIVE, None, "5: leak signs, onset under 14 days, no blood patch"
    if non_targeted_blood_patches_done(p) < 2:
        return BLOOD_PATCH, None, "5: leak signs, fewer than two non-targeted blood patches"
    return MDT, None, "5: leak signs, two or more non-targeted blood patches"


def next_step(p: Patient) -> Step:
    """The next step, what blocks it, and the rule that gave it."""
    if red_flag_present(p):
        return URGENT, None, "1: red flag present"
    if p.orthostatic is None:
        return INSUFFICIENT, BLOCKING_DATA["2"], "2: orthostatic status not recorded"
    if leak_signs(p):
        return _leak_on_mri(p)
    if p.orthostatic == "absent":
        return _proceed_if_planned(p, "3: orthostatic absent, no leak signs")
    if not imaging_normal_and_conforming(p):
        return OBTAIN_MRI, None, "4: suspected leak, brain or spine MRI not done or not conforming"
    if p.suspicion == "high":
        return MDT, None, "4: normal conforming MRI, high suspicion"
    if p.suspicion == "low":
        return _proceed_if_planned(p, "4: normal conforming MRI, low suspicion")
    return INSUFFICIENT, BLOCKING_DATA["suspicion"], "4: normal conforming MRI, suspicion not recorded"


def companions(p: Patient) -> frozenset[str]:
    found: set[str] = set()
    reason_to_wait = leak_active(p) or red_flag_present(p)
    if procedure_planned(p) and reason_to_wait:
        found.add(DEFER)
    if insurance_procedure_planned(p) and reason_to_wait:
        found.add(DOCUMENT)
    if leak_active(p):
        found.add(MONITOR)
    if (
        p.orthostatic == "present"
        and imaging_normal_and_conforming(p)
        and p.suspicion == "high"
        and not leak_signs(p)
    ):
        found.add(CONSIDER_EBP)
    return frozenset(found)


def expected(p: Patient) -> Expected:
    """The oracle's reading of the algorithm for one patient."""
    step, blocking, why = next_step(p)
    return Expected(next_step=step, companions=companions(p), blocking=blocking, why=why)
