"""The named SPARQL queries of ``queries/``: one query per .rq file, with a grlc-style header.

A header is the leading block of ``#+ key: value`` comment lines; a line ``#+   more`` continues
the previous key. Keys used: ``summary``, ``description``, ``stage`` (derivation order for
``derive-*.rq``), ``params`` and ``example``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from csfkg.model.errors import UsageError
from csfkg.model.resources import queries_dir
from csfkg.model.vocab import CSFQ

_HEADER_LINE = re.compile(r"^#\+\s?(?:(?P<key>[a-z_]+):\s?)?(?P<value>.*)$")


@dataclass(frozen=True)
class NamedQuery:
    """One query file: its name (file name without ``.rq``), text and header fields."""

    name: str
    text: str
    header: dict[str, str] = field(default_factory=dict)

    @property
    def iri(self) -> str:
        """The stable IRI of the query, used in provenance (``prov:wasGeneratedBy``)."""
        return str(CSFQ[self.name])

    @property
    def summary(self) -> str:
        return self.header.get("summary", "")

    @property
    def stage(self) -> int:
        """Derivation stage; queries of a lower stage run first."""
        return int(self.header.get("stage", "0"))


def parse_header(text: str) -> dict[str, str]:
    """Read the ``#+ key: value`` header of a query text."""
    header: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("#+"):
            break
        match = _HEADER_LINE.match(line)
        if match is None:
            continue
        key, value = match.group("key"), match.group("value").strip()
        if key is not None and not line.startswith("#+ "):
            key = None
        if key is None and last is not None:
            header[last] = f"{header[last]} {value}".strip()
        elif key is not None:
            header[key] = value
            last = key
    return header


@cache
def all_queries() -> dict[str, NamedQuery]:
    """Every packaged query, by name."""
    found: dict[str, NamedQuery] = {}
    for entry in queries_dir().iterdir():
        if entry.name.endswith(".rq"):
            text = entry.read_text(encoding="utf-8")
            name = entry.name[: -len(".rq")]
            found[name] = NamedQuery(name=name, text=text, header=parse_header(text))
    return dict(sorted(found.items()))


def get_query(name: str) -> NamedQuery:
    """The packaged query called ``name``.

    Raises:
        UsageError: no query has that name.
    """
    try:
        return all_queries()[name]
    except KeyError:
        raise UsageError(f"There is no query named {name!r}; `csfkg query --list` shows them.") from None


def derivation_queries() -> list[NamedQuery]:
    """The ``derive-*`` queries in the order they run: by stage, then by name."""
    derive = [q for q in all_queries().values() if q.name.startswith("derive-")]
    return sorted(derive, key=lambda q: (q.stage, q.name))
