"""Lookups for a person at a terminal: the MRI protocols, the expected findings, the red flags and
a search of the graph. (The why-chain of a patient's recommendation, ``csfkg explain``, is the
pipeline's: :func:`csfkg.pipeline.render.render_explain`.)

Everything clinical is read from the graph through the named queries (protocol-requirements,
expected-findings, red-flags, evidence-for, lookup, lookup-names, mappings); this module only
groups their rows into plain data (for JSON) and renders that data as text. It never prints.
"""

from __future__ import annotations

import difflib
import textwrap
from decimal import Decimal
from typing import Any

from rdflib import BNode, Literal, URIRef

from csfkg.model.errors import UsageError
from csfkg.model.resources import knowledge_cache
from csfkg.model.vocab import CSF, prefixed_name
from csfkg.pipeline.render import CORRECTED_BY
from csfkg.sparql.library import get_query
from csfkg.sparql.named import display, run_query
from csfkg.stores import RdflibStore, SelectResult, Store, Term
from csfkg.stores.sparql_text import truth

WIDTH = 100
PROTOCOLS = ("brain", "spine")
STUDY_CODES = {"brain": "brain-mri", "spine": "spine-mri"}
"""The word of ``csfkg findings brain|spine`` -> the csf:code of the study class."""

Data = dict[str, Any]


@knowledge_cache
def knowledge_store() -> Store:
    """An rdflib store of the knowledge graph alone (ontology, guideline, article), built once."""
    from csfkg.model.knowledge import knowledge_graph

    store = RdflibStore()
    store.add_graph(knowledge_graph())
    return store


def select(store: Store, name: str, **bindings: Term) -> list[dict[str, Term | None]]:
    """Rows of the named SELECT query ``name`` with ``bindings``."""
    result = run_query(store, get_query(name), dict(bindings))
    assert isinstance(result, SelectResult), f"{name} is not a SELECT query"
    return result.dicts()


def _text(term: Term | None) -> str | None:
    return None if term is None else str(term)


def _value(term: Term | None) -> Any:
    """JSON value of a term: IRIs and strings as text, numbers and booleans as themselves."""
    if term is None:
        return None
    if isinstance(term, Literal) and term.datatype is not None:
        value = term.toPython()
        if isinstance(value, bool | int | float):
            return value
        if isinstance(value, Decimal):
            return float(value)
    return str(term)


# ---------------------------------------------------------------------------------------
# evidence rows (evidence-for.rq, report-recommendation-evidence.rq) -> statements
# ---------------------------------------------------------------------------------------
def _statements(rows: list[dict[str, Term | None]], *, number_key: str = "referenceNumber") -> list[Data]:
    """One entry per statement, with its sources and cited reference numbers gathered, and the
    statements that correct it (rows with ``correctionOf``) nested under ``corrected_by``; most
    trusted tier first."""
    statements: dict[str, Data] = {}
    corrections: dict[tuple[str, str], Data] = {}
    for row in rows:
        iri = str(row["statement"])
        corrected = row.get("correctionOf")
        found = statements if corrected is None else corrections
        key: Any = iri if corrected is None else (str(corrected), iri)
        entry = found.get(key)
        if entry is None:
            entry = found[key] = {
                "iri": iri,
                "label": _text(row.get("label")),
                "text": _text(row.get("text")),
                "kind": _text(row.get("kind")),
                "tier": _text(row.get("tier")),
                "rank": _value(row.get("rank")),
                "sources": [],
                "cites_references": [],
                "contested": truth(row.get("contested")),
                "corrected_by": [],
            }
        source = _text(row.get("sourceLabel"))
        if source is not None and source not in entry["sources"]:
            entry["sources"].append(source)
        number = _value(row.get(number_key))
        if number is not None and number not in entry["cites_references"]:
            entry["cites_references"].append(number)
    for (corrected, _), entry in corrections.items():
        if corrected in statements:
            statements[corrected]["corrected_by"].append(entry)
    return sorted(statements.values(), key=lambda e: e["rank"] if e["rank"] is not None else 99)


