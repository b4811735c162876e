"""Golden files: reviewed outputs of the code, compared in tests and regenerated only on purpose.

Run the tests with ``STACKYARD_UPDATE_GOLDEN=1`` to rewrite them, then review the diff before
committing: a changed golden file is a deliberate, visible change of contract.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

UPDATE = os.environ.get("STACKYARD_UPDATE_GOLDEN") == "1"


def check_golden(path: Path, actual: str) -> None:
    """Assert ``actual`` equals the golden file, or rewrite it when updating on purpose."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        pytest.skip(f"rewrote {path}; review and commit it")
    assert path.is_file(), f"{path} is missing; run the tests with STACKYARD_UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} differs from the code; if the change is deliberate, regenerate it"
