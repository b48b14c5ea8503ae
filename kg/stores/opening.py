"""The store a command names: a persistent Oxigraph folder made by ``csfkg load``, a SPARQL 1.1
endpoint, or a new in-memory Oxigraph store."""

from __future__ import annotations

from pathlib import Path

from csfkg.model.errors import InputError, UsageError
from csfkg.stores.endpoint_store import DEFAULT_TIMEOUT, EndpointStore
from csfkg.stores.oxigraph_store import OxigraphStore
from csfkg.stores.protocol import Store

_LOCK_HELD = ("lock hold by", "no locks available", "resource temporarily unavailable")
"""How RocksDB says that another process (or this one) has the store open: "lock hold by current
process", "While lock file: DIR/LOCK: Resource temporarily unavailable", "No locks available"."""


def store_in_use(folder: Path, error: OSError) -> InputError | None:
    """The sentence for a store whose lock another process holds, or None for any other error."""
    detail = " ".join(str(error).split())
    if not any(words in detail.lower() for words in _LOCK_HELD):
        return None
    return InputError(
        f"The store {folder} is in use by another process (a csfkg cohort or load, or a server, "
        "has it open); wait for it to finish."
    )


def check_endpoint_options(endpoint: str | None, **options: object) -> None:
    """Options of an endpoint (``graph``, ``user``, ``update_url``, ...) come with one.

    Raises:
        UsageError: one of ``options`` is set and ``endpoint`` is not.
    """
    given = [name for name, value in options.items() if value is not None]
    if endpoint is None and given:
        shown = ", ".join("--" + name.replace("_", "-") for name in given)
        raise UsageError(f"{shown} go with --endpoint URL.")


def open_store(
    *,
    store_dir: Path | None = None,
    endpoint: str | None = None,
    update_url: str | None = None,
    graph_store_url: str | None = None,
    graph: str | None = None,
    timeout: float | None = None,
    user: str | None = None,
) -> Store:
    """The store a cohort command works on: a persistent Oxigraph folder, an endpoint, or a new
    in-memory Oxigraph store. On an endpoint, ``graph`` is the named graph that every query,
    update and upload uses (without it, the server's default graph: on Virtuoso the union of all
    its graphs), ``timeout`` the seconds to wait for an answer (default
    :data:`~csfkg.stores.endpoint_store.DEFAULT_TIMEOUT`), ``user`` the user to authenticate
    as (the password from ``CSFKG_ENDPOINT_PASSWORD`` or ``~/.netrc``; see
    :class:`~csfkg.stores.endpoint_store.EndpointStore`).

    Raises:
        InputError: ``store_dir`` is not a store made by ``csfkg load``, another process has it
            open, or it cannot be opened; an endpoint URL carries credentials, ``graph`` is not
            an IRI, ``user`` has no password.
        UsageError: ``graph``, ``user`` or ``update_url``/``graph_store_url`` without ``endpoint``.
    """
    check_endpoint_options(
        endpoint,
        graph=graph,
        user=user,
        timeout=timeout,
        update_url=update_url,
        graph_store_url=graph_store_url,
    )
    if endpoint:
        return EndpointStore(
            endpoint,
            update_url=update_url,
            store_url=graph_store_url,
            graph=graph,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            user=user,
        )
    if store_dir is not None:
        # opening a folder that is not a store would create one there: an empty store (every
        # cohort "done", no row) from a mistyped path
        if not store_dir.is_dir():
            raise InputError(f"No store at {store_dir}: make one with `csfkg load FILE --store {store_dir}`.")
        if not (store_dir / "CURRENT").is_file():
            raise InputError(
                f"{store_dir} is not a store made by `csfkg load` (no RocksDB CURRENT file in it)."
            )
        try:
            return OxigraphStore(str(store_dir))
        except OSError as error:
            in_use = store_in_use(store_dir, error)
            if in_use is not None:
                raise in_use from None
            detail = " ".join(str(error).split())[:200].rstrip(". ")
            raise InputError(f"Cannot open the store {store_dir}: {detail}.") from None
    return OxigraphStore()
