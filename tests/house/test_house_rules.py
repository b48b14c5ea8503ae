"""The house rules that tools check, run with the tests so that one command checks everything:
ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade, unused noqa; the formatter's line
length) and import-linter (the layers of kg/, pyproject.toml's contract)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing() -> None:
    done = _run(sys.executable, "-m", "ruff", "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_is_as_ruff_formats_it() -> None:
    done = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_packages_import_one_way() -> None:
    # the one beside this Python first: another lint-imports on PATH (a pyenv shim) may import
    # another installed copy of csfkg and check that one
    beside = Path(sys.executable).parent / "lint-imports"
    linter = str(beside) if beside.exists() else shutil.which("lint-imports")
    if linter is None:  # pragma: no cover - the test extra installs it
        pytest.fail("lint-imports is missing: pip install '.[test]'")
    done = _run(linter)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
