"""A patient graph of the csf: vocabulary written as a FHIR R4 Bundle: the inverse of
:mod:`csfkg.fhir.bundles`, through the same element table (:mod:`csfkg.fhir.mapping`) and
codings (:mod:`csfkg.fhir.codes`). A finding is written as a Condition, a done procedure as a
Procedure, a planned one as a ServiceRequest, an imaging study as a DiagnosticReport (with an
ImagingStudy for its sequences and Observations for the findings it rules out and its
measurements). The Bundle is validated with ``fhir.resources`` before it is returned.
"""

from __future__ import annotations

import hashlib
from typing import Any

from rdflib import RDF, Graph, URIRef

from csfkg.fhir.bundles import validate_bundle
from csfkg.fhir.codes import CodeTable, code_table
from csfkg.fhir.mapping import RECORD_CODES, STATUSES, Element, elements_of
from csfkg.model.errors import InputError
from csfkg.model.vocab import (
    CSF,
    FHIR_CODE_SYSTEM,
    FHIR_CONDITION_CLINICAL,
    FHIR_CONDITION_VERIFICATION,
    FHIR_DICOM_MODALITY,
    FHIR_UCUM,
    PATIENT,
    prefixed_name,
)

_LIST_ELEMENTS = frozenset({"bodySite", "reasonCode", "conclusionCode", "complication", "result"})
"""The FHIR elements (of those the table names) that hold a list."""
_STATUS_SYSTEMS = {
    "verificationStatus": FHIR_CONDITION_VERIFICATION,
    "clinicalStatus": FHIR_CONDITION_CLINICAL,
}


def _code_element(record: str, resource_type: str) -> str:
    """The element that codes the class of ``record`` in ``resource_type`` (``code``)."""
    return next(c.element for c in RECORD_CODES if c.record == record and c.resource == resource_type)


