"""What the commands share: the ``-o/--output`` option and writing to it or to standard output,
and the ``--today`` option.

Keep heavy imports (rdflib, pyshacl, owlready2, ...) inside the functions: every module here is
imported on each start of the console script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

OLD_FORMAT_NAMES: dict[str, str] = {"turtle": "ttl", "table": "text"}
"""The spellings format names had before there was one per format (``recommend --format
turtle``, ``query --format table``): still read on the command line as the names of
:mod:`csfkg.io.formats`, shown nowhere."""

OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to this file (atomically) instead of standard output.",
        show_default=False,
    ),
]

OldOutOption = Annotated[
    Path | None,
    typer.Option("--out", metavar="FILE", hidden=True, help="The old name of --output.", show_default=False),
]
"""``--out``, the old name of ``--output`` on ``synth`` and ``cohort``: accepted for one more release, not shown."""


TodayOption = Annotated[
    str | None,
    typer.Option(
        "--today",
        metavar="YYYY-MM-DD",
        help="Assessment date of every patient; default: each record's csf:assessmentDate, else today.",
    ),
]
"""``--today``, read with :func:`csfkg.io.flags.parse_date_option` (an impossible date says so)."""


def chosen_output(output: Path | None, old_out: Path | None) -> Path | None:
    """The output file given as ``-o/--output`` or as the hidden ``--out``.

    Raises:
        UsageError: both were given.
    """
    if output is not None and old_out is not None:
        from csfkg.model.errors import UsageError

        raise UsageError("Give the output file once, with -o/--output (--out is its old name).")
    return output if output is not None else old_out


def emit(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` atomically, or to standard output."""
    if output is None:
        typer.echo(text, nl=False)
    else:
        from csfkg.io.output import write_atomically

        write_atomically(output, text)
