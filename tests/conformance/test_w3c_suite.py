"""The W3C SHACL test suites (core and SPARQL, vendored in ``w3c-shacl/``) through the validator
of ``csfkg validate`` (:func:`csfkg.validation.general.validate_data`, the default engine:
compiled checks, pySHACL for the shapes the compiler does not translate): no test may FAIL or
ERROR, and a "must fail" test must be refused. Each case also runs through the command itself,
whose exit code must say what the expected report says.

Figures at this commit (printed by the test with ``-s``): core 98/98 PASS (pySHACL alone: 97; 91 of the
120 cases never reach pySHACL),
SPARQL 21 PASS + 1 refused (``pre-binding/shapesGraph-001``: ``$shapesGraph`` is supported by
neither validator; refused in one sentence, never answered)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib.namespace import RDF, SH
from w3c_shacl import FAILURE, Refused, Verdict, load_cases, run_suite, summary

from csfkg.cli.main import run
from csfkg.validation.general import ShapesRefused, validate_data

SUITE = Path(__file__).resolve().parent / "w3c-shacl"
UNSUPPORTED = {"sparql/pre-binding/shapesGraph-001"}
"""Cases refused although they expect a report: each with why in the module's docstring."""

CASES = load_cases(SUITE)
TAKEN = Counter()


def engine(data, shapes):
    try:
        report = validate_data(data, shapes)
    except ShapesRefused as error:
        raise Refused(str(error)) from None
    TAKEN["fallback" if report.fallback_shapes else "compiled only"] += 1
    return report.graph


def test_every_case_passes_or_is_refused_as_it_must_be() -> None:
    outcomes = run_suite(CASES, engine)
    print("\n" + summary(outcomes), dict(TAKEN))
    verdicts = Counter(o.verdict for o in outcomes)
    wrong = [o for o in outcomes if o.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert wrong == [], summary(wrong)
    refused = {o.name for o in outcomes if o.verdict == Verdict.REFUSED}
    assert refused == UNSUPPORTED
    assert verdicts[Verdict.PASS] == len(CASES) - len(UNSUPPORTED) == 119
    must_fail = [c for c in CASES if c.expected == FAILURE]
    assert len(must_fail) == 7  # refused: a refusal of a must-fail test counts as PASS
    assert TAKEN["compiled only"] >= 90  # most cases never reach pySHACL (91 at this commit)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_command_exits_as_the_expected_report_says(case, tmp_path: Path) -> None:
    assert case.data_file is not None and case.shapes_file is not None
    out = tmp_path / "report.ttl"
    code = run(
        ["validate", str(case.data_file), "--shapes", str(case.shapes_file), "-f", "ttl", "-o", str(out)]
    )
    if case.expected == FAILURE or case.name in UNSUPPORTED:
        assert code == 2 and not out.exists()
        return
    expected = case.expected
    violations = any(
        (r, SH.resultSeverity, SH.Violation) in expected
        for report in expected.subjects(RDF.type, SH.ValidationReport)
        for r in expected.objects(report, SH.result)
    )
    assert code == (1 if violations else 0)
    assert out.exists()
