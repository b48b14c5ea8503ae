"""Engines agree on mutated patient records (issue 20, "a differential fuzzer"): hypothesis draws
cohorts of valid records (synthetic patients, the vignettes) with mutations
(tests/fuzz/fuzz_records.py), and three pairs of engines must give the same answer, as the RDF 1.1,
SHACL and SPARQL 1.1 specifications decide it:

a. the compiled validator == pySHACL on results (focus node, path, constraint, shape, severity);
b. ``recommend`` on one patient == that patient's row of the cohort run of the file;
c. the default cohort engine == the SQL engine: the same rows, or both refuse the file.

Blank nodes are compared as blank nodes (their labels are local to the store that read the file).
One class is decided as a refusal: Oxigraph stores "0.900"^^xsd:decimal as "0.9", so two lexical
forms of one value for one subject and property, two values in RDF 1.1, would be one to the
compiled checks and the default engine; they refuse such data in one sentence
(:func:`csfkg.stores.oxigraph_store.refuse_merged_values`), where pySHACL and the SQL engine
answer (sh:maxCount). That refusal, and only it, is accepted against an answer.

Bounded for CI (42 examples, under a minute); ``CSFKG_FUZZ_SCALE=k`` runs k times as many (random) examples of each property,
``CSFKG_FUZZ_EXAMPLES=N`` N examples of each
property (a long local run)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from fuzz_records import cohort, is_rdf, ntriples
from hypothesis import HealthCheck, given, settings
from rdflib import BNode, Graph, URIRef

from csfkg.cohort.parts import run_cohort_file
from csfkg.cohort.run import CohortRun, write_csv
from csfkg.io.patient_files import rdflib_reading
from csfkg.model.errors import CsfkgError

LONG = int(os.environ.get("CSFKG_FUZZ_EXAMPLES", "0"))
SCALE = int(os.environ.get("CSFKG_FUZZ_SCALE", "0"))
"""``CSFKG_FUZZ_SCALE=k``: k times each property's CI examples, random (a long run that keeps the
properties' proportions: the cohort property costs some 7 s an example, the others 0.3-1.5 s)."""


def examples(ci: int) -> settings:
    return settings(
        max_examples=LONG or (ci * SCALE if SCALE else ci),
        deadline=None,
        database=None,
        derandomize=not (LONG or SCALE),
        suppress_health_check=list(HealthCheck),
    )


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "cohort.nt"
    path.write_text(text, encoding="utf-8")
    return path


def _csv(run: CohortRun, tmp: Path) -> list[list[str]]:
    out = tmp / "rows.csv"
    write_csv(run, out)
    with out.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def _outcome(run, path: Path, tmp: Path) -> object:
    try:
        return _csv(run(path), tmp)
    except CsfkgError as error:
        return ("refused", type(error).__name__, MERGED in str(error))


MERGED = "two lexical forms of one value"
"""The default engine's refusal of what its store would merge (see the module)."""


def _validation_key(result, canonical: dict) -> tuple:
    return (
        canonical.get(result.focus, result.focus),
        result.path or "",
        result.name,
        result.shape,
        result.severity,
    )


# --- a. the compiled validator == pySHACL -------------------------------------------------------


