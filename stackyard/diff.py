"""``stackyard diff``: what a fresh render would change in a previous export, object by object and field by field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .views import ExportView

__all__ = ["ExportDiff", "FieldChange", "diff_exports"]

_MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: its dotted path and the two values (``None`` when absent)."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ExportDiff:
    """Files added, removed and changed between two exports."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[FieldChange]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_exports(before: ExportView, after: ExportView) -> ExportDiff:
    """Compare two exports: manifests and chart records by path, then their fields.

    Secrets are compared as they are exported, so by redaction marker only.
    """
    old = {**before.manifests, **before.records}
    new = {**after.manifests, **after.records}
    changed = {
        path: changes
        for path in sorted(old.keys() & new.keys())
        if (changes := list(_field_changes(old[path], new[path])))
    }
    return ExportDiff(added=sorted(new.keys() - old.keys()), removed=sorted(old.keys() - new.keys()), changed=changed)


def _field_changes(before: Any, after: Any, path: str = "") -> Iterator[FieldChange]:
    """Every leaf-level difference between two parsed YAML documents."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys(), key=str):
            child = f"{path}.{key}" if path else str(key)
            yield from _field_changes(before.get(key, _MISSING), after.get(key, _MISSING), child)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from _field_changes(old, new, f"{path}[{index}]")
    elif before != after:
        yield FieldChange(path, None if before is _MISSING else before, None if after is _MISSING else after)
