"""The accepted values of command-line options. Symptoms, procedures, red flags, imaging
findings, brain MRI signs and measurements are the ``csf:code`` values of the ontology's classes, read from it at start-up
(:func:`csfkg.model.codes.code_list`, a few milliseconds); the other choices are states of a
flag, not classes of the ontology."""

from __future__ import annotations

from enum import Enum

from csfkg.model.codes import (
    BRAIN_MEASUREMENT,
    BRAIN_MRI_FINDING,
    IMAGING_FINDING,
    MYELOGRAPHY_OUTCOME,
    RED_FLAG,
    SPINAL_PROCEDURE,
    SYMPTOM,
    code_list,
)


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


def _from_ontology(name: str, parent: str) -> type[Enum]:
    """A str Enum of the codes of the classes below ``parent``, one member per code, named by it."""
    return Enum(name, [(code, code) for code in code_list(parent)], type=str)  # type: ignore[return-value]


Symptom = _from_ontology("Symptom", SYMPTOM)
ProcedureCode = _from_ontology("ProcedureCode", SPINAL_PROCEDURE)
RedFlag = _from_ontology("RedFlag", RED_FLAG)
Finding = _from_ontology("Finding", IMAGING_FINDING)
BRAIN_SIGNS = code_list(BRAIN_MRI_FINDING)
BRAIN_MEASUREMENTS = code_list(BRAIN_MEASUREMENT)
MyelographyState = Enum(  # type: ignore[misc]
    "MyelographyState",
    [("not-done", "not-done"), *((code, code) for code in code_list(MYELOGRAPHY_OUTCOME))],
    type=str,
)
"""Not done, or a csf:MyelographyOutcome by its csf:code."""
