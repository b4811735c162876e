"""The offline render: run a Pulumi program under the SDK's mocks and write what it registers."""

from __future__ import annotations

import os
import runpy
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import export, interrupts, mockrt
from .chartsource import ChartOptions
from .expansion import ExpansionError, Expansions, expand_all
from .inputs import InputError, load_json
from .manifests import Manifest, dump, is_manifest, secret_values, to_manifest
from .project import StackInputs, load_stack
from .records import Record, is_recorded, to_record

__all__ = ["EXPORT_MARKER", "RenderError", "Rendering", "check_output_dir", "evaluate_stack", "write_rendering"]

#: Written into every export, so that only a folder we wrote is ever replaced wholesale.
EXPORT_MARKER = ".stackyard-export"


class RenderError(Exception):
    """The render could not complete; nothing was written."""


@dataclass(frozen=True)
class Rendering:
    """The outcome of evaluating one stack."""

    inputs: StackInputs
    registrations: list[mockrt.Registration]
    manifests: list[Manifest]
    """Every object of the export: the program's, then those its charts and remote files bring."""
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    expansions: Expansions = field(default_factory=Expansions)
    charts: ChartOptions = field(default_factory=ChartOptions)

    def counts(self) -> Counter[str]:
        """How many objects of each kind were rendered."""
        return Counter(manifest.kind for manifest in self.manifests)

    def files(self) -> dict[str, str]:
        """Relative path → text of every file of the export, in a stable order.

        Manifests and chart records, then ``kustomization.yaml`` listing the manifests and
        ``index.json`` describing everything else.
        """
        files = {manifest.path: manifest.exported_text for manifest in self.manifests}
        files.update({record.path: dump(record.body) for record in self.records})
        files[export.KUSTOMIZATION_FILE] = export.kustomization([m.path for m in self.manifests])
        document = export.index(self.inputs, self.manifests, self.records, files)
        files[export.INDEX_FILE] = export.index_text(document)
        return dict(sorted(files.items()))


def evaluate_stack(
    project_dir: Path,
    stack: str,
    secrets: Mapping[str, str] | None = None,
    charts: ChartOptions | None = None,
) -> Rendering:
    """Run the project's program for ``stack`` under mocks and collect its manifests.

    ``charts`` says how its charts and remote files are treated (default: expanded, see
    :class:`~stackyard.chartsource.ChartOptions`).
    """
    charts = charts or ChartOptions()
    inputs = load_stack(project_dir, stack, secrets)
    with _program_context(inputs):
        run = mockrt.evaluate(
            lambda: runpy.run_path(str(inputs.main), run_name="__main__"),
            project=inputs.project,
            stack=inputs.stack,
            config=inputs.config,
            secret_keys=inputs.secret_keys,
        )
    if run.errors:
        raise RenderError("the program logged errors:\n" + "\n".join(f"  - {error}" for error in run.errors))
    known_secrets = secret_values(run.registrations) | {inputs.config[key] for key in inputs.secret_keys}
    manifests = [to_manifest(r, known_secrets) for r in run.registrations if is_manifest(r)]
    try:
        expansions = expand_all(run.registrations, charts, known_secrets)
    except ExpansionError as error:
        raise RenderError(str(error)) from None
    records = [
        to_record(r, expansions.by_urn[r.urn].expanded if r.urn in expansions.by_urn else None)
        for r in run.registrations
        if is_recorded(r)
    ]
    manifests += expansions.manifests()
    _check_unique_paths([*manifests, *records])
    warnings = list(run.warnings) + [f"recorded, not expanded: {why}" for why in expansions.recorded.values()]
    return Rendering(
        inputs=inputs,
        registrations=run.registrations,
        manifests=manifests,
        records=records,
        warnings=warnings,
        expansions=expansions,
        charts=charts,
    )


def write_rendering(rendering: Rendering, out_dir: Path) -> dict[str, str]:
    """Write the export to ``out_dir`` atomically: a failure leaves any previous export untouched."""
    files = rendering.files()
    out_dir = out_dir.resolve()
    check_output_dir(out_dir, (rendering.inputs.project, rendering.inputs.stack))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        # mkdtemp makes the folder private (0700); the export is for others to read, like any folder.
        staging.chmod(0o777 & ~_umask())
        for relative, text in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        (staging / EXPORT_MARKER).write_text(
            f"Rendered by stackyard from {rendering.inputs.project}/{rendering.inputs.stack}. "
            "This folder is replaced as a whole on every render.\n",
            encoding="utf-8",
        )
        _swap_in(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return files


def check_output_dir(out_dir: Path, identity: tuple[str, str] | None = None) -> None:
    """Refuse to replace anything but a missing folder, an empty one, or an earlier export of the same stack.

    ``identity`` is the (project, stack) about to be written; an export of another stack is kept,
    so that rendering dev can never silently replace the prod export.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise RenderError(f"--out {out_dir}: exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / EXPORT_MARKER).is_file():
        raise RenderError(
            f"--out {out_dir}: is a non-empty folder that stackyard did not write (no {EXPORT_MARKER}); "
            "the render replaces its output folder as a whole, so choose a new or empty folder"
        )
    previous = _export_identity(out_dir)
    if identity is not None and previous is not None and previous != identity:
        raise RenderError(
            f"--out {out_dir}: holds the export of {'/'.join(previous)}, which rendering {'/'.join(identity)} "
            "would replace; choose another folder, or remove it first"
        )


def _export_identity(out_dir: Path) -> tuple[str, str] | None:
    try:
        index = load_json(out_dir / export.INDEX_FILE)
        return str(index["project"]), str(index["stack"])
    except (InputError, KeyError, TypeError):
        return None


def _umask() -> int:
    current = os.umask(0o022)  # the only way to read it is to set it, so set it back at once
    os.umask(current)
    return current


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging`` with renames, so readers never see a half-written export."""
    previous = out_dir.with_name(f".{out_dir.name}.previous")
    if previous.exists():
        shutil.rmtree(previous)
    with interrupts.deferred():  # never between the two renames: that would leave no export at all
        if out_dir.exists():
            out_dir.rename(previous)
        try:
            staging.rename(out_dir)
        except OSError:
            if previous.exists():
                previous.rename(out_dir)
            raise
    if previous.exists():
        shutil.rmtree(previous)


def _check_unique_paths(outputs: list[Manifest | Record]) -> None:
    seen: dict[str, str] = {}
    for output in outputs:
        if output.path in seen:
            raise RenderError(f"two resources render to {output.path}: {seen[output.path]} and {output.urn}")
        seen[output.path] = output.urn


@contextmanager
def _program_context(inputs: StackInputs) -> Iterator[None]:
    """Run as the CLI does: from the project folder, with it first on ``sys.path``."""
    previous_cwd, previous_path = Path.cwd(), list(sys.path)
    os.chdir(inputs.directory)
    sys.path.insert(0, str(inputs.directory))
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        sys.path[:] = previous_path
