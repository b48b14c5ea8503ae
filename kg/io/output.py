"""Writing output files atomically: a failure leaves the previous file or nothing, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from csfkg.model.errors import InputError


def _readable(path: str) -> None:
    """Give a temporary file (created 0600) the permissions a new file would get (0666 - umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    Raises:
        InputError: the folder does not exist or cannot be written.
    """
    with atomic_stream(path) as stream:
        stream.write(text)


@contextmanager
def atomic_stream(path: Path) -> Iterator[TextIO]:
    """A text stream whose content replaces ``path`` only when the block ends without error.

    Raises:
        InputError: the folder does not exist or cannot be written.
    """
    folder = path.resolve().parent
    if not folder.is_dir():
        raise InputError(f"Cannot write {path}: the folder {folder} does not exist.")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise InputError(f"Cannot write {path}: {error.strerror}.") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", buffering=1 << 20) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        _readable(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
