"""Third-party-style Bundles import without error: hundreds of resources we do not read
(MedicationRequest, Encounter, vital-sign Observations with LOINC codes no mapping names),
contained resources, references by urn:uuid, relative and contained, and an unrelated patient,
whose answer is insufficient data. Whatever a Bundle holds, the import ends in a graph or in one
sentence (InputError), never in another exception."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csfkg.fhir.bundles import graph_from_bundle
from csfkg.model.errors import InputError
from csfkg.model.vocab import PATIENT
from csfkg.pipeline.assess import assess

from conftest import REPO

LOINC = "http://loinc.org"
VITALS = [
    ("8867-4", "Heart rate", "/min"),
    ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    ("8310-5", "Body temperature", "Cel"),
    ("29463-7", "Body weight", "kg"),
]
SEED = json.loads((REPO / "examples" / "seed-patient.fhir.json").read_text(encoding="utf-8"))


def _uuid(draw_int: int) -> str:
    return f"urn:uuid:{uuid.UUID(int=draw_int)}"


@st.composite
def third_party_bundles(draw: st.DrawFn) -> dict[str, Any]:
    """A Bundle of the seed patient plus an unrelated patient and many unrelated resources."""
    bundle = copy.deepcopy(SEED)
    other = _uuid(2**100 + draw(st.integers(min_value=1, max_value=2**64)))  # no entry's fullUrl
    bundle["entry"].append(
        {
            "fullUrl": other,
            "resource": {
                "resourceType": "Patient",
                "id": "unrelated",
                "gender": "female",
                "birthDate": "1970-01-01",
            },
        }
    )
    subjects = [
        {"reference": other},
        {"reference": "Patient/seed"},
        {"reference": bundle["entry"][0]["fullUrl"]},
    ]
    count = draw(st.integers(min_value=100, max_value=400))
    for index in range(count):
        subject = subjects[draw(st.integers(0, 2))]
        kind = draw(st.sampled_from(["vital", "medication", "encounter", "condition", "contained"]))
        if kind == "vital":
            code, display, unit = draw(st.sampled_from(VITALS))
            value = draw(st.floats(min_value=0, max_value=300, allow_nan=False, allow_infinity=False))
            resource = {
                "resourceType": "Observation",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "vital-signs",
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "subject": subject,
                "effectiveDateTime": "2026-01-15T10:00:00Z",
                "valueQuantity": {
                    "value": round(value, 2),
                    "unit": unit,
                    "system": "http://unitsofmeasure.org",
                    "code": unit,
                },
            }
        elif kind == "medication":
            resource = {
                "resourceType": "MedicationRequest",
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": {
                    "coding": [
                        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": str(197361 + index)}
                    ]
                },
                "subject": subject,
            }
        elif kind == "encounter":
            resource = {
                "resourceType": "Encounter",
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": subject,
            }
        elif kind == "condition":
            resource = {
                "resourceType": "Condition",
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": str(38341003 + index)}]},
                "subject": subject,
            }
        else:
            resource = {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "55284-4"}]},
                "subject": subject,
                "contained": [{"resourceType": "Device", "id": "cuff", "status": "active"}],
                "device": {"reference": "#cuff"},
            }
        resource["id"] = f"r{index}"
        bundle["entry"].append({"fullUrl": _uuid(index + 1000), "resource": resource})
    order = draw(st.permutations(range(len(bundle["entry"]))))
    bundle["entry"] = [bundle["entry"][i] for i in order]
    return bundle


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(third_party_bundles())
def test_a_large_third_party_bundle_imports_and_the_unrelated_patient_has_insufficient_data(
    bundle: dict,
) -> None:
    found = graph_from_bundle(json.loads(json.dumps(bundle)))
    assert found.patients == [PATIENT.seed, PATIENT.unrelated]
    unrelated = len(bundle["entry"]) - len(SEED["entry"]) - 1
    assert sum(found.ignored.values()) == unrelated
    assert set(found.ignored) <= {
        "Observation (unknown code)",
        "MedicationRequest",
        "Encounter",
        "Condition (unknown code)",
    }
    results = {r.patient: r for r in assess(found.graph, found.patients).results}
    assert results[str(PATIENT.seed)].next_step.code == "obtain-mri-brain-and-spine"
    assert results[str(PATIENT.unrelated)].next_step.code == "insufficient-data"


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_damage_to_a_bundle_is_a_graph_or_one_sentence(data: st.DataObject) -> None:
    bundle = copy.deepcopy(SEED)
    entry = data.draw(st.sampled_from(bundle["entry"]))
    resource = entry["resource"]
    key = data.draw(st.sampled_from([*resource.keys(), "extension", "bogus", "id"]))
    resource[key] = data.draw(_JUNK)
    try:
        found = graph_from_bundle(bundle)
    except InputError as error:
        message = str(error)
        assert message.startswith("The Bundle is") and message.endswith(".") and "\n" not in message
    else:
        assert len(found.graph) > 0
