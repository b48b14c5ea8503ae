"""The one table between FHIR R4 elements and the csf: patient vocabulary, read by the importer
(:mod:`csfkg.fhir.bundles`), the writer (:mod:`csfkg.fhir.writer`) and the docs table
(:mod:`csfkg.fhir.publish`). Codes are not here: which code names which term is the ontology's
``skos:*Match`` mappings and our own CodeSystem (:mod:`csfkg.fhir.codes`).

Each record of a patient graph comes from one kind of resource:

============  ==============================================  ===================================
record        FHIR                                            csf
============  ==============================================  ===================================
patient       Patient (IRI ``ex:<Patient.id>``)               csf:Patient
finding       Condition, or Observation (value true/false)    csf:hasFinding, a finding class
procedure     Procedure (done) or ServiceRequest (planned)    csf:hasProcedure, a procedure class
study         DiagnosticReport, or an ImagingStudy alone      csf:hasImagingStudy, a study class
sequence      ImagingStudy.series                             csf:performedSequence
============  ==============================================  ===================================

Choices (documented in ``docs/fhir-mapping.md``):

- ``Condition.onsetDateTime`` (or ``onsetPeriod.start``) is the finding's own onset
  (csf:findingOnsetDate). The patient's csf:symptomOnsetDate is the Patient extension
  ``symptomOnsetDate`` when given, else the earliest onset of a present symptom
  (``queries/fhir-symptom-onset.rq``). An Observation's ``effectiveDateTime`` is when it was
  observed, not when the finding began, and is not read as an onset.
- The payer's step therapy (csf:insuranceStepTherapy) is a ``ServiceRequest.reasonCode`` in our
  CodeSystem: it is the reason the order is placed. Da Vinci CRD's coverage-information
  extension records a payer's answer about an order (covered, prior authorisation needed), not
  why the order was placed, so it is not used.
- Values with no FHIR element of their own are extensions whose URL is
  https://w3id.org/csfkg/fhir/StructureDefinition/ followed by the csf property's local name
  (``.../symptomOnsetDate`` on Patient, ``.../technique`` on ``ImagingStudy.series``), their
  codes in our CodeSystem.
- An Observation is a finding present when ``valueBoolean`` is true (or its value is our code
  ``present``), absent when false (or ``absent``); inside a DiagnosticReport's ``result`` it is
  an imaging finding shown or ruled out, or a measurement (``valueQuantity`` in UCUM ``mm``).
- CPT 64493-64495 name a lumbar or sacral facet joint injection, which may be a medial branch
  block or an intra-articular injection: they exactly match csf:LumbarFacetJointInjection, a
  spinal procedure (deferred, when planned, like any other), and only relate to
  csf:MedialBranchBlock, so an order coded 64493 alone is not read as a medial branch block.
- The writer writes every finding as a Condition, a done procedure as a Procedure, a planned
  one as a ServiceRequest (``active``, ``order``), and each study as a DiagnosticReport, with an
  ImagingStudy for its sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from csfkg.model.vocab import CSF, CSF_NS, FHIR_EXTENSION_BASE


@dataclass(frozen=True)
class Element:
    """One FHIR element of a record and the csf property it holds.

    ``kind`` says how the value is written: ``code`` (a CodeableConcept or, in an extension, a
    Coding, naming a term of ``scope``), ``node`` (a code naming the class of a new node linked
    by the property), ``date``, ``decimal``, ``mm`` (a Quantity in UCUM ``mm``), ``boolean``,
    ``string``, or ``flag`` (a CodeableConcept holding the property's own code: true)."""

    record: str
    resource: str
    element: str
    property: URIRef
    kind: str
    scope: URIRef | None = None
    repeats: bool = False

    @property
    def extension_url(self) -> str:
        return FHIR_EXTENSION_BASE + self.property.removeprefix(str(CSF_NS))


_LEVEL, _STUDY_FINDING = CSF.VertebralLevel, CSF.ImagingFinding
ELEMENTS: tuple[Element, ...] = (
    Element("patient", "Patient", "extension", CSF.symptomOnsetDate, "date"),
    Element("patient", "Patient", "extension", CSF.clinicalSuspicion, "code", CSF.SuspicionLevel),
    Element("patient", "Patient", "extension", CSF.symptomsResolved, "boolean"),
    Element("patient", "Patient", "extension", CSF.symptomsResolvedAfterTreatment, "boolean"),
    Element("patient", "Patient", "extension", CSF.resolutionDate, "date"),
    Element("finding", "Condition", "onsetDateTime", CSF.findingOnsetDate, "date"),
    Element("finding", "Condition", "extension", CSF.frequency, "string"),
    Element("finding", "Observation", "extension", CSF.frequency, "string"),
    Element("procedure", "Procedure", "performedDateTime", CSF.procedureDate, "date"),
    Element("procedure", "Procedure", "bodySite", CSF.atVertebralLevel, "code", _LEVEL, repeats=True),
    Element("procedure", "Procedure", "outcome", CSF.myelographyOutcome, "code", CSF.MyelographyOutcome),
    Element("procedure", "Procedure", "complication", CSF.accidentalDuralPuncture, "flag"),
    Element("procedure", "Procedure", "extension", CSF.leakType, "code", CSF.LeakType),
    Element("procedure", "Procedure", "extension", CSF.patchTargeting, "code", CSF.PatchTargeting),
    Element("procedure", "Procedure", "extension", CSF.patchVolumeMl, "decimal"),
    Element("procedure", "ServiceRequest", "occurrenceDateTime", CSF.procedureDate, "date"),
    Element("procedure", "ServiceRequest", "bodySite", CSF.atVertebralLevel, "code", _LEVEL, repeats=True),
    Element(
        "procedure", "ServiceRequest", "reasonCode", CSF.planReason, "code", CSF.PlanReason, repeats=True
    ),
    Element("procedure", "ServiceRequest", "extension", CSF.patchTargeting, "code", CSF.PatchTargeting),
    Element("procedure", "ServiceRequest", "extension", CSF.patchVolumeMl, "decimal"),
    Element("study", "DiagnosticReport", "effectiveDateTime", CSF.studyDate, "date"),
    Element("study", "DiagnosticReport", "conclusionCode", CSF.studyResult, "code", CSF.StudyResult),
    Element(
        "study", "DiagnosticReport", "conclusionCode", CSF.showsFinding, "node", _STUDY_FINDING, repeats=True
    ),
    Element("study", "DiagnosticReport", "result", CSF.showsFinding, "node", _STUDY_FINDING, repeats=True),
    Element(
        "study", "DiagnosticReport", "result", CSF.assessedAbsentFinding, "node", _STUDY_FINDING, repeats=True
    ),
    Element("study", "DiagnosticReport", "result", CSF.brainMeasurementMm, "mm"),
    Element("study", "ImagingStudy", "started", CSF.studyDate, "date"),
    Element("sequence", "ImagingStudy.series", "extension", CSF.technique, "code", CSF.SequenceTechnique),
    Element("sequence", "ImagingStudy.series", "extension", CSF.weighting, "code", CSF.Weighting),
    Element("sequence", "ImagingStudy.series", "extension", CSF.plane, "code", CSF.ImagingPlane),
    Element("sequence", "ImagingStudy.series", "extension", CSF.dimension, "code", CSF.AcquisitionDimension),
    Element("sequence", "ImagingStudy.series", "extension", CSF.contrastPhase, "code", CSF.ContrastPhase),
    Element("sequence", "ImagingStudy.series", "extension", CSF.sliceThicknessMm, "mm"),
    Element("sequence", "ImagingStudy.series", "extension", CSF.isotropicVoxelMm, "mm"),
    Element("sequence", "ImagingStudy.series", "extension", CSF.fatSuppressed, "boolean"),
)
"""Every element the importer reads and the writer writes, besides the code of each record
(``Condition.code``, ``Procedure.code``, ``DiagnosticReport.code``, ``ImagingStudy.procedureCode``,
:data:`RECORD_CODES`) and its status (:data:`STATUSES`)."""


@dataclass(frozen=True)
class RecordCode:
    """Where a record's class is coded, and the class it must fall under."""

    record: str
    resource: str
    element: str
    link: URIRef | None
    scope: URIRef


RECORD_CODES: tuple[RecordCode, ...] = (
    RecordCode("finding", "Condition", "code", CSF.hasFinding, CSF.ClinicalFinding),
    RecordCode("finding", "Observation", "code", CSF.hasFinding, CSF.ClinicalFinding),
    RecordCode("procedure", "Procedure", "code", CSF.hasProcedure, CSF.Procedure),
    RecordCode("procedure", "ServiceRequest", "code", CSF.hasProcedure, CSF.Procedure),
    RecordCode("study", "DiagnosticReport", "code", CSF.hasImagingStudy, CSF.ImagingStudy),
    RecordCode("study", "ImagingStudy", "procedureCode", CSF.hasImagingStudy, CSF.ImagingStudy),
)
"""The element that codes each record's class, and the property that links it to its patient
(a series of an ImagingStudy is a csf:MRISequence, linked by csf:performedSequence, when it
holds one of the sequence elements)."""


@dataclass(frozen=True)
class Status:
    """A FHIR status value and what it means: the csf value it asserts; with a property and no
    value, none (an unconfirmed Condition records no status, whatever its clinicalStatus, and
    a finding without a status is not read); with neither, the resource is ignored (and
    counted). For a
    DiagnosticReport or ImagingStudy, the statuses whose study is read. The writer uses the
    first rule that gives the value it writes."""

    resource: str
    element: str
    code: str
    property: URIRef | None
    value: URIRef | None


_VER = "verificationStatus"
STATUSES: tuple[Status, ...] = (
    Status("Condition", _VER, "confirmed", CSF.findingStatus, CSF.present),
    Status("Condition", _VER, "refuted", CSF.findingStatus, CSF.absent),
    Status("Condition", _VER, "entered-in-error", None, None),
    Status("Condition", _VER, "unconfirmed", CSF.findingStatus, None),
    Status("Condition", _VER, "provisional", CSF.findingStatus, None),
    Status("Condition", _VER, "differential", CSF.findingStatus, None),
    Status("Condition", "clinicalStatus", "active", CSF.findingStatus, CSF.present),
    Status("Condition", "clinicalStatus", "recurrence", CSF.findingStatus, CSF.present),
    Status("Condition", "clinicalStatus", "relapse", CSF.findingStatus, CSF.present),
    Status("Observation", "valueBoolean", "true", CSF.findingStatus, CSF.present),
    Status("Observation", "valueBoolean", "false", CSF.findingStatus, CSF.absent),
    Status("Observation", "status", "entered-in-error", None, None),
    Status("Observation", "status", "cancelled", None, None),
    Status("Procedure", "status", "completed", CSF.procedureStatus, CSF.completed),
    Status("ServiceRequest", "status", "active", CSF.procedureStatus, CSF.planned),
    Status("ServiceRequest", "status", "draft", CSF.procedureStatus, CSF.planned),
    Status("DiagnosticReport", "status", "final", None, CSF.ImagingStudy),
    Status("DiagnosticReport", "status", "amended", None, CSF.ImagingStudy),
    Status("DiagnosticReport", "status", "corrected", None, CSF.ImagingStudy),
    Status("DiagnosticReport", "status", "appended", None, CSF.ImagingStudy),
    Status("DiagnosticReport", "status", "preliminary", None, CSF.ImagingStudy),
    Status("DiagnosticReport", "status", "partial", None, CSF.ImagingStudy),
    Status("ImagingStudy", "status", "available", None, CSF.ImagingStudy),
)
"""The statuses read. A Procedure, ServiceRequest, DiagnosticReport or ImagingStudy whose
status is not listed here (a Procedure not done, a cancelled order) is ignored and counted; so
is a Condition or Observation that these do not make present or absent (unconfirmed,
provisional, resolved, entered in error): a finding of unknown status says nothing, and the
derivation then reports the finding as not recorded."""

PLANNED_INTENTS: tuple[str, ...] = (
    "proposal",
    "plan",
    "directive",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
)
"""The ServiceRequest intents of a planned procedure (``option`` is not a plan)."""


def elements_of(record: str, resource: str) -> list[Element]:
    """The elements of ``record`` held by ``resource``."""
    return [e for e in ELEMENTS if e.record == record and e.resource == resource]
