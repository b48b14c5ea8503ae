"""Entry point of the ``csfkg`` console script.

Exit codes, as pySHACL's: 0 a result was derived, 1 the data does not conform to a shape,
2 usage, input or runtime error (one sentence on stderr, never a traceback).
"""

from __future__ import annotations

import os
import sys

import click
import typer

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


@app.callback()
def _main() -> None:
    """csfkg: a clinical knowledge graph with a query interface."""


def run(argv: list[str] | None = None) -> int:
    """Run the command line; returns (and, as a script, exits with) the exit code."""
    from csfkg.errors import CsfkgError

    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="csfkg", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help() if error.ctx else str(error))
        code = 0
    except click.exceptions.Exit as exit_:
        code = exit_.exit_code
    except click.exceptions.Abort:
        click.echo("csfkg: aborted.", err=True)
        code = 2
    except click.ClickException as error:
        click.echo(f"csfkg: {error.format_message()}", err=True)
        code = 2
    except CsfkgError as error:
        click.echo(f"csfkg: {error}", err=True)
        code = error.exit_code
    except KeyboardInterrupt:
        click.echo("csfkg: interrupted.", err=True)
        code = 2
    except Exception as error:  # a defect: say so in one sentence, keep the traceback for debugging
        if os.environ.get("CSFKG_DEBUG"):
            raise
        click.echo(f"csfkg: internal error ({type(error).__name__}: {error}); set CSFKG_DEBUG=1 for details.", err=True)
        code = 2
    code = int(code or 0)
    if __name__ == "__main__" or argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":
    run()
