"""Fixtures shared by the tooling's tests: a private copy of the project, and a folder's bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: What a copy of the project leaves out: virtualenvs (symlinks whose targets copytree would copy
#: whole), exports, git data, caches, and the tests themselves.
_NOT_COPIED = shutil.ignore_patterns(".venv*", "out", ".git", ".*_cache", "__pycache__", "tests", "audit")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of the project, so tests can break its files."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=_NOT_COPIED)
    return copy


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by its relative path, with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}
