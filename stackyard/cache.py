"""Stackyard's cache folder, outside every repository: downloaded charts, expansions, built tools."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_root", "write_atomically"]

#: Names the cache folder explicitly.
CACHE_ENV = "STACKYARD_CACHE"


def cache_root() -> Path:
    """``$STACKYARD_CACHE``, else ``$XDG_CACHE_HOME/stackyard``, else ``~/.cache/stackyard``."""
    if explicit := os.environ.get(CACHE_ENV):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stackyard"


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed over it.

    A reader (another render, running at the same time) sees the old file or the new one, never a
    part; a write that fails or is interrupted leaves no file that looks finished.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
