"""The accepted values of command-line options. They mirror ``csf:code`` values of the
ontology; tests/test_cli_choices.py fails if the two drift apart."""

from __future__ import annotations

from enum import Enum


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    turtle = "turtle"


class Symptom(str, Enum):
    orthostatic_headache = "orthostatic-headache"


class ProcedureCode(str, Enum):
    medial_branch_block = "medial-branch-block"
    epidural_blood_patch = "epidural-blood-patch"
    dural_puncture = "dural-puncture"


class StudyState(str, Enum):
    not_done = "not-done"
    normal = "normal"
    leak_signs = "leak-signs"


class ProtocolState(str, Enum):
    complete = "complete"
    incomplete = "incomplete"


class Suspicion(str, Enum):
    high = "high"
    low = "low"


class RedFlag(str, Enum):
    new_severe_back_pain = "new-severe-back-pain"
    new_severe_leg_pain = "new-severe-leg-pain"
    lower_limb_weakness = "lower-limb-weakness"
    lower_limb_sensory_change = "lower-limb-sensory-change"
    urinary_incontinence = "urinary-incontinence"
    fecal_incontinence = "fecal-incontinence"
    fever = "fever"
    worsening_headache = "worsening-headache"
    altered_mental_status = "altered-mental-status"


class Finding(str, Enum):
    pachymeningeal_enhancement = "pachymeningeal-enhancement"
    venous_sinus_engorgement = "venous-sinus-engorgement"
    brain_sagging = "brain-sagging"
    subdural_fluid_collection = "subdural-fluid-collection"
    pituitary_enlargement = "pituitary-enlargement"
    basal_cistern_effacement = "basal-cistern-effacement"
    meningeal_diverticulum = "meningeal-diverticulum"
    dilated_epidural_venous_plexus = "dilated-epidural-venous-plexus"
    subdural_hygroma = "subdural-hygroma"
    extradural_csf_collection = "extradural-csf-collection"
