"""The CDS services this server offers (the discovery response of CDS Hooks 2.0, "Discovery"):
one service for the ``order-select`` hook and one for ``order-sign``, each asking the CDS client
to prefetch the patient and the resources the FHIR import reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "serviceRequests": "ServiceRequest?patient={{context.patientId}}",
    "imagingStudies": "ImagingStudy?patient={{context.patientId}}",
    "diagnosticReports": "DiagnosticReport?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
}
"""The prefetch templates (key -> FHIR query), the same for both services. The service does not
fetch from the client's FHIR server: a request without one of these keys is answered 412."""


@dataclass(frozen=True)
class Service:
    """One CDS service: its id (the ``{id}`` of ``/cds-services/{id}``) and the hook it answers."""

    id: str
    hook: str
    title: str
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
            "prefetch": dict(PREFETCH),
        }


_DESCRIPTION = (
    "When a spinal procedure (such as a second round of lumbar medial branch blocks) is {when}, "
    "says whether to image for a CSF leak first or proceed, with the reasons, what is missing and "
    "the evidence; decision support for the treating clinician, not a diagnosis."
)

SERVICES: dict[str, Service] = {
    service.id: service
    for service in (
        Service(
            "csfkg-order-select",
            "order-select",
            "CSF leak check when a spinal procedure is selected",
            _DESCRIPTION.format(when="selected"),
        ),
        Service(
            "csfkg-order-sign",
            "order-sign",
            "CSF leak check before a spinal procedure order is signed",
            _DESCRIPTION.format(when="about to be signed"),
        ),
    )
}
"""Every service by its id."""


def discovery() -> dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {"services": [service.as_dict() for service in SERVICES.values()]}
