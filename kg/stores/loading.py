"""Loading RDF files into a store: the input checks of a patient file, for files of any size, and
a load into a persistent store folder that a crash cannot leave half done.

Checks. A file loaded into a store is untrusted input, as a patient file is
(:mod:`csfkg.io.patient_files`), and gets the same structural checks - but not the 4 MiB limit of a
patient file: a cohort of a million patients is some 5 GB of N-Triples, which Oxigraph's bulk
loader streams in bounded memory. So, before a parser sees a file,

- it must be a regular file (not a folder, a pipe or a device);
- RDF/XML is scanned, in bounded memory, for a DTD or entities that would reach outside the file
  or expand without bound (:func:`~csfkg.io.patient_files.check_rdf_xml_file`): Oxigraph's RDF/XML
  parser expands an entity-expansion bomb without limit;
- JSON-LD must carry its context inline (:func:`~csfkg.io.patient_files.check_jsonld_contexts`);
  the check reads the document whole, so a JSON-LD file may hold at most
  :data:`MAX_WHOLE_FILE_BYTES`;
- a file parsed by rdflib (for a SPARQL endpoint, unless it is N-Triples, or the rdflib store) is
  read whole too, at most :data:`MAX_WHOLE_FILE_BYTES`, and its IRIs are checked
  (:func:`~csfkg.io.patient_files.check_iris`); Oxigraph's parsers refuse such IRIs themselves.
  An N-Triples file goes to a SPARQL endpoint as it is, in chunks of lines, and the server's
  parser checks it (:meth:`csfkg.stores.endpoint_store.EndpointStore.upload_ntriples`).

Relative IRIs resolve against the file's own URI, as in a patient file.

Atomic load. Oxigraph's bulk loader is not transactional: killed in the middle, it leaves part of
the data in the store (``Store.load`` is transactional, but holds the whole file in memory). So
:func:`load_store_folder` never writes into the store folder ``DIR``:

1. it takes an exclusive lock (``flock`` on the file ``.DIR.lock`` beside ``DIR``; the system
   releases it when the process dies) and removes what a killed load left beside ``DIR``;
2. it copies the store into ``.DIR.loading`` beside it (``Store.backup``: a RocksDB checkpoint,
   hard links on the same file system, milliseconds whatever the size), holding ``DIR`` open so
   that no other process writes to it meanwhile;
3. it bulk-loads the files into the copy, flushes it to disk and closes it;
4. it swaps ``.DIR.loading`` and ``DIR`` in one atomic step (``renameat2(RENAME_EXCHANGE)`` on
   Linux, ``renamex_np(RENAME_SWAP)`` on macOS, a plain rename for a new store) and removes the
   old store, now at ``.DIR.loading``.

Killed at any moment, the load leaves ``DIR`` holding the old store or the new one, whole and
openable; a reader opening ``DIR`` sees one or the other. Where no atomic swap exists, step 4 is
two renames, and a load killed between them is rolled back (the old store renamed back into
place) by the next load.
"""

from __future__ import annotations

import errno
import gc
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rdflib import Graph

from csfkg.io.formats import LOAD_FILE_FORMATS, input_format
from csfkg.io.patient_files import check_iris, check_jsonld_contexts, check_rdf_xml_file, read_at_most
from csfkg.model.errors import InputError
from csfkg.stores.opening import store_in_use
from csfkg.stores.oxigraph_store import OxigraphStore
from csfkg.stores.protocol import Store

MAX_WHOLE_FILE_BYTES = 256 * 1024 * 1024
"""The largest file loaded that must be read whole: JSON-LD (its contexts are checked first) and
any file parsed by rdflib (for the rdflib store, or a SPARQL endpoint unless it is N-Triples). rdflib needs about ten
times a file's size in memory and takes some 20 s a hundred MB. N-Triples, N-Quads, Turtle and
RDF/XML going into Oxigraph have no size limit: the bulk loader streams them."""

