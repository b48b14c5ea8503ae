"""The code lists read from the ontology (kg/model/codes.py, a fast reader of the TBox) are
those a SPARQL query over the TBox finds, and an unknown code is refused naming the accepted ones."""

from __future__ import annotations

import pytest

from csfkg.model import codes
from csfkg.model.codes import class_for, code_list, codes_under
from csfkg.model.errors import UsageError
from csfkg.model.knowledge import ontology_graph
from csfkg.model.vocab import CSF, CSF_NS

PARENTS = [
    codes.RED_FLAG,
    codes.SYMPTOM,
    codes.IMAGING_FINDING,
    codes.BRAIN_MRI_FINDING,
    codes.SPINE_MRI_FINDING,
    codes.SPINAL_PROCEDURE,
]


def test_the_namespace_text_is_the_vocabulary_namespace() -> None:
    assert codes._CSF == str(CSF_NS)
    for parent in PARENTS:  # each a term of the vocabulary (which refuses unknown terms)
        assert str(getattr(CSF, parent.split("#")[1])) == parent


@pytest.mark.parametrize("parent", PARENTS, ids=lambda p: p.split("#")[1])
def test_codes_under_are_those_sparql_finds_in_the_tbox(parent: str) -> None:
    rows = ontology_graph().query(
        "SELECT ?code ?cls WHERE { ?cls rdfs:subClassOf+ ?parent ; csf:code ?code }",
        initBindings={"parent": CSF_NS[parent.split("#")[1]]},
    )
    expected = {str(code): cls for code, cls in rows}
    assert expected, parent
    assert codes_under(parent) == expected
    assert code_list(parent) == tuple(sorted(expected))


def test_the_article_red_flags_are_among_the_red_flags() -> None:
    assert set(code_list(codes.RED_FLAG)) >= {
        "new-severe-back-pain", "new-severe-leg-pain", "lower-limb-weakness", "lower-limb-sensory-change",
        "urinary-incontinence", "fecal-incontinence", "fever", "worsening-headache", "altered-mental-status",
    }  # fmt: skip


def test_class_for_refuses_an_unknown_code_listing_the_accepted_ones() -> None:
    assert class_for("fever", CSF.RedFlagSign, "red flag") == CSF_NS["Fever"]
    with pytest.raises(UsageError) as refused:
        class_for("sneezing", CSF.RedFlagSign, "red flag")
    message = str(refused.value)
    assert message.startswith("Unknown red flag 'sneezing'; accepted: ")
    assert all(code in message for code in code_list(CSF.RedFlagSign))
