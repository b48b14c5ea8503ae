"""Mutated patient records for the differential fuzz tests (tests/fuzz/test_engines_agree.py).

A record is a list of N-Triples statements ``(subject, predicate, object)``, each term written as
N-Triples writes it. The records start valid: synthetic patients (:mod:`csfkg.cohort.synth`) and
the clinical vignettes of ontology/vignettes; the mutations are the ones issue 20 lists (dropped
or duplicated values, wrong datatypes, malformed lexical forms, blank nodes, subclass instances,
nodes and literals shared between patients, an untagged ``rdf:langString``, an IRI with U+00A0,
``"daily"`` beside ``"daily"^^xsd:string``).
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st
from rdflib import Graph

from csfkg.cohort.synth import PATIENT_NS, code_lists, patient_triples
from csfkg.model.vocab import CSF, STANDARD_PREFIXES

Triple = tuple[str, str, str]
XSD = STANDARD_PREFIXES["xsd"]
RDF = STANDARD_PREFIXES["rdf"]
TYPE = f"<{RDF}type>"
VIGNETTES = Path(__file__).resolve().parents[2] / "ontology" / "vignettes"


def _typed(text: str, datatype: str) -> str:
    return f'"{text}"^^<{datatype}>'


DATES = [
    _typed(t, XSD + "date")
    for t in (
        "2026-03-01",
        "2026-12-07",
        "2026-13-45",
        "infinity",
        "epoch",
        "2026/01/05",
        "2026-12-07-14:00",
        "2026-12-07Z",
        "2026-02-29",
        "2026-12-07T10:00:00",
        "0000-01-01",
        "-2026-01-01",
    )
] + ['"2026-12-07"', _typed("2026-12-07", XSD + "dateTime")]
DECIMALS = [
    _typed(t, XSD + "decimal")
    for t in ("4.5", "1e3", "0.9", "0.900", "1.2345678901234567891", "NaN", "INF", "+4.50", "-0.0", ".5")
] + ['"4.5"', _typed("5", XSD + "integer"), _typed("4.5", XSD + "double")]
BOOLEANS = [_typed(t, XSD + "boolean") for t in ("true", "1", "0", "false", "TRUE", "yes")] + ['"true"']
STRINGS = [
    '"daily"',
    _typed("daily", XSD + "string"),
    '"daily"@en',
    _typed("daily", RDF + "langString"),
    '"weekly"',
]
LITERALS = DATES + DECIMALS + BOOLEANS + STRINGS


@lru_cache(maxsize=1)
def subclasses() -> tuple[str, ...]:
    """Classes a record's node can be typed with instead of its own: the ontology's red flags and
    imaging signs (subclasses of the finding classes the shapes target) and a few others."""
    codes = code_lists()
    names = ("OrthostaticHeadache", "RedFlagSign", "MedialBranchBlock", "EpiduralBloodPatch", "BrainMRI")
    return tuple(
        f"<{iri}>" for iri in (*codes.red_flags[:3], *codes.brain_signs[:2], *codes.spine_signs[:2])
    ) + tuple(f"<{CSF[name]}>" for name in names)


@lru_cache(maxsize=1)
def vignette_records() -> tuple[tuple[Triple, ...], ...]:
    """Each vignette's record as N-Triples statements, its IRIs and blank nodes as written."""
    records = []
    for path in sorted(VIGNETTES.glob("*.ttl")):
        graph = Graph().parse(path, format="turtle")
        records.append(tuple(sorted((s.n3(), p.n3(), o.n3()) for s, p, o in graph)))  # type: ignore[union-attr]
    return tuple(records)


def base_record(source: int, index: int) -> list[Triple]:
    """Patient ``index``'s valid record: a synthetic patient (``source`` >= 0, its seed) or a
    vignette (``source`` < 0), its IRIs and blank node labels made the patient's own."""
    if source >= 0:
        record = list(patient_triples(index, random.Random(source)))
        return [(s, p, o) for s, p, o in record]
    vignette = vignette_records()[(-source - 1) % len(vignette_records())]
    own = f"<{PATIENT_NS}v{index}/"

    def rename(term: str) -> str:
        if term.startswith("<https://example.org/csfkg/patient/"):
            return own + term[len("<https://example.org/csfkg/patient/") :]
        if term.startswith("_:"):
            return f"_:v{index}x{term[2:]}"
        return term

    return [(rename(s), p, rename(o)) for s, p, o in vignette]


