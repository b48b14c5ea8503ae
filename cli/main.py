"""Entry point of the ``csfkg`` console script.

Exit codes, as pySHACL's: 0 a result was derived, 1 the data does not conform to a shape,
2 usage, input or runtime error (one sentence on stderr, never a traceback).
"""

from __future__ import annotations

import os
import sys

import typer

from . import check, cohort, docs, export, lookup, query, reason
from .recommend import recommend

app = typer.Typer(
    name="csfkg",
    help="CSF leak after spinal procedures: block first or MRI first? OWL + SHACL + SPARQL decision support.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command(name="recommend")(recommend)
for _module in (query, lookup, reason, export, docs, check, cohort):
    _module.register(app)


@app.callback()
def _main() -> None:
    """csfkg: a clinical knowledge graph with a query interface."""


def run(argv: list[str] | None = None) -> int:
    """Run the command line; returns (and, as a script, exits with) the exit code."""
    from csfkg.model.errors import CsfkgError

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
    """Typer's own usage errors (it vendors click, so they are matched by their interface);
    anything else is a defect, shown in one sentence unless CSFKG_DEBUG is set."""
    if type(error).__name__ == "NoArgsIsHelpError":
        ctx = getattr(error, "ctx", None)
        typer.echo(ctx.get_help() if ctx is not None else str(error))
        return 0
    if hasattr(error, "format_message") and hasattr(error, "exit_code"):
        message = " ".join(str(error.format_message()).split())
        param = getattr(error, "param", None)
        name = getattr(param, "opts", None)
        if name and name[0] not in message:
            message = f"{name[0]}: {message}"
        typer.echo(f"csfkg: {message}", err=True)
        return 2
    if os.environ.get("CSFKG_DEBUG"):
        raise error
    typer.echo(
        f"csfkg: internal error ({type(error).__name__}: {error}); set CSFKG_DEBUG=1 for details.", err=True
    )
    return 2


if __name__ == "__main__":
    run()