Prepare = Callable[[Store], None]


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks, with its format."""

    path: Path
    format: str


def check_load_file(path: Path) -> CheckedFile:
    """The checks a file passes before it is loaded into a store (see the module docstring).

    Raises:
        InputError: the file is missing, not a regular file, unreadable, unsafe RDF/XML, JSON-LD
            with a context by reference or larger than :data:`MAX_WHOLE_FILE_BYTES`.
    """
    if not path.exists():
        raise InputError(f"File not found: {path}.")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not an RDF file.")
    if not path.is_file():
        raise InputError(f"{path} is not a regular file (a pipe or a device?); give an RDF file.")
    fmt = input_format(path, LOAD_FILE_FORMATS)
    if fmt == "xml":
        check_rdf_xml_file(path)
    elif fmt == "json-ld":
        check_jsonld_contexts(path, _read_whole(path))
    return CheckedFile(path=path, format=fmt)


def _read_whole(path: Path) -> str:
    raw = read_at_most(
        path,
        MAX_WHOLE_FILE_BYTES,
        "the limit for a file that is read whole (JSON-LD, or any file sent to a SPARQL endpoint); convert it to N-Triples or split it.",
    )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path} is not UTF-8 text (byte {error.start} cannot be read; is it a binary file?)."
        ) from None


def _sentence(path: Path, error: BaseException) -> str:
    return f"{path} is not valid RDF: {' '.join(str(error).split())[:200].rstrip('. ')}."


def load_files(store: Store, files: Sequence[Path]) -> int:
    """Add RDF files to a store, each checked first (:func:`check_load_file`): streamed by
    Oxigraph's bulk loader into an Oxigraph store, parsed by rdflib for the others. Returns the
    number of triples added.

    Every file is checked before any is loaded. Into an Oxigraph store the load is not atomic: a
    file that turns out to be malformed half-way leaves the files before it, and part of itself,
    in the store (:func:`load_store_folder` is atomic).

    Raises:
        InputError: a file fails a check or is not valid RDF.
    """
    checked = [check_load_file(Path(path)) for path in files]
    before = len(store)
    for item in checked:
        store.load_file(item.path, item.format)
    return len(store) - before


def parse_with_rdflib(path: Path, format: str) -> Graph:
    """A checked file parsed whole by rdflib (for a store other than Oxigraph), its IRIs checked.

    Raises:
        InputError: the file is larger than :data:`MAX_WHOLE_FILE_BYTES`, not UTF-8 or not valid RDF.
    """
    from csfkg.io.patient_files import rdflib_reading

    text = _read_whole(path)
    graph = Graph()
    try:
        with rdflib_reading():
            graph.parse(data=text, format=format, publicID=path.resolve().as_uri())
    except RecursionError:
        raise InputError(f"{path} is not valid RDF: it nests too deeply.") from None
    except Exception as error:  # every parser raises its own types; all mean bad syntax
        raise InputError(_sentence(path, error)) from None
    check_iris(path, graph)
    return graph


# ---------------------------------------------------------------------------------------
# the atomic load into a store folder
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FolderLoad:
    """What :func:`load_store_folder` did: triples added, triples in the store now."""

    added: int
    total: int


def load_store_folder(folder: Path, files: Sequence[Path], *, prepare: Prepare | None = None) -> FolderLoad:
    """Load ``files`` into the persistent Oxigraph store in ``folder`` (created if missing), all
    or nothing, even if the process is killed (see the module docstring). ``prepare`` runs on the
    new store before the files are loaded (``csfkg load`` adds the knowledge graph there).

    Raises:
        InputError: a file fails its checks or is not valid RDF; ``folder`` is a file or a folder
            holding something other than a store; the store is in use by another process, or
            another load into it is running; the folder cannot be written.
    """
    folder = Path(os.path.abspath(folder))
    if folder.is_symlink():
        folder = folder.resolve()
    checked = [check_load_file(Path(path)) for path in files]
    _check_store_folder(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"Cannot create the store {folder}: {error.strerror or error}.") from None
    copy, previous = _beside(folder, "loading"), _beside(folder, "previous")
    with _exclusive(folder):
        try:
            _recover(folder, copy, previous)
        except OSError as error:
            raise InputError(
                f"Cannot remove what a stopped load left beside the store {folder}: {_reason(error)}."
            ) from None
        _check_store_folder(folder)  # what recovery put back
        existing = folder.is_dir() and any(folder.iterdir())
        old = _open(folder) if existing else None
        new: OxigraphStore | None = None
        try:
            before = len(old) if old is not None else None
            if old is not None:
                old.backup(str(copy))
            new = OxigraphStore(str(copy))
            if prepare is not None:
                prepare(new)
            if before is None:  # a new store: what prepare added is not counted as loaded
                before = len(new)
            for item in checked:
                new.load_file(item.path, item.format)
            total = len(new)
            new.flush()
        except BaseException as error:
            # close both stores before the copy goes: drop these references, and those that
            # the frames of the functions that raised still hold
            new = old = None
            traceback.clear_frames(error.__traceback__)
            gc.collect()
            _remove_folder(copy)
            if isinstance(error, OSError):  # the copy, the flush: a full disk, a read-only folder
                raise InputError(f"Cannot load into the store {folder}: {_reason(error)}.") from None
            raise
        finally:
            new = old = None  # the last references: closing the stores, the one in the folder before the swap
        try:
            _swap(copy, folder, previous, existing=existing)
        except OSError as error:  # the folder keeps its store; the next load removes the copy
            raise InputError(f"Cannot put the new store in place of {folder}: {_reason(error)}.") from None
        _sync_folder(folder.parent)
        _remove_folder(copy)
    return FolderLoad(added=total - before, total=total)


def _reason(error: OSError) -> str:
    return error.strerror or " ".join(str(error).split())[:200].rstrip(". ")


def _beside(folder: Path, role: str) -> Path:
    return folder.with_name(f".{folder.name}.{role}")


def _check_store_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a store folder; give a folder for --store.")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "CURRENT").is_file():
        raise InputError(
            f"{folder} is a folder that is not a store made by csfkg load; give a new or empty folder for --store."
        )


def _open(folder: Path):
    import pyoxigraph

    try:
        return pyoxigraph.Store(str(folder))
    except OSError as error:
        in_use = store_in_use(folder, error)
        if in_use is not None:
            raise in_use from None
        detail = " ".join(str(error).split())
        raise InputError(f"Cannot open the store {folder}: {detail[:200].rstrip('. ')}.") from None


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One load at a time into ``folder``: ``flock`` on ``.NAME.lock`` beside it (released by the
    system if the process dies). Without ``fcntl`` (Windows) there is no lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path = _beside(folder, "lock")
    try:
        handle: IO[bytes] = open(path, "a+b")
    except OSError as error:
        raise InputError(f"Cannot write beside the store {folder}: {error.strerror or error}.") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(f"Another csfkg load is writing to {folder}; wait until it ends.") from None
        yield


def _recover(folder: Path, copy: Path, previous: Path) -> None:
    """Undo what a killed load left: its copy is removed; an old store set aside by the two-rename
    swap goes back into place if the new one never got there, else it is removed."""
    if previous.exists():
        if folder.exists():
            _remove_folder(previous)
        else:
            os.rename(previous, folder)
    if copy.exists() or copy.is_symlink():
        _remove_folder(copy)


def _swap(copy: Path, folder: Path, previous: Path, *, existing: bool) -> None:
    """Put ``copy`` in the place of ``folder`` in one step; the old store ends at ``copy``."""
    if not existing:
        os.replace(copy, folder)  # onto a missing or empty folder, rename is atomic
        return
    if _exchange(copy, folder):
        return
    os.rename(folder, previous)
    os.rename(copy, folder)
    os.rename(previous, copy)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders atomically; False where the system or the file system cannot."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover
        return False
    a, b = os.fsencode(first), os.fsencode(second)
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        libc.renameat2.argtypes = [
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_uint,
        ]
        result = libc.renameat2(at_fdcwd, a, at_fdcwd, b, rename_exchange)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):  # pragma: no cover
        rename_swap = 2
        libc.renamex_np.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
        result = libc.renamex_np(a, b, rename_swap)
    else:  # pragma: no cover
        return False
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (not needed to survive a killed process, only a power cut)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open a folder
        return
    try:
        os.fsync(handle)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(handle)


def _remove_folder(path: Path) -> None:
    def gone_already(function, name, info) -> None:
        if not issubclass(info[0], FileNotFoundError):
            raise info[1]

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=gone_already)
