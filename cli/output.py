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


EndpointOption = Annotated[
    str | None, typer.Option("--endpoint", metavar="URL", help="SPARQL 1.1 query URL of a server.")
]
UpdateUrlOption = Annotated[
    str | None,
    typer.Option("--update-url", metavar="URL", help="SPARQL 1.1 Update URL (default: the query URL)."),
]
GraphStoreUrlOption = Annotated[
    str | None,
    typer.Option(
        "--graph-store-url",
        metavar="URL",
        help="Graph Store Protocol URL, to upload files (default: INSERT DATA through the Update URL).",
    ),
]
GraphOption = Annotated[
    str | None,
    typer.Option(
        "--graph",
        metavar="IRI",
        help="With --endpoint: the named graph to read and write (uploads, updates, queries). "
        "Default: the server's default graph, which on Virtuoso is the union of all its graphs.",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0.001,
        help="With --endpoint: seconds to wait for one answer of the server (default 600).",
        show_default=False,
    ),
]
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        metavar="NAME",
        help="With --endpoint: the user to authenticate as (Basic or Digest); the password from "
        "CSFKG_ENDPOINT_PASSWORD or ~/.netrc. Without it, ~/.netrc is used if it names the host.",
        show_default=False,
    ),
]
"""The options that name a SPARQL endpoint and how to talk to it (``cohort``, ``query``,
``load``), read by :func:`csfkg.stores.opening.open_store`."""
