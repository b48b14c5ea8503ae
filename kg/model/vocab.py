"""Every IRI the Python code names, in one place.

``CSF`` is the ontology (TBox) namespace, ``CSFG`` the guideline knowledge individuals,
``CSFR`` derived results, ``CSFQ`` the named queries, ``CSFSH`` the SHACL shapes.
``CSF`` is a closed :class:`rdflib.namespace.DefinedNamespace`: a typo is an error at import
time, not a silently wrong IRI.
"""

from __future__ import annotations

import re
from functools import cache

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import XSD, DefinedNamespace, NamespaceManager

from csfkg.model import namespaces

ONTOLOGY_IRI = URIRef("https://w3id.org/csfkg/ontology")
GUIDELINE_IRI = URIRef("https://w3id.org/csfkg/guideline")
ARTICLE_IRI = URIRef("https://w3id.org/csfkg/article")


class CSF(DefinedNamespace):
    """The csfkg ontology: classes, properties and value individuals."""

    _NS = Namespace(namespaces.CSF)
    _fail = True

    # classes
    Patient: URIRef
    ClinicalFinding: URIRef
    Symptom: URIRef
    OrthostaticHeadache: URIRef
    NonOrthostaticHeadache: URIRef
    HeadacheWorseLyingDown: URIRef
    RedFlagSign: URIRef
    Procedure: URIRef
    SpinalProcedure: URIRef
    MedialBranchBlock: URIRef
    EpiduralBloodPatch: URIRef
    DuralPuncture: URIRef
    CSFLeakProcedure: URIRef
    Myelography: URIRef
    TargetedLeakTreatment: URIRef
    MyelographyOutcome: URIRef
    ImagingStudy: URIRef
    BrainMRI: URIRef
    BrainMRIWithContrast: URIRef
    SpineMRI: URIRef
    MRISequence: URIRef
    ImagingFinding: URIRef
    BrainMRIFinding: URIRef
    SpineMRIFinding: URIRef
    Recommendation: URIRef
    CriterionAssessment: URIRef
    MissingDataReport: URIRef
    BernAssessment: URIRef
    LumbarFacetJointInjection: URIRef
    # classes of the value individuals (the FHIR mapping checks a code names one of them)
    FindingStatus: URIRef
    SuspicionLevel: URIRef
    LeakType: URIRef
    PatchTargeting: URIRef
    PlanReason: URIRef
    VertebralLevel: URIRef
    StudyResult: URIRef
    SequenceTechnique: URIRef
    Weighting: URIRef
    ImagingPlane: URIRef
    ContrastPhase: URIRef
    AcquisitionDimension: URIRef
    # value individuals
    present: URIRef
    absent: URIRef
    highSuspicion: URIRef
    lowSuspicion: URIRef
    completed: URIRef
    planned: URIRef
    insuranceStepTherapy: URIRef
    nonTargeted: URIRef
    targeted: URIRef
    normalResult: URIRef
    leakSignsResult: URIRef
    leakLocalised: URIRef
    noLeakFound: URIRef
    spinEcho: URIRef
    flair: URIRef
    gradientEcho: URIRef
    swi: URIRef
    stir: URIRef
    ciss: URIRef
    volumetricT1: URIRef
    t1Weighting: URIRef
    t2Weighting: URIRef
    t2StarWeighting: URIRef
    heavyT2Weighting: URIRef
    axial: URIRef
    sagittal: URIRef
    preContrast: URIRef
    postContrast: URIRef
    twoDimensional: URIRef
    threeDimensional: URIRef
    # properties
    code: URIRef
    hasFinding: URIRef
    findingStatus: URIRef
    frequency: URIRef
    symptomsResolvedAfterTreatment: URIRef
    symptomsResolved: URIRef
    resolutionDate: URIRef
    findingOnsetDate: URIRef
    accidentalDuralPuncture: URIRef
    myelographyOutcome: URIRef
    leakType: URIRef
    accompanies: URIRef
    symptomOnsetDate: URIRef
    assessmentDate: URIRef
    runAssessmentDate: URIRef
    recordedAssessmentDate: URIRef
    clinicalSuspicion: URIRef
    hasProcedure: URIRef
    procedureStatus: URIRef
    procedureDate: URIRef
    patchVolumeMl: URIRef
    studyDate: URIRef
    brainMeasurementMm: URIRef
    atVertebralLevel: URIRef
    planReason: URIRef
    patchTargeting: URIRef
    hasImagingStudy: URIRef
    studyResult: URIRef
    showsFinding: URIRef
    assessedAbsentFinding: URIRef
    performedSequence: URIRef
    technique: URIRef
    weighting: URIRef
    plane: URIRef
    dimension: URIRef
    contrastPhase: URIRef
    sliceThicknessMm: URIRef
    isotropicVoxelMm: URIRef
    fatSuppressed: URIRef
    vertebralOrdinal: URIRef
    shownOn: URIRef
    appliesToStudyClass: URIRef
    requiresSequence: URIRef
    sequenceOrder: URIRef
    requiredWeighting: URIRef
    acceptedTechnique: URIRef
    requiredPlane: URIRef
    requiredDimension: URIRef
    requiredContrastPhase: URIRef
    minSliceThicknessMm: URIRef
    maxSliceThicknessMm: URIRef
    maxIsotropicVoxelMm: URIRef
    requiresFatSuppression: URIRef


