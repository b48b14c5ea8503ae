"""Every IRI the Python code names is in kg/vocab.py (house style: one vocabulary module), so
that a namespace changes in one place. Docstrings, help text and web addresses that are not
vocabularies (a script's CDN, the URL schemes a check looks for) are not IRIs of the graph."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_VOCABULARY = {
    "http://",
    "https://",
}
"""Strings that name a URL scheme, not a vocabulary."""


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))
    return found


def _iris_outside_vocab(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        if path.name in ("vocab.py", "namespaces.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, (str, bytes))
                and id(node) not in skip
            ):
                text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
                for iri in re.findall(r"https?://[^\s\"'<>]*", text):
                    iri = iri.rstrip(".,;:)")
                    if iri in NOT_VOCABULARY or "cdn.jsdelivr.net" in iri:
                        continue
                    found.append(
                        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{node.lineno}: {iri}"
                    )
    return found


def test_the_code_names_iris_only_in_the_vocabulary_module() -> None:
    modules = sorted([*ROOT.glob("kg/**/*.py"), *ROOT.glob("cli/*.py")])
    assert len(modules) > 40  # every subpackage of kg/ (the glob once read only kg/*.py)
    assert _iris_outside_vocab(modules) == []


def test_the_check_finds_an_iri_written_outside_the_vocabulary_module(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        '"""A docstring may say https://w3id.org/csfkg/ontology."""\nX = f"<https://w3id.org/csfkg/ontology#{1}>"\n',
        encoding="utf-8",
    )
    assert _iris_outside_vocab([module]) == ["module.py:2: https://w3id.org/csfkg/ontology#"]
