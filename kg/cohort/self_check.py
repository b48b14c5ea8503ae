"""Before a cohort run on an engine that is not the reference (a SPARQL server, the SQL engine),
the same run on the packaged vignettes (``ontology/vignettes/``, each with the next step the
management algorithm gives it, ``manifest.toml``), in a store of that engine that holds nothing
else (a scratch graph of the server, a new SQL store): any next step that differs stops the run
with one sentence naming the engine, the vignette and the two answers. An engine that gets a
known case wrong is not trusted with unknown ones.

The vignettes are the clinical tests' own (tests/pipeline/test_vignettes.py checks that the
reference engine gives every expected next step), so the check compares with the algorithm as
specified, not with another engine's output."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Graph

from csfkg.cohort.run import PROTOCOL_READING, Reading, run_cohort
from csfkg.model.errors import CsfkgError
from csfkg.model.resources import ontology_dir
from csfkg.model.vocab import PATIENT
from csfkg.stores import Store

__all__ = ["EngineRefused", "Vignette", "packaged_vignettes", "self_check", "self_check_in_scratch_graph"]

FOLDER = "vignettes"


class EngineRefused(CsfkgError):
    """The engine's answer on a vignette is not the expected one: its results are not used."""


@dataclass(frozen=True)
class Vignette:
    name: str
    text: str
    """The vignette's Turtle."""
    expected_next_step: str
    expected_companions: tuple[str, ...] = ()
    """The codes of the companion recommendations, sorted."""


def packaged_vignettes() -> list[Vignette]:
    """The vignettes of the manifest whose files are packaged (the article's patient lives in
    ``examples/`` and is not)."""
    folder = ontology_dir().joinpath(FOLDER)
    manifest = tomllib.loads(folder.joinpath("manifest.toml").read_text(encoding="utf-8"))
    found = []
    for entry in manifest["vignette"]:
        name = entry["file"]
        if "/" in name:
            continue
        found.append(
            Vignette(
                entry["name"],
                folder.joinpath(name).read_text(encoding="utf-8"),
                entry["expected_next_step"],
                tuple(sorted(entry.get("expected_companions", ()))),
            )
        )
    return found


def _graph(vignettes: list[Vignette]) -> Graph:
    """The vignettes in one graph (each parsed on its own: their blank nodes stay apart), added
    to a store at once (a load costs a store more than its triples)."""
    from csfkg.io.patient_files import rdflib_reading

    graph = Graph()
    for vignette in vignettes:
        with rdflib_reading():
            graph += Graph().parse(data=vignette.text, format="turtle")
    return graph


def self_check(store: Store, engine: str, *, reading: Reading = PROTOCOL_READING) -> int:
    """Run the vignettes in ``store`` (which must hold nothing else; the caller discards it) as a
    cohort of this engine runs (``reading``), and compare each next step with the expected one.
    Returns how many vignettes were checked.

    Raises:
        EngineRefused: a vignette's next step is not the expected one (the first is named).
    """
    vignettes = packaged_vignettes()
    store.add_graph(_graph(vignettes))
    run = run_cohort(store, scratch=True, reading=reading)
    got = {row.patient: row for row in run.rows}
    for vignette in vignettes:
        row = got.get(str(PATIENT[vignette.name]))
        answer = None if row is None else row.next_step
        if answer != vignette.expected_next_step:
            shown = "no row" if answer is None else (answer or "no next step")
            raise EngineRefused(
                f"{engine} fails the self-check: vignette {vignette.name} gives {shown} where the "
                f"algorithm gives {vignette.expected_next_step}; its results are not used "
                "(--skip-self-check runs it anyway)."
            )
        companions = tuple(sorted(row.companions))  # type: ignore[union-attr]
        if companions != vignette.expected_companions:
            raise EngineRefused(
                f"{engine} fails the self-check: vignette {vignette.name} gives the companions "
                f"{', '.join(companions) or 'none'} where the algorithm gives "
                f"{', '.join(vignette.expected_companions) or 'none'}; its results are not used "
                "(--skip-self-check runs it anyway)."
            )
    return len(vignettes)


def self_check_in_scratch_graph(open_graph: Callable[[str], Store], engine: str) -> int:
    """:func:`self_check` on a SPARQL server, in a named graph of its own (a ``urn:uuid:`` IRI)
    that ``open_graph`` opens a store on, dropped afterwards whatever happens: the server's other
    graphs are neither read nor changed.

    Raises:
        EngineRefused: a vignette's next step is not the expected one.
    """
    import uuid

    scratch = f"urn:uuid:{uuid.uuid4()}"
    store = open_graph(scratch)
    try:
        return self_check(store, engine)
    finally:
        try:
            store.update(f"DROP SILENT GRAPH <{scratch}>")
        finally:
            store.close()
