"""derive-criterion-onset-recent counts days with the civil-to-Julian-day formula in standard
SPARQL; check it against Python's calendar on many dates, month ends and leap years included."""

from __future__ import annotations

import random
from datetime import date, timedelta

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from csfkg.model.vocab import CSF, CSFG
from csfkg.pipeline.derive import derive


def _recent(pairs: list[tuple[date, date]]) -> set[int]:
    graph = Graph()
    for index, (onset, today) in enumerate(pairs):
        patient = URIRef(f"https://example.org/csfkg/patient/d{index}")
        graph.add((patient, RDF.type, CSF.Patient))
        graph.add((patient, CSF.symptomOnsetDate, Literal(onset, datatype=XSD.date)))
        graph.add((patient, CSF.assessmentDate, Literal(today, datatype=XSD.date)))
    derived = derive(graph).derived
    met = derived.subjects(URIRef(str(CSF._NS) + "meetsCriterion"), CSFG["crit-onset-recent"])
    return {int(str(p).rsplit("/d", 1)[-1]) for p in met}


def test_threshold_is_fourteen_days_inclusive() -> None:
    """Issue 21, row 7: "onset <= 14 days ago"."""
    today = date(2026, 3, 1)
    pairs = [(today - timedelta(days=d), today) for d in (0, 1, 13, 14, 15, 400)]
    assert _recent(pairs) == {0, 1, 2, 3}


def test_day_counting_agrees_with_python_calendar() -> None:
    rng = random.Random(7)
    pairs: list[tuple[date, date]] = []
    for _ in range(300):
        today = date(1999, 12, 20) + timedelta(days=rng.randrange(0, 12000))
        pairs.append((today - timedelta(days=rng.randrange(0, 30)), today))
    pairs += [
        (date(2024, 2, 16), date(2024, 3, 1)),
        (date(2024, 2, 15), date(2024, 3, 1)),
        (date(2025, 12, 19), date(2026, 1, 2)),
        (date(2025, 12, 18), date(2026, 1, 1)),
    ]
    expected = {i for i, (onset, today) in enumerate(pairs) if (today - onset).days <= 14}
    assert _recent(pairs) == expected