def patient_of(record: list[Triple]) -> str:
    return next(s for s, p, o in record if p == TYPE and o == f"<{CSF.Patient}>")


def _nodes(record: list[Triple]) -> list[str]:
    """The record's nodes other than its patient (IRIs and blank nodes), in a stable order."""
    patient = patient_of(record)
    return sorted({s for s, _, _ in record if s != patient})


@st.composite
def mutated_record(draw: st.DrawFn, index: int) -> list[Triple]:
    """A valid record of patient ``index`` with 0 to 4 mutations of one patient's own."""
    source = draw(st.one_of(st.integers(0, 200), st.integers(-len(vignette_records()), -1)))
    record = base_record(source, index)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(
            st.sampled_from(
                ["drop", "duplicate", "literal", "blank", "subclass", "nbsp", "ghost", "literal-focus"]
            )
        )
        if not record:
            break
        at = draw(st.integers(0, len(record) - 1))
        s, p, o = record[at]
        if kind == "drop" and (p, o) != (TYPE, f"<{CSF.Patient}>"):
            del record[at]
        elif kind == "duplicate":
            twin = draw(st.sampled_from(LITERALS)) if o.startswith('"') else o
            record.append((s, p, twin))
        elif kind == "literal":
            literals = [i for i, (_, _, obj) in enumerate(record) if obj.startswith('"')]
            if literals:
                i = literals[at % len(literals)]
                record[i] = (record[i][0], record[i][1], draw(st.sampled_from(LITERALS)))
        elif kind == "blank":
            nodes = [n for n in _nodes(record) if n.startswith("<")]
            if nodes:
                node = nodes[at % len(nodes)]
                blank = f"_:m{index}x{at}"
                record = [tuple(blank if t == node else t for t in triple) for triple in record]  # type: ignore[misc]
        elif kind == "subclass":
            types = [i for i, (_, pred, _) in enumerate(record) if pred == TYPE]
            i = types[at % len(types)]
            if record[i][2] != f"<{CSF.Patient}>":
                record[i] = (record[i][0], TYPE, draw(st.sampled_from(subclasses())))
        elif kind == "nbsp":
            nodes = [n for n in _nodes(record) if n.startswith("<")] + [patient_of(record)]
            node = nodes[at % len(nodes)]
            renamed = node[:-1] + "\u00a0x>"
            record = [tuple(renamed if t == node else t for t in triple) for triple in record]  # type: ignore[misc]
        elif kind == "ghost":  # a focus node with no triples of its own
            record.append((patient_of(record), f"<{CSF.hasFinding}>", f"<{PATIENT_NS}ghost{index}>"))
        elif kind == "literal-focus":  # a literal where a node is expected
            record.append((patient_of(record), f"<{CSF.hasFinding}>", draw(st.sampled_from(DATES[:2]))))
    return record


@st.composite
def cohort(draw: st.DrawFn, most: int = 5) -> list[list[Triple]]:
    """1 to ``most`` mutated records, some with a node or a literal shared with an earlier one."""
    records = [draw(mutated_record(i)) for i in range(draw(st.integers(1, most)))]
    for later in range(1, len(records)):
        if draw(st.booleans()):
            earlier = draw(st.integers(0, later - 1))
            nodes = _nodes(records[earlier])
            shared = draw(st.sampled_from(nodes)) if nodes else None
            if shared is not None and draw(st.booleans()):
                predicate = next((p for s, p, o in records[earlier] if o == shared), f"<{CSF.hasFinding}>")
                records[later].append((patient_of(records[later]), predicate, shared))
            else:
                literal = draw(st.sampled_from(DATES[:2]))
                records[later].append((patient_of(records[later]), f"<{CSF.hasFinding}>", literal))
    return records


def ntriples(records: list[list[Triple]]) -> str:
    """The records as an N-Triples file grouped by patient, each record's patient line first."""
    lines: list[str] = []
    for record in records:
        patient = patient_of(record)
        first = [t for t in record if t == (patient, TYPE, f"<{CSF.Patient}>")][:1]
        rest = [t for t in record if t not in first]
        lines += [f"{s} {p} {o} .\n" for s, p, o in first + rest]
    return "".join(lines)


def is_rdf(text: str) -> bool:
    """Whether rdflib reads the N-Triples (the inputs the validators can compare)."""
    try:
        Graph().parse(data=text, format="nt")
    except Exception:
        return False
    return True
