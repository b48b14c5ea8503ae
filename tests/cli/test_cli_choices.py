"""The command line's accepted values are the ontology's codes: the two cannot drift apart."""

from __future__ import annotations

from csfkg.cli.choices import Finding, ProcedureCode, RedFlag
from csfkg.model.codes import codes_under
from csfkg.model.vocab import CSF


def test_red_flag_values_are_the_red_flag_classes() -> None:
    assert sorted(v.value for v in RedFlag) == sorted(codes_under(CSF.RedFlagSign))
    assert len(RedFlag) == 9


def test_finding_values_are_the_imaging_finding_classes() -> None:
    assert sorted(v.value for v in Finding) == sorted(codes_under(CSF.ImagingFinding))


def test_procedure_values_are_the_spinal_procedure_classes() -> None:
    assert sorted(v.value for v in ProcedureCode) == sorted(codes_under(CSF.SpinalProcedure))


def test_help_lists_every_accepted_value(cli) -> None:
    result = cli("recommend", "--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    for value in [*RedFlag, *Finding, *ProcedureCode]:
        assert value.value in text, value
    for option in (
        "--emit-patient",
        "--symptom",
        "--absent",
        "--onset",
        "--levels",
        "--mri-protocol",
        "--suspicion",
        "--ebp-count",
        "--symptoms-resolved",
        "--no-red-flags",
        "--today",
    ):
        assert option in text
