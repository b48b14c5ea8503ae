"""A FHIR R4 Bundle read into a patient graph of the csf: vocabulary.

The Bundle is validated with ``fhir.resources``' R4B models first; a Bundle that is not valid
FHIR is refused in one sentence naming the entry, its resource and the element. Then each
resource is read through the element table of :mod:`csfkg.fhir.mapping` and the codings of
:mod:`csfkg.fhir.codes`. What is not understood (a resource type we do not read, a code no
mapping names, a status that is not done or planned, a subject outside the Bundle) is ignored
and counted, never fatal. References are resolved inside the Bundle only (``urn:uuid:``
fullUrls, relative ``Type/id``, contained ``#id``); nothing is fetched.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rdflib import RDF, XSD, Graph, Literal, URIRef

from csfkg.fhir.codes import UNKNOWN, CodeTable, code_table
from csfkg.fhir.mapping import PLANNED_INTENTS, RECORD_CODES, STATUSES, Element, elements_of
from csfkg.model.errors import InputError
from csfkg.model.knowledge import ontology_graph
from csfkg.model.vocab import CSF, PATIENT, PREFIXES
from csfkg.sparql.library import get_query
from csfkg.stores import OxigraphStore

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass
class FhirImport:
    """The patient graph read from a Bundle, its patients, and what was ignored, by kind."""

    graph: Graph
    patients: list[URIRef] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)

    def ignored_sentence(self) -> str:
        """``ignored 412 resources: 300 Observation (unknown code), ...``, or ``""``."""
        total = sum(self.ignored.values())
        if not total:
            return ""
        parts = ", ".join(
            f"{n} {kind}" for kind, n in sorted(self.ignored.items(), key=lambda i: (-i[1], i[0]))
        )
        return f"ignored {total} resource{'s' if total != 1 else ''}: {parts}."


def _shown(value: Any) -> str:
    """A value from the Bundle as the one-line sentence shows it: as is when it is a short,
    printable word; quoted with its escapes otherwise (an id of "\\n" must not break the line)."""
    text = str(value)
    if text and text.isprintable() and not any(c.isspace() for c in text) and len(text) <= 64:
        return text
    return repr(text[:64])


def _where(bundle: Mapping[str, Any], location: tuple[Any, ...]) -> str:
    """``entry 3 (Condition c1), element onsetDateTime`` for a pydantic error location."""
    parts = list(location)
    if len(parts) >= 3 and parts[0] == "entry" and isinstance(parts[1], int) and parts[2] == "resource":
        entry = (bundle.get("entry") or [])[parts[1]]
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        kind = resource.get("resourceType", "resource") if isinstance(resource, Mapping) else "resource"
        ident = resource.get("id") if isinstance(resource, Mapping) else None
        name = f"{_shown(kind)} {_shown(ident)}" if ident else _shown(kind)
        element = ".".join(str(p) for p in parts[3:]) or "resourceType"
        return f"entry {parts[1]} ({name}), element {element}"
    return "element " + (".".join(str(p) for p in parts) or "resourceType")


def validate_bundle(bundle: Any, source: str) -> None:
    """Refuse what is not a valid FHIR R4 Bundle (``fhir.resources.R4B``).

    Raises:
        InputError: one sentence naming the entry, its resource and the element.
    """
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    if not isinstance(bundle, Mapping) or not isinstance(bundle.get("resourceType"), str):
        raise InputError(f"{source} is not a FHIR resource: a JSON object with a resourceType is expected.")
    if bundle["resourceType"] != "Bundle":
        raise InputError(f"{source} is a FHIR {_shown(bundle['resourceType'])}, not a Bundle.")
    for index, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        kind = resource.get("resourceType") if isinstance(resource, Mapping) else None
        if resource is not None:
            try:
                get_fhir_model_class(str(kind))
            except (KeyError, ValueError):
                raise InputError(
                    f"{source} is not valid FHIR R4: entry {index} has the resourceType {str(kind)[:40]!r}, "
                    "which is no FHIR R4 resource."
                ) from None
    try:
        Bundle.model_validate(bundle)
    except ValidationError as error:
        first = error.errors()[0]
        message = " ".join(str(first.get("msg", "")).split()).removeprefix("Value error, ").rstrip(".")
        raise InputError(
            f"{source} is not valid FHIR R4: {_where(bundle, first.get('loc', ()))}: {message}."
        ) from None
    except RecursionError:
        raise InputError(f"{source} is not valid FHIR R4: it nests too deeply.") from None
    except Exception as error:  # fhir.resources raises its own types for malformed input
        text = " ".join(str(error).split())[:200]
        raise InputError(f"{source} is not valid FHIR R4: {text}.") from None


def _codings(concepts: Any) -> Iterator[tuple[str | None, str | None]]:
    """(system, code) of each coding of a CodeableConcept, a list of them, or a Coding."""
    for concept in concepts if isinstance(concepts, list) else [concepts]:
        if not isinstance(concept, Mapping):
            continue
        if "code" in concept and "coding" not in concept:
            yield concept.get("system"), concept.get("code")
        for coding in concept.get("coding") or []:
            yield coding.get("system"), coding.get("code")


def _date(value: Any) -> Literal | None:
    if isinstance(value, str) and _DATE.match(value):
        return Literal(value[:10], datatype=XSD.date)
    return None


def _decimal(value: Any) -> Literal | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Literal(repr(float(value)), datatype=XSD.decimal)
    return None


def _millimetres(quantity: Any) -> Literal | None:
    if isinstance(quantity, Mapping) and (quantity.get("code") or quantity.get("unit")) == "mm":
        return _decimal(quantity.get("value"))
    return None


class _Reader:
    """One Bundle being read."""

    def __init__(self, bundle: Mapping[str, Any], table: CodeTable) -> None:
        self.bundle = bundle
        self.table = table
        self.graph = Graph()
        for prefix, namespace in PREFIXES.items():
            self.graph.bind(prefix, namespace)
        self.ignored: Counter[str] = Counter()
        self.entries: list[dict[str, Any]] = [
            e["resource"] for e in bundle.get("entry") or [] if isinstance(e.get("resource"), Mapping)
        ]
        self.by_reference: dict[str, dict[str, Any]] = {}
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource")
            if not isinstance(resource, Mapping):
                continue
            full_url, kind, ident = entry.get("fullUrl"), resource["resourceType"], resource.get("id")
            if full_url:
                self.by_reference[full_url] = resource
            if ident:
                self.by_reference[f"{kind}/{ident}"] = resource
        self.patients: dict[int, URIRef] = {}
        self.consumed: set[int] = set()
        self.names: Counter[str] = Counter()

    # --- references and nodes ----------------------------------------------------------
    def resolve(self, reference: Any, container: Mapping[str, Any]) -> dict[str, Any] | None:
        """The resource a Reference names inside the Bundle (or ``container``'s contained)."""
        text = reference.get("reference") if isinstance(reference, Mapping) else None
        if not isinstance(text, str):
            return None
        if text.startswith("#"):
            for contained in container.get("contained") or []:
                if contained.get("id") == text[1:]:
                    return contained
            return None
        return self.by_reference.get(text.split("/_history/")[0])

    def node(self, owner: URIRef, resource: Mapping[str, Any]) -> URIRef:
        ident = resource.get("id") or hashlib.sha1(repr(sorted(resource.items())).encode()).hexdigest()[:12]
        name = f"{owner}-{resource['resourceType'].lower()}-{ident}"
        self.names[name] += 1
        return URIRef(name if self.names[name] == 1 else f"{name}-{self.names[name]}")

    def patient_of(self, resource: Mapping[str, Any]) -> URIRef | None:
        subject = self.resolve(resource.get("subject") or resource.get("patient"), resource)
        return None if subject is None else self.patients.get(id(subject))

    def ignore(self, resource: Mapping[str, Any], why: str | None = None) -> None:
        self.ignored[resource["resourceType"] + (f" ({why})" if why else "")] += 1

    # --- values ------------------------------------------------------------------------
    def values(self, element: Element, holder: Mapping[str, Any]) -> list[Any]:
        """The values of ``element`` in ``holder``: terms for codes, classes for nodes, literals."""
        if element.element == "extension":
            raw = [
                ext
                for ext in holder.get("extension") or []
                if isinstance(ext, Mapping) and ext.get("url") == element.extension_url
            ]
            found = []
            for ext in raw:
                if element.kind in ("code", "node"):
                    concept = ext.get("valueCoding") or ext.get("valueCodeableConcept")
                    found.append(self.table.first(_codings(concept), element.scope)[0])  # type: ignore[arg-type]
                elif element.kind == "date":
                    found.append(_date(ext.get("valueDate") or ext.get("valueDateTime")))
                elif element.kind == "decimal":
                    found.append(_decimal(ext.get("valueDecimal")))
                elif element.kind == "mm":
                    found.append(_millimetres(ext.get("valueQuantity")))
                elif element.kind == "boolean":
                    value = ext.get("valueBoolean")
                    found.append(Literal(value) if isinstance(value, bool) else None)
                elif element.kind == "string":
                    value = ext.get("valueString")
                    found.append(Literal(value) if isinstance(value, str) else None)
            return [v for v in found if v is not None]
        raw = holder.get(element.element)
        if element.kind == "date":
            base = element.element.removesuffix("DateTime")
            period = holder.get(f"{base}Period")
            value = _date(raw) or _date(period.get("start") if isinstance(period, Mapping) else None)
            return [value] if value is not None else []
        if element.kind in ("code", "node"):
            concepts = raw if isinstance(raw, list) else [raw]
            found = [self.table.first(_codings(c), element.scope)[0] for c in concepts]  # type: ignore[arg-type]
            return [t for t in found if t is not None]
        if element.kind == "flag":
            hit = self.table.first(_codings(raw), element.property)[0]
            return [Literal(True)] if hit is not None else []
        return []

    def read_elements(self, node: URIRef, record: str, resource_type: str, holder: Mapping[str, Any]) -> None:
        for element in elements_of(record, resource_type):
            if element.element == "result" or (
                element.kind == "node" and element.element != "conclusionCode"
            ):
                continue  # read by the study reader from the referenced Observations
            for index, value in enumerate(self.values(element, holder)):
                if element.kind == "node":
                    shown = URIRef(f"{node}-finding-{element.element}-{index}")
                    self.graph.add((shown, RDF.type, value))
                    self.graph.add((node, element.property, shown))
                else:
                    self.graph.add((node, element.property, value))
                if not element.repeats and element.kind != "node":
                    break

    def status(self, resource: Mapping[str, Any]) -> tuple[bool, tuple[URIRef, URIRef] | None]:
        """(ignored, (property, value) or None) from the resource's status elements."""
        kind = resource["resourceType"]
        for rule in STATUSES:
            if rule.resource != kind:
                continue
            raw = resource.get(rule.element)
            codes = (
                {str(raw).lower()}
                if isinstance(raw, (str, bool))
                else {code for _, code in _codings(raw) if code}
            )
            if rule.code in codes:
                if rule.value is None:
                    return rule.property is None, None  # ignored, or a finding of unrecorded status
                return False, (rule.property, rule.value) if rule.property is not None else None
        return False, None

    # --- records -----------------------------------------------------------------------
    def record_class(
        self, record: str, resource: Mapping[str, Any], element: str | None = None
    ) -> URIRef | None:
        kind = resource["resourceType"]
        code = next(c for c in RECORD_CODES if c.record == record and c.resource == kind)
        term, why = self.table.first(_codings(resource.get(element or code.element)), code.scope)
        if term is None:
            self.ignore(resource, why)
        return term

    def read(self, today: date | None) -> FhirImport:
        for resource in self.entries:
            if resource["resourceType"] == "Patient":
                ident = resource.get("id") or hashlib.sha1(repr(resource).encode()).hexdigest()[:12]
                patient = PATIENT[ident]
                self.patients[id(resource)] = patient
                self.graph.add((patient, RDF.type, CSF.Patient))
                self.read_elements(patient, "patient", "Patient", resource)
        when = today.isoformat() if today else None
        stamp = _date(self.bundle.get("timestamp"))
        for patient in self.patients.values():
            if when or stamp is not None:
                self.graph.add(
                    (patient, CSF.assessmentDate, Literal(when, datatype=XSD.date) if when else stamp)
                )
        for resource in self.entries:
            if resource["resourceType"] == "DiagnosticReport":
                self.read_report(resource)
        for resource in self.entries:
            kind = resource["resourceType"]
            if kind == "Patient" or id(resource) in self.consumed or kind == "DiagnosticReport":
                continue
            reader = {
                "Condition": self.read_finding,
                "Observation": self.read_finding,
                "Procedure": self.read_procedure,
                "ServiceRequest": self.read_procedure,
                "ImagingStudy": self.read_imaging_study,
            }.get(kind)
            if reader is None:
                self.ignore(resource)
            else:
                reader(resource)
        add_symptom_onset(self.graph)
        return FhirImport(
            graph=self.graph, patients=sorted(set(self.patients.values())), ignored=self.ignored
        )

    def read_finding(self, resource: Mapping[str, Any]) -> None:
        patient = self.patient_of(resource)
        if patient is None:
            return self.ignore(resource, "subject not in the Bundle")
        ignored, status = self.status(resource)
        if ignored:
            return self.ignore(resource, "entered in error or cancelled")
        kind = resource["resourceType"]
        cls = self.record_class("finding", resource)
        if cls is None:
            return None
        if kind == "Observation" and status is None:
            term, _ = self.table.first(_codings(resource.get("valueCodeableConcept")), CSF.FindingStatus)
            status = (CSF.findingStatus, term) if term is not None else None
        if status is None:
            # neither present nor absent (unconfirmed, provisional, resolved, no value): a finding
            # of unknown status says nothing, so it is not read; the record then lacks it, and
            # the derivation says what is missing (never a go-ahead), instead of a shape
            # violation in csf: terms the sender cannot correct
            return self.ignore(resource, "not recorded present or absent")
        node = self.node(patient, resource)
        self.graph.add((patient, CSF.hasFinding, node))
        self.graph.add((node, RDF.type, cls))
        self.graph.add((node, *status))
        self.read_elements(node, "finding", kind, resource)
        return None

    def read_procedure(self, resource: Mapping[str, Any]) -> None:
        patient = self.patient_of(resource)
        if patient is None:
            return self.ignore(resource, "subject not in the Bundle")
        kind = resource["resourceType"]
        _, status = self.status(resource)
        if status is None:
            return self.ignore(resource, f"status {str(resource.get('status'))[:20]}")
        if kind == "ServiceRequest" and resource.get("intent") not in PLANNED_INTENTS:
            return self.ignore(resource, f"intent {str(resource.get('intent'))[:20]}")
        cls = self.record_class("procedure", resource)
        if cls is None:
            return None
        node = self.node(patient, resource)
        self.graph.add((patient, CSF.hasProcedure, node))
        self.graph.add((node, RDF.type, cls))
        self.graph.add((node, *status))
        self.read_elements(node, "procedure", kind, resource)
        return None

    def _study_status_ok(self, resource: Mapping[str, Any]) -> bool:
        return any(
            rule.resource == resource["resourceType"] and rule.code == resource.get("status")
            for rule in STATUSES
        )

    def read_study(self, resource: Mapping[str, Any]) -> URIRef | None:
        """The study of a DiagnosticReport or ImagingStudy, with its elements; None when it is
        ignored (and counted)."""
        patient = self.patient_of(resource)
        if patient is None:
            self.ignore(resource, "subject not in the Bundle")
            return None
        if not self._study_status_ok(resource):
            self.ignore(resource, f"status {str(resource.get('status'))[:20]}")
            return None
        cls = self.record_class("study", resource)
        if cls is None:
            return None
        study = self.node(patient, resource)
        self.graph.add((patient, CSF.hasImagingStudy, study))
        self.graph.add((study, RDF.type, cls))
        self.read_elements(study, "study", resource["resourceType"], resource)
        return study

    def read_report(self, resource: Mapping[str, Any]) -> None:
        study = self.read_study(resource)
        if study is None:
            return None
        for index, reference in enumerate(resource.get("result") or []):
            observation = self.resolve(reference, resource)
            if observation is None or observation.get("resourceType") != "Observation":
                continue
            self.consumed.add(id(observation))
            self.read_study_observation(study, index, observation)
        for reference in resource.get("imagingStudy") or []:
            imaging = self.resolve(reference, resource)
            if imaging is None or imaging.get("resourceType") != "ImagingStudy":
                continue
            self.consumed.add(id(imaging))
            self.read_series(study, imaging)
        return None

    def read_study_observation(self, study: URIRef, index: int, observation: Mapping[str, Any]) -> None:
        if self.status(observation)[0]:
            return self.ignore(observation, "entered in error or cancelled")
        read = False
        for part, values in enumerate([observation, *(observation.get("component") or [])]):
            codings = list(_codings(values.get("code")))
            measure, _ = self.table.first(codings, CSF.brainMeasurementMm)
            value = _millimetres(values.get("valueQuantity"))
            if measure is not None and value is not None:
                self.graph.add((study, measure, value))
                read = True
                continue
            finding, _ = self.table.first(codings, CSF.ImagingFinding)
            present = values.get("valueBoolean")
            if finding is not None and isinstance(present, bool):
                node = URIRef(f"{study}-finding-result-{index}-{part}")
                self.graph.add((node, RDF.type, finding))
                self.graph.add((study, CSF.showsFinding if present else CSF.assessedAbsentFinding, node))
                read = True
        if not read:
            self.ignore(observation, UNKNOWN)
        return None

    def read_series(self, study: URIRef, imaging: Mapping[str, Any]) -> None:
        for index, series in enumerate(imaging.get("series") or []):
            sequence = URIRef(f"{study}-series-{index}")
            before = len(self.graph)
            self.read_elements(sequence, "sequence", "ImagingStudy.series", series)
            if len(self.graph) > before:
                self.graph.add((sequence, RDF.type, CSF.MRISequence))
                self.graph.add((study, CSF.performedSequence, sequence))

    def read_imaging_study(self, resource: Mapping[str, Any]) -> None:
        study = self.read_study(resource)
        if study is not None:
            self.read_series(study, resource)


def add_symptom_onset(graph: Graph) -> None:
    """The patient's csf:symptomOnsetDate, when no record gave it, from the findings' onsets
    (``queries/fhir-symptom-onset.rq``, over the patient graph and the TBox)."""
    store = OxigraphStore()
    store.add_graph(ontology_graph())
    store.add_graph(graph)
    found = store.query(get_query("fhir-symptom-onset").text)
    store.close()
    for triple in found:  # type: ignore[union-attr]
        graph.add(triple)


def graph_from_bundle(
    bundle: Mapping[str, Any], *, today: date | None = None, source: str = "The Bundle"
) -> FhirImport:
    """The patient graph of a FHIR R4 Bundle (see the module docstring).

    ``today`` is the assessment date of every patient; without it, the date of
    ``Bundle.timestamp``; without that, none (the pipeline then assesses on the current date).

    Raises:
        InputError: the Bundle is not valid FHIR R4 (one sentence naming the entry, its resource
            and the element).
    """
    validate_bundle(bundle, source)
    return _Reader(bundle, code_table()).read(today)
