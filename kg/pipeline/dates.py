"""The assessment date, the first stage of every run: ``queries/update-assessment-date.rq`` in the
store (``--today`` replaces each patient's date; without it, a missing date becomes today).

A store that outlives the run (a persistent store, an endpoint) keeps its data as loaded:
:func:`keep_recorded_dates` notes what the run changes and :func:`restore_recorded_dates` puts it
back, so ``--today`` never overwrites stored data."""

from __future__ import annotations

from datetime import date

from rdflib import Literal
from rdflib.namespace import XSD

from csfkg.sparql.library import get_query
from csfkg.stores import Store


def _date_bindings(today: date | None) -> dict[str, Literal]:
    """The parameters of the date updates: the run's date, and whether it replaces recorded ones."""
    return {
        "today": Literal(today or date.today(), datatype=XSD.date),
        "replace": Literal(today is not None),
    }


def set_assessment_dates(store: Store, today: date | None) -> None:
    """``today`` (``--today``) replaces every patient's assessment date; without it, missing
    ones get the date of the day."""
    store.update(get_query("update-assessment-date").text, _date_bindings(today))


def keep_recorded_dates(store: Store, today: date | None) -> None:
    """Note, in the store, the dates :func:`set_assessment_dates` is about to change
    (``update-keep-recorded-assessment-date.rq``), after undoing what a stopped run left."""
    restore_recorded_dates(store)
    store.update(get_query("update-keep-recorded-assessment-date").text, _date_bindings(today))


def restore_recorded_dates(store: Store) -> None:
    """Put back the assessment dates a run set (``update-restore-assessment-date.rq``)."""
    store.update(get_query("update-restore-assessment-date").text)


def assessment_dates(store: Store) -> dict[object, str]:
    """Each patient's assessment date as the store holds it (its lexical form), by patient."""
    from csfkg.stores import SelectResult

    result = store.query(get_query("assessment-dates").text)
    assert isinstance(result, SelectResult)
    return {patient: str(text) for patient, text in result.rows}
