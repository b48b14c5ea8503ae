"""SHACL validation of the patients a store holds, by patient: the compiled checks where the store
runs them (embedded Oxigraph and SPARQL servers, set-at-a-time over the whole store), else
pySHACL on batches of patient records pulled from the store (``queries/cohort-patient-records.rq``)."""

from __future__ import annotations

from collections.abc import Callable

from rdflib import Graph, URIRef

from csfkg.sparql.records import patient_records
from csfkg.stores import Store
from csfkg.validation.report import FocusNode, ValidationResult, validate_focus

Progress = Callable[[str, int, int], None]


def validate_store(
    store: Store, patients: list[URIRef], *, batch: int = 25, progress: Progress | None = None
) -> dict[str, list[ValidationResult]]:
    """SHACL-validate every patient record; returns the violations and warnings by patient IRI.

    Where the store runs the compiled checks (:attr:`csfkg.stores.Store.compiled_validation`) the
    shapes run as set-at-a-time SPARQL over the whole store (:mod:`csfkg.validation.compiled`,
    checked against pySHACL by tests/validation/test_compiled_validation.py): in Oxigraph's own
    terms embedded, through the protocol on a SPARQL server; elsewhere pySHACL validates the
    records in batches pulled from the store."""
    if store.compiled_validation is not None:
        from csfkg.validation.compiled import results_by_patient, results_by_patient_in

        if store.compiled_validation == "oxigraph":
            found = results_by_patient(store, patients)  # type: ignore[arg-type]
        else:
            found = results_by_patient_in(store, patients)
        if progress:
            progress("validate", len(patients), len(patients))
        return found
    return validate_store_pyshacl(store, patients, batch=batch, progress=progress)


def validate_store_pyshacl(
    store: Store, patients: list[URIRef], *, batch: int = 25, progress: Progress | None = None
) -> dict[str, list[ValidationResult]]:
    """SHACL-validate every patient record with pySHACL, in batches pulled from the store; each
    result attributed to every patient whose record holds its focus node (:func:`_owners`)."""
    from csfkg.validation.compiled import group_by_patient

    found: dict[str, list[ValidationResult]] = {}
    for start in range(0, len(patients), batch):
        chunk = patients[start : start + batch]
        records = patient_records(store, chunk)
        results = validate_focus(records)
        owners = _owners(records, {node for _, node in results})
        for patient, listed in group_by_patient(
            [(result, owners.get(node, set())) for result, node in results], None
        ).items():
            found.setdefault(patient, []).extend(listed)
        if progress:
            progress("validate", min(start + batch, len(patients)), len(patients))
    return found


def _owners(records: Graph, nodes: set[FocusNode]) -> dict[FocusNode, set[str]]:
    """The patients whose records hold each focus node: the record query walked back from the
    node (:func:`csfkg.validation.compiled.owners_of`, the one record definition), in an
    in-memory Oxigraph store holding the batch's records."""
    from csfkg.stores import OxigraphStore
    from csfkg.validation.compiled import owners_of

    if not nodes:
        return {}
    store = OxigraphStore()
    store.add_graph(records)
    return owners_of(store, nodes)
