"""The engine tier's fixtures: every stack through preview, up, preview and destroy on the real engine.

One cycle per stack runs once per session, step by step; the tests then assert on what each step
did. A step that fails raises with the command and its output, so the tier fails loudly at the
step that broke.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e import parity
from e2e.engine import (
    Result,
    Toolchain,
    Workspace,
    canary,
    change_summary,
    secure_keys,
    toolchain,
    workspace,
)
from stackyard.inputs import load_yaml
from stackyard.render import evaluate_stack, write_rendering
from tests.conftest import STACKS
from tests.once import Once


@pytest.fixture(scope="session")
def tools() -> Toolchain:
    """Our engine toolchain, built once (or found in the cache)."""
    return toolchain()


#: The stack whose cycle writes every intermediate checkpoint, as the CLI does by default. The others
#: skip them (see ``Workspace.prepare``).
CHECKPOINTED_STACK = "dev"


def prepared(ws: Workspace, stack: str, **options: Any) -> Workspace:
    """The stack in ``ws``, ready to run (see ``Workspace.prepare``)."""
    ws.prepare(stack, **options)
    return ws


@dataclass
class StackCycle:
    """What each step of one stack's engine cycle produced."""

    stack: str
    root: Path
    preview: Result
    up: Result
    second_preview: Result
    destroy: Result
    provider_render: dict[str, Any]
    """The provider's render after ``up``, by path."""
    stackyard_render: dict[str, Any]
    """``stackyard render`` of the same program and config (with the same secret values), by path."""
    stackyard_text: str
    stackyard_records_by_path: dict[str, dict[str, Any]]
    """stackyard's records of the charts and remote files, from the same render, by path (``charts/…``)."""
    stackyard_index: dict[str, Any]
    """That render's index.json: each file's URN and origin."""
    provider_text: dict[str, str]
    state_after_up: list[dict[str, Any]]
    state_after_destroy: list[dict[str, Any]]
    render_files_after_destroy: list[str]
    backend_text: str
    """Every file of the backend after ``up``: the encrypted state."""

    @property
    def stackyard_records(self) -> list[dict[str, Any]]:
        return list(self.stackyard_records_by_path.values())

    @property
    def comparison(self) -> parity.Comparison:
        return parity.compare(self.stackyard_render, self.provider_render)

    @property
    def preview_summary(self) -> dict[str, int]:
        return change_summary(self.preview.stdout)

    @property
    def second_preview_summary(self) -> dict[str, int]:
        return change_summary(self.second_preview.stdout)


def _texts(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*")) if path.is_file()}


def run_cycle(tools: Toolchain, stack: str, scratch: Path) -> StackCycle:
    with workspace(tools) as ws:
        prepared(ws, stack, checkpoints=stack == CHECKPOINTED_STACK)
        preview = ws.pulumi("preview", "--stack", stack, "--json")
        up = ws.pulumi("up", "--yes", "--stack", stack)
        provider_render = parity.read_tree(ws.render)
        provider_text = _texts(ws.render)
        backend_text = "".join(_texts(ws.backend).values())
        state_after_up = ws.stack_resources(stack)
        second = ws.pulumi("preview", "--stack", stack, "--json", "--expect-no-changes")
        secrets = {f"stackyard:{key}": canary(stack, key) for key in secure_keys(stack)}
        ours = scratch / stack
        write_rendering(evaluate_stack(ws.project, stack, secrets), ours)
        destroy = ws.pulumi("destroy", "--yes", "--stack", stack)
        state_after_destroy = ws.stack_resources(stack)
        leftover = sorted(str(p.relative_to(ws.render)) for p in ws.render.rglob("*") if p.is_file())
        return StackCycle(
            stack=stack,
            root=ws.root,
            preview=preview,
            up=up,
            second_preview=second,
            destroy=destroy,
            provider_render=provider_render,
            stackyard_render=parity.read_tree(ours),
            stackyard_text="".join(_texts(ours).values()),
            stackyard_records_by_path={
                str(p.relative_to(ours)): load_yaml(p) for p in sorted((ours / "charts").glob("*.yaml"))
            },
            stackyard_index=json.loads((ours / "index.json").read_text()),
            provider_text=provider_text,
            state_after_up=state_after_up,
            state_after_destroy=state_after_destroy,
            render_files_after_destroy=leftover,
            backend_text=backend_text,
        )


@pytest.fixture(scope="session")
def cycles(tools: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, StackCycle]]:
    """Each stack's cycle, run lazily and once."""
    scratch = tmp_path_factory.mktemp("stackyard-renders")
    yield Once(lambda stack: run_cycle(tools, stack, scratch))
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(params=STACKS)
def cycle(request: pytest.FixtureRequest, cycles: dict[str, StackCycle]) -> StackCycle:
    """One stack's cycle (parametrized over every stack)."""
    return cycles[str(request.param)]
