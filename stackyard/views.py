"""One way to look at an export, whether it was just rendered or read back from a folder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .chartsource import ChartOptions
from .export import INDEX_FILE
from .inputs import EXPORT_LIMIT, InputError, load_yaml
from .render import RenderError, Rendering, evaluate_stack

__all__ = [
    "MANIFEST_FOLDERS",
    "RECORD_FOLDER",
    "ExportView",
    "from_directory",
    "from_rendering",
    "is_export_dir",
    "resolve",
]

MANIFEST_FOLDERS = ("0-crd", "1-manifest")
RECORD_FOLDER = "charts"


@dataclass(frozen=True)
class ExportView:
    """Objects and chart records by their path in the export."""

    label: str
    manifests: dict[str, dict[str, Any]]
    records: dict[str, dict[str, Any]]

    def bodies(self) -> list[dict[str, Any]]:
        return [self.manifests[path] for path in sorted(self.manifests)]


def from_rendering(rendering: Rendering) -> ExportView:
    """The view of a fresh render."""
    return ExportView(
        label=f"{rendering.inputs.project}/{rendering.inputs.stack}",
        manifests={m.path: m.body for m in rendering.manifests},
        records={r.path: r.body for r in rendering.records},
    )


def is_export_dir(target: str) -> bool:
    """Whether ``target`` names a folder holding an export (rather than a stack)."""
    path = Path(target)
    return path.is_dir() and (
        (path / INDEX_FILE).is_file() or any((path / folder).is_dir() for folder in MANIFEST_FOLDERS)
    )


def from_directory(directory: Path) -> ExportView:
    """The view of an export on disk."""
    if not directory.is_dir():
        raise RenderError(f"{directory}: no such export folder")
    manifests = {
        str(path.relative_to(directory)): _load(path)
        for folder in MANIFEST_FOLDERS
        for path in sorted((directory / folder).glob("*.yaml"))
    }
    records = {
        str(path.relative_to(directory)): _load(path) for path in sorted((directory / RECORD_FOLDER).glob("*.yaml"))
    }
    if not manifests and not records:
        raise RenderError(f"{directory}: holds no manifests (expected {' or '.join(MANIFEST_FOLDERS)}/*.yaml)")
    return ExportView(label=str(directory), manifests=manifests, records=records)


def resolve(
    target: str,
    project_dir: Path,
    secrets: Mapping[str, str] | None = None,
    charts: ChartOptions | None = None,
) -> ExportView:
    """A folder holding an export, or a stack of the project to render in memory."""
    if is_export_dir(target):
        return from_directory(Path(target))
    return from_rendering(evaluate_stack(project_dir, target, secrets, charts))


def _load(path: Path) -> dict[str, Any]:
    try:
        document = load_yaml(path, EXPORT_LIMIT)
    except InputError as error:
        raise RenderError(str(error)) from None
    if not isinstance(document, dict):
        raise RenderError(f"{path}: expected one object")
    return document
