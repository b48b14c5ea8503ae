"""``csfkg validate``: SHACL validation of any data against any shapes (the packaged ones by
default), with a standard ``sh:ValidationReport``: exit 0 when no result is a violation, 1 when
one is, 2 when the shapes or the data are refused."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .output import OutputOption, emit


class ValidateFormat(str, Enum):
    text = "text"
    ttl = "ttl"
    json = "json"


def validate(
    data: Annotated[list[Path], typer.Argument(help="RDF files to validate (merged into one data graph).")],
    shapes: Annotated[
        Path | None,
        typer.Option(
            "--shapes", help="A SHACL shapes file (default: the packaged patient shapes).", show_default=False
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="compiled (the shapes as SPARQL in Oxigraph; pySHACL for the shapes the compiler does not translate) or pyshacl.",
        ),
    ] = "compiled",
    output_format: Annotated[
        ValidateFormat,
        typer.Option("--format", "-f", help="text, ttl (a standard sh:ValidationReport) or json."),
    ] = ValidateFormat.text,
    output: OutputOption = None,
) -> None:
    """Validate RDF data with SHACL shapes; exit 1 when a result is a violation."""
    from csfkg.io.patient_files import read_rdf_file
    from csfkg.model.errors import UsageError
    from csfkg.validation.general import ENGINES, validate_data

    if engine not in ENGINES:
        raise UsageError(f"--engine is compiled or pyshacl, not {engine!r}.")
    graph = read_rdf_file(data[0])
    for path in data[1:]:
        graph += read_rdf_file(path)
    if shapes is None:
        from csfkg.model.knowledge import rules_graph, shapes_graph

        shapes_graph_ = shapes_graph()
        graph += rules_graph()  # the class hierarchy and protocols the packaged shapes read
    else:
        shapes_graph_ = read_rdf_file(shapes, "a shapes file", "it holds no shape")
    report = validate_data(graph, shapes_graph_, engine)
    emit(_render(report, output_format.value), output)
    if report.violations:
        raise typer.Exit(code=1)


def _render(report, fmt: str) -> str:
    import json

    from rdflib.namespace import SH

    if fmt == "ttl":
        return report.graph.serialize(format="turtle")
    rows = []
    (node,) = report.graph.subjects(SH.conforms, None)
    for result in report.graph.objects(node, SH.result):
        value = report.graph.value(result, SH.value)
        path = report.graph.value(result, SH.resultPath)
        rows.append(
            {
                "focus": str(report.graph.value(result, SH.focusNode)),
                "path": None if path is None else str(path),
                "value": None if value is None else str(value),
                "shape": str(report.graph.value(result, SH.sourceShape)),
                "component": str(report.graph.value(result, SH.sourceConstraintComponent)).rsplit("#", 1)[-1],
                "severity": str(report.graph.value(result, SH.resultSeverity)).rsplit("#", 1)[-1],
                "message": str(report.graph.value(result, SH.resultMessage) or ""),
            }
        )
    rows.sort(
        key=lambda r: (r["severity"] != "Violation", r["focus"], r["component"], r["value"] or "", r["shape"])
    )
    if fmt == "json":
        return (
            json.dumps(
                {
                    "conforms": report.conforms,
                    "results": rows,
                    "compiled_shapes": report.compiled_shapes,
                    "fallback_shapes": report.fallback_shapes,
                },
                indent=2,
            )
            + "\n"
        )
    lines = [f"{r['severity']}: {r['focus']}: {r['message']}" for r in rows]
    summary = "conforms" if report.conforms else f"{report.results} results, {report.violations} violations"
    lines.append(
        f"{summary} ({report.compiled_shapes} shapes compiled, {len(report.fallback_shapes)} validated by pySHACL)"
    )
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    """Add ``csfkg validate`` to the application."""
    app.command(name="validate")(validate)