class _Writer:
    def __init__(self, graph: Graph, table: CodeTable) -> None:
        self.graph = graph
        self.table = table
        self.entries: list[dict[str, Any]] = []
        self.used: set[str] = set()

    def ident(self, node: Any, fallback: str) -> str:
        text = str(node).removeprefix(str(PATIENT)) if isinstance(node, URIRef) else fallback
        ident = "".join(c if c.isalnum() or c in "-." else "-" for c in text)[:64] or fallback
        if ident in self.used:
            ident = f"{fallback}-{hashlib.sha1(str(node).encode()).hexdigest()[:8]}"[:64]
        self.used.add(ident)
        return ident

    def concept(self, term: URIRef) -> dict[str, Any]:
        codings = self.table.codings_of(term)
        if not codings:
            raise InputError(f"{prefixed_name(term)} has no FHIR coding (no code in our CodeSystem).")
        return {"coding": [{"system": c.system, "code": c.code} for c in codings]}

    def own_coding(self, term: URIRef) -> dict[str, Any]:
        return {"system": FHIR_CODE_SYSTEM, "code": self.table.codings_of(term)[0].code}

    def add(self, resource: dict[str, Any]) -> str:
        url = f"urn:uuid:{_uuid(resource['resourceType'] + '/' + resource['id'])}"
        self.entries.append({"fullUrl": url, "resource": resource})
        return url

    def record_class(self, node: Any, scope: URIRef) -> URIRef:
        for cls in sorted(self.graph.objects(node, RDF.type)):
            if scope in self.table.scopes.get(cls, ()):  # type: ignore[arg-type]
                return cls  # type: ignore[return-value]
        raise InputError(f"{prefixed_name(node)} has no class below {prefixed_name(scope)}.")

    def value(self, element: Element, value: Any) -> Any:
        """``value`` as ``element`` holds it (an extension's value[x], or the element's value)."""
        if element.kind in ("code", "node") or element.kind == "flag":
            term = element.property if element.kind == "flag" else value
            if element.element == "extension":
                return {"valueCoding": self.own_coding(term)}
            return self.concept(term)
        if element.kind == "date":
            return {"valueDate": str(value)} if element.element == "extension" else str(value)
        if element.kind == "mm":
            quantity = {"value": float(value), "unit": "mm", "system": FHIR_UCUM, "code": "mm"}
            return {"valueQuantity": quantity}
        if element.kind == "decimal":
            return {"valueDecimal": float(value)}
        if element.kind == "boolean":
            return {"valueBoolean": bool(value.toPython())}
        return {"valueString": str(value)}

    def put(self, resource: dict[str, Any], element: Element, value: Any) -> None:
        written = self.value(element, value)
        if element.element == "extension":
            resource.setdefault("extension", []).append({"url": element.extension_url, **written})
        elif element.element in _LIST_ELEMENTS:
            resource.setdefault(element.element, []).append(written)
        else:
            resource[element.element] = written

    def element_for(self, record: str, resource_type: str, prop: Any, node: Any) -> Element:
        for element in elements_of(record, resource_type):
            if element.property == prop:
                return element
        raise InputError(
            f"No FHIR element of a {resource_type} holds {prefixed_name(prop)} (of {prefixed_name(node)})."
        )

    def fill(self, resource: dict[str, Any], record: str, node: Any, skip: set[Any], kind: str = "") -> None:
        for prop, value in sorted(self.graph.predicate_objects(node)):
            if prop in skip or prop == RDF.type:
                continue
            if prop == CSF.accidentalDuralPuncture and not value.toPython():  # type: ignore[union-attr]
                continue  # false: nothing to record as a complication
            self.put(resource, self.element_for(record, kind or resource["resourceType"], prop, node), value)

    def status(self, resource: dict[str, Any], prop: URIRef, value: Any) -> None:
        for rule in STATUSES:
            if rule.resource == resource["resourceType"] and rule.property == prop and rule.value == value:
                if rule.element in _STATUS_SYSTEMS:
                    system = _STATUS_SYSTEMS[rule.element]
                    resource[rule.element] = {"coding": [{"system": system, "code": rule.code}]}
                elif rule.element == "valueBoolean":
                    resource[rule.element] = rule.code == "true"
                else:
                    resource[rule.element] = rule.code
                return
        raise InputError(f"No FHIR status of a {resource['resourceType']} says {prefixed_name(value)}.")

    def patient(self, patient: URIRef, *, timestamp: list[str]) -> None:
        pid = self.ident(patient, "patient")
        resource: dict[str, Any] = {"resourceType": "Patient", "id": pid}
        subject = {"reference": f"Patient/{pid}"}
        start = len(self.entries)
        for prop, value in sorted(self.graph.predicate_objects(patient)):
            if prop == RDF.type:
                continue
            if prop == CSF.assessmentDate:
                timestamp.append(f"{value}T00:00:00Z")
            elif prop == CSF.hasFinding:
                self.finding(value, subject)
            elif prop == CSF.hasProcedure:
                self.procedure(value, subject)
            elif prop == CSF.hasImagingStudy:
                self.study(value, subject)
            else:
                self.put(resource, self.element_for("patient", "Patient", prop, patient), value)
        self.entries.insert(start, {"fullUrl": f"urn:uuid:{_uuid('Patient/' + pid)}", "resource": resource})

    def finding(self, node: Any, subject: dict[str, str]) -> None:
        resource: dict[str, Any] = {"resourceType": "Condition", "id": self.ident(node, "finding")}
        resource[_code_element("finding", "Condition")] = self.concept(
            self.record_class(node, CSF.ClinicalFinding)
        )
        resource["subject"] = subject
        for status in self.graph.objects(node, CSF.findingStatus):
            self.status(resource, CSF.findingStatus, status)
        if resource.get("verificationStatus", {}).get("coding", [{}])[0].get("code") == "confirmed":
            resource["clinicalStatus"] = {"coding": [{"system": FHIR_CONDITION_CLINICAL, "code": "active"}]}
        self.fill(resource, "finding", node, {CSF.findingStatus})
        self.add(resource)

    def procedure(self, node: Any, subject: dict[str, str]) -> None:
        statuses = list(self.graph.objects(node, CSF.procedureStatus))
        kind = "ServiceRequest" if CSF.planned in statuses else "Procedure"
        resource: dict[str, Any] = {"resourceType": kind, "id": self.ident(node, "procedure")}
        for status in statuses:
            self.status(resource, CSF.procedureStatus, status)
        if kind == "ServiceRequest":
            resource["intent"] = "order"
        resource[_code_element("procedure", kind)] = self.concept(self.record_class(node, CSF.Procedure))
        resource["subject"] = subject
        self.fill(resource, "procedure", node, {CSF.procedureStatus})
        self.add(resource)

    def study(self, node: Any, subject: dict[str, str]) -> None:
        ident = self.ident(node, "study")
        report: dict[str, Any] = {"resourceType": "DiagnosticReport", "id": ident, "status": "final"}
        report[_code_element("study", "DiagnosticReport")] = self.concept(
            self.record_class(node, CSF.ImagingStudy)
        )
        report["subject"] = subject
        series = []
        for prop, value in sorted(self.graph.predicate_objects(node)):
            if prop == RDF.type:
                continue
            if prop == CSF.performedSequence:
                series.append(self.sequence(value, ident, len(series)))
            elif prop in (CSF.showsFinding, CSF.assessedAbsentFinding):
                finding = self.record_class(value, CSF.ImagingFinding)
                if prop == CSF.showsFinding:
                    report.setdefault("conclusionCode", []).append(self.concept(finding))
                else:
                    report.setdefault("result", []).append(
                        self.observation(ident, finding, subject, {"valueBoolean": False})
                    )
                self.check_bare(value)
            elif CSF.brainMeasurementMm in self.table.scopes.get(prop, ()):  # type: ignore[arg-type]
                element = self.element_for("study", "DiagnosticReport", CSF.brainMeasurementMm, node)
                report.setdefault("result", []).append(
                    self.observation(ident, prop, subject, self.value(element, value))  # type: ignore[arg-type]
                )
            else:
                self.put(report, self.element_for("study", "DiagnosticReport", prop, node), value)
        if series:
            imaging = {
                "resourceType": "ImagingStudy",
                "id": f"{ident}-series"[:64],
                "status": "available",
                "subject": subject,
                "series": series,
            }
            report["imagingStudy"] = [{"reference": self.add(imaging)}]
        self.add(report)

    def check_bare(self, node: Any) -> None:
        for prop, _ in self.graph.predicate_objects(node):
            if prop != RDF.type:
                raise InputError(f"No FHIR element holds {prefixed_name(prop)} of an imaging finding.")

    def observation(
        self, study: str, code: URIRef, subject: dict[str, str], value: dict[str, Any]
    ) -> dict[str, str]:
        ident = self.ident(None, f"{study}-result-{len(self.entries)}")
        resource = {"resourceType": "Observation", "id": ident, "status": "final", "code": self.concept(code)}
        return {"reference": self.add({**resource, "subject": subject, **value})}

    def sequence(self, node: Any, study: str, index: int) -> dict[str, Any]:
        series: dict[str, Any] = {
            "uid": f"2.25.{int(hashlib.sha1(f'{study}/{index}'.encode()).hexdigest()[:24], 16)}",
            "modality": {"system": FHIR_DICOM_MODALITY, "code": "MR"},
        }
        self.fill(series, "sequence", node, set(), "ImagingStudy.series")
        return series


def _uuid(text: str) -> str:
    digest = hashlib.sha1(text.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"


def bundle_from_graph(graph: Graph, patient: URIRef) -> dict[str, Any]:
    """The FHIR R4 Bundle (type ``collection``, timestamp = the assessment date) of ``patient``.

    Raises:
        InputError: the record holds a statement no element of the mapping table holds, or a
            term with no FHIR coding.
    """
    writer = _Writer(graph, code_table())
    timestamp: list[str] = []
    writer.patient(patient, timestamp=timestamp)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection"}
    if timestamp:
        bundle["timestamp"] = timestamp[0]
    bundle["entry"] = writer.entries
    validate_bundle(bundle, f"The Bundle written for {prefixed_name(patient)}")
    return bundle
