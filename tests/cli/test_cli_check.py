"""``csfkg check`` runs the ROBOT-style quality checks on the shipped ontology."""

from __future__ import annotations


def test_check_passes_on_the_shipped_ontology(cli) -> None:
    result = cli("check")
    assert result.code == 0
    assert result.out.strip().splitlines()[-1] == "25 checks, 0 violations"


def test_check_list_and_unknown_check(cli) -> None:
    listed = cli("check", "--list")
    assert listed.code == 0 and "missing-label" in listed.out.split()
    unknown = cli("check", "no-such-check")
    assert unknown.code == 2 and "no quality check named 'no-such-check'" in unknown.err