def _statement_line(entry: Data) -> str:
    tier = (entry["tier"] or "").replace("-", " ")
    kind = f"{entry['kind']}, " if entry.get("kind") and entry["kind"] != "evidence statement" else ""
    cited = entry["cites_references"]
    citing = (
        f"; article's reference{'s' if len(cited) > 1 else ''} {', '.join(str(n) for n in cited)}"
        if cited
        else ""
    )
    return f"[{kind}{tier}] {entry['text'] or entry['label']} -- {'; '.join(entry['sources'])}{citing}"


def _render_statements(entries: list[Data], indent: str) -> list[str]:
    lines: list[str] = []
    for entry in entries:
        lines.append(_wrap(_statement_line(entry), indent))
        verb = f"{CORRECTED_BY}: " if entry["contested"] else "note: "
        for correction in entry["corrected_by"]:
            lines.append(_wrap(verb + _statement_line(correction), indent + "    "))
    return lines


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


# ---------------------------------------------------------------------------------------
# csfkg protocol brain|spine
# ---------------------------------------------------------------------------------------
def protocol(code: str, *, store: Store | None = None) -> Data:
    """The MRI protocol with csf:code ``code``: its sequence requirements with their parameters,
    and the evidence behind it.

    Raises:
        UsageError: no protocol has that code.
    """
    store = store if store is not None else knowledge_store()
    rows = select(store, "protocol-requirements", protocol=Literal(code))
    if not rows:
        raise UsageError(
            f"There is no MRI protocol with the code {code!r}; the protocols are {', '.join(PROTOCOLS)}."
        )
    requirements: dict[str, Data] = {}
    for row in rows:
        requirement = requirements.setdefault(
            str(row["requirement"]),
            {
                "order": _value(row["order"]),
                "iri": str(row["requirement"]),
                "label": str(row["requirementLabel"]),
                "note": _text(row["note"]),
                "parameters": [],
            },
        )
        if row["parameter"] is None:
            continue
        parameters = requirement["parameters"]
        if not parameters or parameters[-1]["iri"] != str(row["parameter"]):
            parameters.append(
                {"iri": str(row["parameter"]), "label": str(row["parameterLabel"]), "values": []}
            )
        value = {"value": _value(row["value"]), "label": _text(row["valueLabel"])}
        if value not in parameters[-1]["values"]:
            parameters[-1]["values"].append(value)
    first = rows[0]
    evidence = select(store, "evidence-for", subject=first["protocolIri"])  # type: ignore[arg-type]
    return {
        "protocol": {"iri": str(first["protocolIri"]), "code": code, "label": str(first["protocolLabel"])},
        "requirements": sorted(requirements.values(), key=lambda r: r["order"]),
        "evidence": _statements(evidence),
    }


def render_protocol(data: Data) -> str:
    lines = [f"{data['protocol']['label']} ({prefixed_name(data['protocol']['iri'])})", "Required sequences:"]
    for requirement in data["requirements"]:
        lines.append(_wrap(f"{requirement['order']}. {requirement['label']}", "  "))
        for parameter in requirement["parameters"]:
            values = " or ".join(v["label"] or _number(v["value"]) for v in parameter["values"])
            lines.append(_wrap(f"{parameter['label']}: {values}", "       "))
        if requirement["note"]:
            lines.append(_wrap(f"note: {requirement['note']}", "       "))
    if data["evidence"]:
        lines.append("Evidence (tier; source):")
        lines += _render_statements(data["evidence"], "  ")
    return "\n".join(lines) + "\n"


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)


