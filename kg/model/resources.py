"""Where the packaged knowledge lives: ontology, shapes and queries ship inside the wheel."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

ONTOLOGY_FILES: tuple[str, ...] = ("csfkg.ttl", "guideline.ttl", "article.ttl")
SHAPE_FILES: tuple[str, ...] = ("patient-shapes.ttl", "protocol-shapes.ttl", "safety-shapes.ttl")


def ontology_dir() -> Traversable:
    """The packaged ``ontology/`` folder."""
    return resources.files("csfkg.ontology")


def shapes_dir() -> Traversable:
    """The packaged ``ontology/shapes/`` folder."""
    return resources.files("csfkg.ontology.shapes")


def queries_dir() -> Traversable:
    """The packaged ``queries/`` folder."""
    return resources.files("csfkg.queries")
