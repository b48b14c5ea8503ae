"""The order rows are shown in: natural order of names, so that patient p2 comes before p10."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[tuple[int, int | str], ...], str]:
    """A sort key that orders the runs of digits in ``text`` by their value and the rest as text
    (``ex:p2`` before ``ex:p10``), then by the text itself, so that it is a total order: two
    names get the same key only when they are equal (``p01`` and ``p1`` differ)."""
    parts = tuple(
        (1, int(part)) if part.isdigit() else (0, part) for part in _DIGITS.split(str(text)) if part
    )
    return parts, str(text)