# ---------------------------------------------------------------------------------------
# csfkg findings brain|spine
# ---------------------------------------------------------------------------------------
def findings(study: str, *, store: Store | None = None) -> Data:
    """The expected MRI findings of a CSF leak on the brain or the whole spine study, each with the
    evidence about it (frequencies, caveats), and the source's own list with its corrections.

    Raises:
        UsageError: ``study`` is not brain or spine.
    """
    if study not in STUDY_CODES:
        raise UsageError(f"findings are listed for {' or '.join(STUDY_CODES)}, not {study!r}.")
    store = store if store is not None else knowledge_store()
    rows = select(store, "expected-findings", study=Literal(STUDY_CODES[study]))
    listed: dict[str, Data] = {}
    signs: dict[str, Data] = {}
    for row in rows:
        if row["finding"] is None:
            entry = listed.setdefault(str(row["statement"]), _finding_statement(row))
            _add_source(entry, row)
            for column, key in (("correctedBy", "corrected_by"), ("qualifiedBy", "notes")):
                if row[column] is not None:
                    linked = {"iri": str(row[column]), "label": _text(row[column + "Label"])}
                    if linked not in entry[key]:
                        entry[key].append(linked)
            continue
        sign = signs.setdefault(
            str(row["finding"]),
            {
                "iri": str(row["finding"]),
                "code": str(row["code"]),
                "label": str(row["findingLabel"]),
                "definition": str(row["definition"]),
                "note": _text(row["note"]),
                "evidence": [],
            },
        )
        if row["statement"] is not None:
            statement = next((s for s in sign["evidence"] if s["iri"] == str(row["statement"])), None)
            if statement is None:
                statement = _finding_statement(row)
                sign["evidence"].append(statement)
            _add_source(statement, row)
    label = str(rows[0]["studyLabel"]) if rows else STUDY_CODES[study]
    return {
        "study": {"code": STUDY_CODES[study], "label": label},
        "listed_by": list(listed.values()),
        "findings": list(signs.values()),
    }


def _finding_statement(row: dict[str, Term | None]) -> Data:
    return {
        "iri": str(row["statement"]),
        "kind": _text(row["kind"]),
        "text": _text(row["text"]),
        "tier": _text(row["tier"]),
        "rank": _value(row["rank"]),
        "sources": [],
        "cites_references": [],
        "corrected_by": [],
        "notes": [],
    }


def _add_source(entry: Data, row: dict[str, Term | None]) -> None:
    source = _text(row["sourceLabel"])
    if source is not None and source not in entry["sources"]:
        entry["sources"].append(source)


def render_findings(data: Data) -> str:
    lines = [f"Expected findings of a CSF leak on {data['study']['label']} ({data['study']['code']})"]
    for statement in data["listed_by"]:
        lines.append(_wrap("As listed by the source: " + _statement_line(statement), ""))
        for correction in statement["corrected_by"]:
            lines.append(
                _wrap(f"{CORRECTED_BY}: {correction['label']} ({prefixed_name(correction['iri'])})", "    ")
            )
        for note in statement["notes"]:
            lines.append(_wrap(f"note: {note['label']} ({prefixed_name(note['iri'])})", "    "))
    lines.append("Findings:")
    for sign in data["findings"]:
        lines.append(_wrap(f"- {sign['label']} ({sign['code']}): {sign['definition']}", "  "))
        for statement in sign["evidence"]:
            lines.append(_wrap(_statement_line(statement), "      "))
        if sign["note"]:
            lines.append(_wrap(f"note: {sign['note']}", "      "))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# csfkg red-flags
# ---------------------------------------------------------------------------------------
def red_flags(*, store: Store | None = None) -> Data:
    """The red flag signs, each with the action group whose action it calls for (None when
    its class names none), and the evidence about red flags."""
    store = store if store is not None else knowledge_store()
    flags = [
        {
            "iri": str(r["redFlag"]),
            "code": str(r["code"]),
            "label": str(r["label"]),
            "definition": str(r["definition"]),
            "action_group": None
            if r["group"] is None
            else {
                "iri": str(r["group"]),
                "code": str(r["groupCode"]),
                "label": str(r["groupLabel"]),
                "action": str(r["actionText"]),
            },
        }
        for r in select(store, "red-flags")
    ]
    evidence = _statements(select(store, "evidence-for", subject=CSF.RedFlagSign))
    return {"red_flags": flags, "evidence": evidence}