NUMERIC_DATATYPES: tuple[str, ...] = tuple(
    str(XSD[name])
    for name in (
        "integer",
        "decimal",
        "double",
        "float",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
)
"""The XSD numeric datatypes (IRIs) the engines read as numbers."""

CSF_NS = Namespace(namespaces.CSF)
"""The open form of the ontology namespace, for IRIs built from codes (vertebral levels)."""
CSFG = Namespace("https://w3id.org/csfkg/guideline#")
CSFR = Namespace("https://w3id.org/csfkg/result/")
CSFQ = Namespace("https://w3id.org/csfkg/queries/")
CSFSH = Namespace("https://w3id.org/csfkg/shapes#")
PATIENT = Namespace("https://example.org/csfkg/patient/")
SYNTHETIC = Namespace("https://example.org/csfkg/synthetic/")
"""Patients and records of ``csfkg synth`` cohorts."""

RELEASE_BASE = "https://w3id.org/csfkg/"
"""Release ontologies (``merged``, ``full``) and their version IRIs (``releases/V/variant``)."""
MERGED_IRI = URIRef(RELEASE_BASE + "merged")
FULL_IRI = URIRef(RELEASE_BASE + "full")


def release_version_iri(version: str, variant: str) -> URIRef:
    return URIRef(f"{RELEASE_BASE}releases/{version}/{variant}")


FHIR_CODE_SYSTEM = "https://w3id.org/csfkg/fhir/CodeSystem/csfkg"
"""Our own FHIR CodeSystem (``ontology/csfkg.codesystem.json``): code = a csf term's local name."""
FHIR_EXTENSION_BASE = "https://w3id.org/csfkg/fhir/StructureDefinition/"
"""Our FHIR extensions: this URL followed by the local name of the csf property they hold."""
FHIR_UCUM = "http://unitsofmeasure.org"
FHIR_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
FHIR_CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
FHIR_DICOM_MODALITY = "http://dicom.nema.org/resources/ontology/DCM"
"""The FHIR code systems the importer reads and the writer writes besides the ontology's."""

OBO_IN_OWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")

STANDARD_PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
}
"""The W3C vocabularies the graph and the queries use."""

SSSOM = Namespace("https://w3id.org/sssom/")
SEMAPV = Namespace("https://w3id.org/semapv/vocab/")
PAV = Namespace("http://purl.org/pav/")
LINKML = Namespace("https://w3id.org/linkml/")
"""The vocabularies of SSSOM mapping sets (ontology/mappings/*.sssom.tsv)."""

TERMINOLOGY_PREFIXES: dict[str, str] = {
    "HP": "http://purl.obolibrary.org/obo/HP_",
    "MONDO": "http://purl.obolibrary.org/obo/MONDO_",
    "obo": "http://purl.obolibrary.org/obo/",
    "SNOMEDCT": "http://snomed.info/id/",
    "ICD10CM": "http://purl.bioontology.org/ontology/ICD10CM/",
    "LOINC": "https://loinc.org/",
    "CPT": "http://purl.bioontology.org/ontology/CPT/",
}
"""The standard terminologies the mappings point to, as CURIE prefixes (the docs expand them)."""

PREFIXES: dict[str, Namespace | str] = {
    "csf": str(CSF._NS),
    "csfg": str(CSFG),
    "csfr": str(CSFR),
    "csfsh": str(CSFSH),
    "ex": str(PATIENT),
}

DISPLAY_PREFIXES: dict[str, str] = {
    **{prefix: str(namespace) for prefix, namespace in PREFIXES.items()},
    "csfq": str(CSFQ),
    **STANDARD_PREFIXES,
    **TERMINOLOGY_PREFIXES,
}
"""The prefixes IRIs are shown with to a person: query tables, lookups, reasoning reports, the
docs, the Turtle of a CONSTRUCT result."""


@cache
def _display_namespaces() -> NamespaceManager:
    manager = Graph(bind_namespaces="none").namespace_manager
    for prefix, namespace in DISPLAY_PREFIXES.items():
        manager.bind(prefix, namespace, override=True, replace=True)
    return manager


def prefixed_name(iri: URIRef | str) -> str:
    """An IRI for a person: a prefixed name (``csfg:obtain-mri-brain-and-spine``) when it is in
    one of :data:`DISPLAY_PREFIXES` and its local part is a valid prefixed-name local part, else
    ``<iri>`` - rdflib's :meth:`~rdflib.namespace.NamespaceManager.normalizeUri`, so that what is
    shown can be pasted into a SPARQL query."""
    return _display_namespaces().normalizeUri(URIRef(iri))


_IRI_IN_TEXT = re.compile(r"<?(https?://[^\s<>\"{}|\\^`,;]+[^\s<>\"{}|\\^`,;.:)])>?")
"""An http(s) IRI in running text, with or without its angle brackets (a trailing full stop,
colon or parenthesis is the sentence's, not the IRI's)."""


def prefixed_names_in(text: str) -> str:
    """``text`` with each http(s) IRI in it as :func:`prefixed_name` shows it."""
    return _IRI_IN_TEXT.sub(lambda m: prefixed_name(m.group(1)), text)


def prefixed_if_iri(value: str | None) -> str | None:
    """``value`` as a prefixed name when the whole of it is an http(s) IRI, else unchanged (a
    literal's text, a blank node's identifier, None)."""
    if value is None or not _IRI_IN_TEXT.fullmatch(value) or value.startswith("<"):
        return value
    return prefixed_name(value)


# -------------------------------------------------------------------------------------------
# FHIR output: the code systems and identifiers the FHIR resources and CDS Hooks cards name
# -------------------------------------------------------------------------------------------
FHIR_ACTION_TYPE = "http://terminology.hl7.org/CodeSystem/action-type"
"""FHIR's code system of RequestGroup.action.type (create, update, remove, fire-event)."""

URI_IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"
"""The identifier system whose values are URIs: a patient named by its IRI."""
