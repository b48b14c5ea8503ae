"""Cutting a large N-Triples patient file into parts that hold whole patient records, so that
parts can be loaded, validated and derived independently (and on several cores).

A part starts at a line that types an IRI as ``csf:Patient``; the file is cut only there, near
evenly spaced byte offsets, without reading the whole file. Whether every record really lies
within one part (the file is *grouped by patient*, as ``csfkg synth`` and typical exports write
it) is checked on each loaded part by ``queries/cohort-part-closure.rq``: a subject that no
patient of its part reaches means a record was split, and the run stops with one sentence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from csfkg.model.vocab import CSF, STANDARD_PREFIXES

PATIENT_TYPE_LINE_END = f"<{STANDARD_PREFIXES['rdf']}type> <{CSF.Patient}> .".encode()
LINE_FORMATS = {".nt"}
"""Line-based formats whose files can be cut between lines."""


@dataclass(frozen=True)
class FilePart:
    """Bytes ``start`` (inclusive) to ``end`` (exclusive) of ``path``."""

    path: Path
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start

    def read(self) -> bytes:
        with open(self.path, "rb") as stream:
            stream.seek(self.start)
            return stream.read(self.size)


def can_split(path: Path) -> bool:
    return path.suffix.lower() in LINE_FORMATS


def _is_patient_line(line: bytes) -> bool:
    return line.startswith(b"<") and line.rstrip().endswith(PATIENT_TYPE_LINE_END)


def _next_patient_line(stream, offset: int, end: int) -> int:
    """The offset of the first patient-typing line that starts at or after ``offset``, or
    ``end`` when there is none."""
    stream.seek(offset)
    if offset > 0:
        stream.seek(offset - 1)
        if stream.read(1) != b"\n":
            stream.readline()  # finish the line ``offset`` falls in
    position = stream.tell()
    while position < end:
        line = stream.readline()
        if not line:
            return end
        if _is_patient_line(line):
            return position
        position += len(line)
    return end


def split_file(path: Path, part_bytes: int) -> list[FilePart]:
    """Cut ``path`` into parts of about ``part_bytes`` bytes, each starting at a patient line
    (the first part starts at byte 0, whatever comes before the first patient)."""
    size = os.path.getsize(path)
    if size == 0:
        return [FilePart(path, 0, 0)]
    cuts = [0]
    with open(path, "rb") as stream:
        target = part_bytes
        while target < size:
            cut = _next_patient_line(stream, max(target, cuts[-1] + 1), size)
            if cut >= size:
                break
            cuts.append(cut)
            target = cut + part_bytes
    cuts.append(size)
    return [FilePart(path, a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
