"""The command line's accepted values are the ontology's codes: the help lists them, and an
unknown value is refused in one sentence that names the option and lists them."""

from __future__ import annotations

import pytest

from csfkg.model.codes import IMAGING_FINDING, RED_FLAG, SPINAL_PROCEDURE, SYMPTOM, code_list

CODED_OPTIONS = {
    "--symptom": SYMPTOM,
    "--absent": SYMPTOM,
    "--prior-procedure": SPINAL_PROCEDURE,
    "--planned-procedure": SPINAL_PROCEDURE,
    "--finding": IMAGING_FINDING,
    "--red-flag": RED_FLAG,
}


def test_help_lists_every_accepted_value(cli) -> None:
    result = cli("recommend", "--help")
    assert result.code == 0
    text = "".join(result.out.split())  # values wrap at any character in a narrow terminal
    for option, parent in CODED_OPTIONS.items():
        codes = code_list(parent)
        assert codes, parent
        assert f"{option}<list[{'|'.join(codes)}]>" in text, option
    text = " ".join(result.out.split())
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


@pytest.mark.parametrize("option", sorted(CODED_OPTIONS))
def test_an_unknown_code_names_the_option_and_every_accepted_value(cli, option: str) -> None:
    result = cli("recommend", option, "no-such-code")
    assert result.code == 2 and result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("csfkg: "), result.err
    assert option in lines[0] and "no-such-code" in lines[0]
    for code in code_list(CODED_OPTIONS[option]):
        assert repr(code) in lines[0], code