@examples(ci=8)
@given(records=cohort(most=3))
def test_the_compiled_validator_reports_what_pyshacl_reports(records) -> None:
    from rdflib import Literal

    from csfkg.validation.compiled import canonical_texts, validate_graph
    from csfkg.validation.report import validate

    text = ntriples(records)
    if not is_rdf(text):
        return
    # read as csfkg reads a file, each literal with its own lexical form: plain rdflib rewrites
    # "yes"^^xsd:boolean into "false", and the compiled checks were handed a value the file never
    # held (found by the long run: tests/fuzz/test_found_cases.py)
    with rdflib_reading():
        graph = Graph().parse(data=text, format="nt")
    try:
        compiled = validate_graph(graph)
    except (CsfkgError, ValueError) as error:
        if MERGED in str(error):  # decided: a refusal (see the module); pySHACL counts two values
            assert any("maxCount" in r.shape or r.severity == "Violation" for r in validate(graph).results)
            return
        raise AssertionError(f"the compiled validator refused a graph pySHACL reads: {error}") from None
    expected = validate(graph)
    canonical = {
        str(k): v for k, v in canonical_texts(o for o in graph.objects() if isinstance(o, Literal)).items()
    }
    # compared as sets: each kind of result must be on both sides (a date as a voxel size gave
    # pySHACL one range result where the spec gives two, until the pySHACL path compared literals
    # as SPARQL does: tests/validation/test_compiled_validation.py, tests/fuzz/test_found_cases.py)
    pyshacl = sorted(set(_validation_key(r, canonical) for r in expected.results))
    ours = sorted(set(_validation_key(r, {}) for r in compiled.results))
    assert ours == pyshacl, (
        f"pySHACL only: {[k for k in pyshacl if k not in ours]}; compiled only: {[k for k in ours if k not in pyshacl]}"
    )


def _result_key(result, named: set[str]) -> tuple[str, ...]:
    """A result as compared: a focus node that is no IRI or literal of the file is a blank node,
    whatever its label."""
    focus = result.focus if result.focus in named else "_:"
    return (focus, result.shape, result.severity, result.path or "")


# --- b. recommend on one patient == its row in the cohort ---------------------------------------


@examples(ci=30)
@given(records=cohort(most=4))
def test_recommend_on_a_patient_gives_its_row_of_the_cohort(records, tmp_path_factory) -> None:
    from csfkg.io.patient_files import read_patient_file
    from csfkg.pipeline.assess import assess

    tmp = tmp_path_factory.mktemp("b")
    path = _write(tmp, ntriples(records))
    try:
        run = run_cohort_file(path, workers=1)
    except CsfkgError:
        return  # a refused file: property c compares refusals
    rows = {row.patient: row for row in run.rows}
    try:
        graph = read_patient_file(path)
    except CsfkgError as error:
        raise AssertionError(f"recommend refuses what the cohort runs: {error}") from None
    # a blank node's label is local to the store that read the file (RDF 1.1, 3.4): compared as
    # a blank node, not by label
    named = {str(node) for s, p, o in graph for node in (s, o) if not isinstance(node, BNode)}
    for patient, row in rows.items():
        (result,) = assess(graph, [URIRef(patient)]).results
        step = result.next_step
        alone = (
            sorted(_result_key(r, named) for r in result.validation.results),
            "" if step is None or not result.validation.conforms else step.code,
            sorted(r.code for r in result.recommendations if r.role == "companion")
            if result.validation.conforms
            else [],
            sorted(m.code for m in result.missing_data) if result.validation.conforms else [],
        )
        inside = (
            sorted(_result_key(r, named) for r in row.violations),
            row.next_step,
            row.companions,
            row.missing_data,
        )
        assert alone == inside, f"{patient}: recommend {alone} cohort {inside}"


# --- c. the default engine == the SQL engine ----------------------------------------------------


@examples(ci=4)
@given(records=cohort(most=6))
def test_the_sql_engine_gives_the_rows_of_the_default_engine(records, tmp_path_factory) -> None:
    from csfkg.cohort.sql_engine import run_cohort_sql

    tmp = tmp_path_factory.mktemp("c")
    path = _write(tmp, ntriples(records))
    default = _outcome(lambda p: run_cohort_file(p, workers=1), path, tmp)
    sql = _outcome(run_cohort_sql, path, tmp)
    if isinstance(default, tuple) and default[2]:
        return  # decided: the default engine refuses what its store would merge (see the module)
    assert sql == default, _differences(default, sql)


def _differences(default: object, sql: object) -> str:
    if not isinstance(default, list) or not isinstance(sql, list):
        return f"default: {default if not isinstance(default, list) else 'rows'}; sql: {sql if not isinstance(sql, list) else 'rows'}"
    return (
        "\n".join(f"default {a}\nsql     {b}" for a, b in zip(default, sql, strict=False) if a != b)
        or f"{len(default)} rows against {len(sql)}"
    )
