"""Every IRI the Python code names, in one place.

``CSF`` is the ontology (TBox) namespace, ``CSFG`` the guideline knowledge individuals,
``CSFR`` derived results, ``CSFQ`` the named queries, ``CSFSH`` the SHACL shapes.
``CSF`` is a closed :class:`rdflib.namespace.DefinedNamespace`: a typo is an error at import
time, not a silently wrong IRI.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

ONTOLOGY_IRI = URIRef("https://w3id.org/csfkg/ontology")
GUIDELINE_IRI = URIRef("https://w3id.org/csfkg/guideline")
ARTICLE_IRI = URIRef("https://w3id.org/csfkg/article")


class CSF(DefinedNamespace):
    """The csfkg ontology: classes, properties and value individuals."""

    _NS = Namespace("https://w3id.org/csfkg/ontology#")
    _fail = True

    # classes
    Patient: URIRef
    ClinicalFinding: URIRef
    OrthostaticHeadache: URIRef
    RedFlagSign: URIRef
    Procedure: URIRef
    SpinalProcedure: URIRef
    MedialBranchBlock: URIRef
    EpiduralBloodPatch: URIRef
    DuralPuncture: URIRef
    ImagingStudy: URIRef
    BrainMRI: URIRef
    BrainMRIWithContrast: URIRef
    SpineMRI: URIRef
    MRISequence: URIRef
    ImagingFinding: URIRef
    BrainMRIFinding: URIRef
    SpineMRIFinding: URIRef
    Recommendation: URIRef
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
    symptomOnsetDate: URIRef
    assessmentDate: URIRef
    clinicalSuspicion: URIRef
    hasProcedure: URIRef
    procedureStatus: URIRef
    procedureDate: URIRef
    atVertebralLevel: URIRef
    planReason: URIRef
    patchTargeting: URIRef
    hasImagingStudy: URIRef
    studyResult: URIRef
    showsFinding: URIRef
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


CSF_NS = Namespace("https://w3id.org/csfkg/ontology#")
"""The open form of the ontology namespace, for IRIs built from codes (vertebral levels)."""
CSFG = Namespace("https://w3id.org/csfkg/guideline#")
CSFR = Namespace("https://w3id.org/csfkg/result/")
CSFQ = Namespace("https://w3id.org/csfkg/queries/")
CSFSH = Namespace("https://w3id.org/csfkg/shapes#")
PATIENT = Namespace("https://example.org/csfkg/patient/")

PREFIXES: dict[str, Namespace | str] = {
    "csf": str(CSF._NS),
    "csfg": str(CSFG),
    "csfr": str(CSFR),
    "csfsh": str(CSFSH),
    "ex": str(PATIENT),
}
