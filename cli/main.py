"""Entry point of the ``csfkg`` console script.

Exit codes, as pySHACL's: 0 a result was derived, 1 the data does not conform to a shape,
2 usage, input or runtime error (one sentence on stderr, never a traceback).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from . import check, cohort, docs, export, fhir, lookup, query, reason, serve, validate
from .output import OLD_FORMAT_NAMES
from .recommend import recommend

app = typer.Typer(
    name="csfkg",
    help="CSF leak after spinal procedures: block first or MRI first? OWL + SHACL + SPARQL decision support.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # the old spellings of format names (--format turtle, --format table) read as the new ones;
    # click applies this to option names and choice values only
    context_settings={"token_normalize_func": lambda token: OLD_FORMAT_NAMES.get(token, token)},
)
app.command(name="recommend")(recommend)
for _module in (query, lookup, reason, export, docs, check, cohort, validate, fhir, serve):
    _module.register(app)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("csfkg")
        except PackageNotFoundError:  # pragma: no cover - run from a source tree never installed
            number = "unknown (not installed)"
        typer.echo(f"csfkg {number}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="Print the version of csfkg and stop."
        ),
    ] = False,
) -> None:
    """csfkg: a clinical knowledge graph with a query interface."""


def _quiet_libraries() -> None:
    """Keep the libraries' own warnings off the terminal: rdflib warns for each literal it cannot
    read ("Parsing weird boolean, 'yes' does not map to True or False") and logs others. Python
    warnings are routed into logging, and logging, which has no handler of ours, goes nowhere
    (not to the "last resort" handler on stderr). What such a warning means for the user's input is
    said by our checks, in our words: the SHACL shapes report an ill-typed value, the IRI check a
    malformed IRI. CSFKG_DEBUG=1 lets them through."""
    if os.environ.get("CSFKG_DEBUG"):
        return
    logging.captureWarnings(True)
    logging.getLogger().addHandler(logging.NullHandler())


def run(argv: list[str] | None = None) -> int:
    """Run the command line; returns (and, as a script, exits with) the exit code."""
    from csfkg.model.errors import CsfkgError

    if argv is None:  # the console script; run() from a test leaves the test's logging alone
        _quiet_libraries()
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="csfkg", standalone_mode=False)
    except typer.Exit as exit_:
        code = exit_.exit_code
    except typer.Abort:
        typer.echo("csfkg: aborted.", err=True)
        code = 2
    except CsfkgError as error:
        typer.echo(f"csfkg: {error}", err=True)
        code = error.exit_code
    except KeyboardInterrupt:
        typer.echo("csfkg: interrupted.", err=True)
        code = 2
    except Exception as error:
        code = _usage_or_defect(error)
    code = int(code or 0)
    if argv is None:
        sys.exit(code)
    return code


def _usage_or_defect(error: Exception) -> int:
    """Typer's own usage errors (it vendors click, so they are matched by their interface), in one
    sentence naming the option or argument as the user types it; anything else is a defect, shown
    in one sentence unless CSFKG_DEBUG is set."""
    if type(error).__name__ == "NoArgsIsHelpError":
        ctx = getattr(error, "ctx", None)
        typer.echo(ctx.get_help() if ctx is not None else str(error))
        return 0
    if hasattr(error, "format_message") and hasattr(error, "exit_code"):
        typer.echo(f"csfkg: {_usage_sentence(error)}", err=True)
        return 2
    if os.environ.get("CSFKG_DEBUG"):
        raise error
    typer.echo(
        f"csfkg: internal error ({type(error).__name__}: {error}); set CSFKG_DEBUG=1 for details.", err=True
    )
    return 2


def _as_typed(param: object) -> str | None:
    """An option by its long name (``--format``), an argument by its metavar (``PATIENT.ttl``,
    ``brain|spine``): never the Python parameter's name."""
    if param is None:
        return None
    if getattr(param, "param_type_name", None) == "argument":
        metavar = getattr(param, "metavar", None)
        name = metavar or str(getattr(param, "name", "") or "").upper()
        return name.strip("[]").removesuffix("...")
    opts = list(getattr(param, "opts", []) or [])
    long = [opt for opt in opts if opt.startswith("--")]
    return (long or opts or [None])[0]


def _usage_sentence(error: Exception) -> str:
    """Click's message rewritten: "Missing argument TEXT.", "Invalid value for --format: 'xml' is
    not one of 'text', 'json', 'ttl'." (pydantic's "Value error, " prefix removed)."""
    param = getattr(error, "param", None)
    name = _as_typed(param)
    kind = type(error).__name__
    if name is not None and kind == "MissingParameter":
        what = "argument" if getattr(param, "param_type_name", None) == "argument" else "option"
        sentence = f"Missing {what} {name}."
        choices = getattr(param, "get_missing_message", lambda ctx: "")(getattr(error, "ctx", None))
        return " ".join(f"{sentence} {choices}".split()).rstrip() + ("" if not choices else ".")
    if name is not None and kind == "BadParameter":
        message = " ".join(str(getattr(error, "message", "")).split())
        message = message.removeprefix("Value error, ")
        if message.startswith("Input should be "):  # pydantic's: "..., unable to parse string as an integer"
            message = "it should be " + message.removeprefix("Input should be ").split(",")[0]
        return f"Invalid value for {name}: {message.rstrip('.')}."
    return " ".join(str(error.format_message()).split())  # type: ignore[attr-defined]


if __name__ == "__main__":
    run()