def render_red_flags(data: Data) -> str:
    lines = [f"Red flag signs ({len(data['red_flags'])}):"]
    shown_group: object = False
    for flag in data["red_flags"]:
        group = flag["action_group"]
        if group != shown_group:
            heading = "no action group" if group is None else f"{group['label']}: {group['action']}"
            lines.append(_wrap(heading, "  "))
            shown_group = group
        lines.append(_wrap(f"- {flag['label']} ({flag['code']}): {flag['definition']}", "    "))
    if data["evidence"]:
        lines.append("Evidence (tier; source):")
        lines += _render_statements(data["evidence"], "  ")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# csfkg lookup TEXT
# ---------------------------------------------------------------------------------------
def lookup(text: str, *, store: Store | None = None) -> Data:
    """Nodes whose label, synonym, code, IRI local name or mapped identifier contains ``text``,
    best match first, each with its mappings; when none does, ``suggestions``: the labels,
    synonyms and codes closest to ``text`` (:func:`near_names`).

    Raises:
        UsageError: ``text`` is empty.
    """
    if not text.strip():
        raise UsageError("Give some text to look up, such as STIR, G96.02 or blood patch.")
    store = store if store is not None else knowledge_store()
    mappings: dict[str, list[Data]] = {}
    for row in select(store, "mappings"):
        mappings.setdefault(str(row["term"]), []).append(
            {"relation": str(row["relation"]), "target": str(row["target"]), "curie": str(row["curie"])}
        )
    matches = [
        {
            "iri": str(row["node"]),
            "name": prefixed_name(row["node"]) if isinstance(row["node"], URIRef) else display(row["node"]),
            "label": str(row["label"]),
            "kind": str(row["kind"]),
            "type": _text(row["type"]),
            "definition": _text(row["definition"]),
            "matched_on": str(row["matchedOn"]),
            "matched_value": str(row["matchedValue"]),
            "exact": _value(row["score"]) == 0,
            "mappings": mappings.get(str(row["node"]), []),
        }
        for row in select(store, "lookup", text=Literal(text.strip()))
        if not isinstance(row["node"], BNode)
    ]
    suggestions = [] if matches else near_names(text.strip(), store=store)
    return {"text": text.strip(), "matches": matches, "suggestions": suggestions}


def near_names(text: str, *, store: Store, limit: int = 5) -> list[str]:
    """The names (labels, synonyms, codes: ``lookup-names.rq``) closest to ``text`` by difflib's
    ratio (0.6 at least), closest first, compared without case; each spelled once."""
    spellings: dict[str, str] = {}
    for row in select(store, "lookup-names"):
        name = str(row["name"])
        spellings.setdefault(name.lower(), name)
    close = difflib.get_close_matches(text.lower(), list(spellings), n=limit, cutoff=0.6)
    return [spellings[name] for name in close]


def render_lookup(data: Data) -> str:
    if not data["matches"]:
        near = data.get("suggestions") or []
        hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else "."
        return f"Nothing in the knowledge graph matches {data['text']!r}{hint}\n"
    blocks: list[str] = []
    for match in data["matches"]:
        kind = match["kind"] + (
            f" ({'subclass of ' if match['kind'] == 'class' else ''}{match['type']})" if match["type"] else ""
        )
        how = f"{match['matched_on']} {match['matched_value']!r}" + (" (exact)" if match["exact"] else "")
        lines = [
            f"{match['name']}  {match['label']}",
            f"  IRI         {match['iri']}",
            f"  type        {kind}",
        ]
        if match["definition"]:
            lines.append(
                textwrap.fill(
                    match["definition"],
                    width=WIDTH,
                    initial_indent="  definition  ",
                    subsequent_indent=" " * 14,
                )
            )
        lines.append(f"  matched     {how}")
        if match["mappings"]:
            shown = "; ".join(f"{m['relation']} {m['curie']}" for m in match["mappings"])
            lines.append(
                textwrap.fill(shown, width=WIDTH, initial_indent="  mappings    ", subsequent_indent=" " * 14)
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
