"""Where the packaged knowledge lives: ontology, shapes and queries ship inside the wheel.

A test and development hook: when the environment variable ``CSFKG_ONTOLOGY_DIR`` names a
folder (a copy of ``ontology/``), the ontology files (:data:`ONTOLOGY_FILES`) and the mappings
are read from it instead of the packaged folder, so that a changed ontology (a new red-flag
class, say) can be tried without reinstalling. A process that already read the knowledge must
call :func:`forget_knowledge` after changing the variable. Shapes and queries are always the
packaged ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

ONTOLOGY_FILES: tuple[str, ...] = ("csfkg.ttl", "guideline.ttl", "article.ttl")
SHAPE_FILES: tuple[str, ...] = ("patient-shapes.ttl", "protocol-shapes.ttl", "safety-shapes.ttl")
ONTOLOGY_DIR_VARIABLE = "CSFKG_ONTOLOGY_DIR"
"""The environment variable of the hook described above."""


def ontology_dir() -> Traversable:
    """The packaged ``ontology/`` folder, or the folder ``$CSFKG_ONTOLOGY_DIR`` names."""
    override = os.environ.get(ONTOLOGY_DIR_VARIABLE)
    if override:
        return Path(override)
    return resources.files("csfkg.ontology")


Value = TypeVar("Value")
_CACHES: list[Any] = []


def knowledge_cache(function: Callable[[], Value]) -> Callable[[], Value]:
    """``functools.cache`` for a value read from the knowledge (the parsed graphs, the code
    lists, stores built from them), registered so that :func:`forget_knowledge` clears it."""
    cached = cache(function)
    _CACHES.append(cached)
    return cached


def forget_knowledge() -> None:
    """Drop every value cached with :func:`knowledge_cache`, so that the next call reads the
    files again (after ``CSFKG_ONTOLOGY_DIR`` changed)."""
    for cached in _CACHES:
        cached.cache_clear()


def shapes_dir() -> Traversable:
    """The packaged ``ontology/shapes/`` folder."""
    return resources.files("csfkg.ontology.shapes")


def queries_dir() -> Traversable:
    """The packaged ``queries/`` folder."""
    return resources.files("csfkg.queries")
