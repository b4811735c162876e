"""Rendering several stacks at once: import the program's modules once, then one process per stack.

Importing pulumi_kubernetes and a program's components costs more than evaluating a small stack,
and the SDK's mock runtime is single-threaded. So the parent imports what the program imports,
forks one worker per stack (up to one more than the number of cores) and renders the first share
itself; each process starts warm, evaluates its stacks under its own mocks and writes their
exports. Workers send back only a summary.

Why one more process than cores: stacks are whole units of work. Three stacks on two cores in two
processes take two stack-times (one process renders two); in three processes the cores are shared
and all three finish after about one and a half.
"""

from __future__ import annotations

import ast
import gc
import importlib
import multiprocessing
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import pulumi

from .manifests import SecretLeakError
from .mockrt import without_cyclic_gc
from .project import ProjectError, load_stack
from .render import RenderError, evaluate_stack, write_rendering


@dataclass(frozen=True)
class RenderOutcome:
    """What one stack's render did, small enough to send back from a worker."""

    stack: str
    out_dir: Path
    project: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    records: int = 0
    placeholders: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    """Empty on success; otherwise the message to show."""
    error_kind: str = ""
    """``bad-input`` (arguments, files, config), ``program-failed`` (a secret leak) or ``crash``."""


def render_stacks(project_dir: Path, targets: dict[str, Path]) -> list[RenderOutcome]:
    """Render each stack to its folder; several stacks in parallel processes. Outcomes in ``targets`` order."""
    jobs = list(targets.items())
    if len(jobs) == 1 or not _can_fork():
        return [_render_one(project_dir, stack, out_dir) for stack, out_dir in jobs]
    _warm_up(project_dir, jobs[0][0])
    own_share, *worker_shares = _shares(jobs, min(len(jobs), (os.cpu_count() or 1) + 1))
    # Objects that exist before the fork are frozen: no collection in any process touches them, so
    # their pages stay shared instead of being copied into every worker.
    gc.freeze()
    try:
        workers = [_start_worker(project_dir, share) for share in worker_shares]
        outcomes = [_render_one(project_dir, stack, out_dir) for stack, out_dir in own_share]
        for worker in workers:
            outcomes.extend(worker.collect())
    finally:
        gc.unfreeze()
    order = {stack: index for index, (stack, _) in enumerate(jobs)}
    return sorted(outcomes, key=lambda outcome: order[outcome.stack])


def _shares(jobs: list[tuple[str, Path]], processes: int) -> list[list[tuple[str, Path]]]:
    """Deal the stacks round-robin into ``processes`` shares."""
    return [jobs[index::processes] for index in range(processes)]


@dataclass
class _Worker:
    """A forked process rendering a share of the stacks, and the pipe its outcomes come back on."""

    process: BaseProcess
    results: Connection
    share: list[tuple[str, Path]]

    def collect(self) -> list[RenderOutcome]:
        """Wait for the worker's outcomes; a worker that died without sending them crashed each of its stacks."""
        try:
            outcomes: list[RenderOutcome] = self.results.recv()
        except EOFError:
            self.process.join()
            error = f"the render process exited with status {self.process.exitcode} before reporting"
            return [RenderOutcome(stack, out_dir, error=error, error_kind="crash") for stack, out_dir in self.share]
        finally:
            self.results.close()
        self.process.join()
        return outcomes


def _start_worker(project_dir: Path, share: list[tuple[str, Path]]) -> _Worker:
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_render_share, args=(project_dir, share, sending), daemon=True)
    process.start()
    sending.close()
    return _Worker(process=process, results=receiving, share=share)


def _render_share(project_dir: Path, share: list[tuple[str, Path]], results: Connection) -> None:
    try:
        outcomes = [_render_one(project_dir, stack, out_dir) for stack, out_dir in share]
    except KeyboardInterrupt:
        # Ctrl-C reaches every process of the group: the parent says so once, workers stay quiet.
        os._exit(130)
    results.send(outcomes)
    results.close()


def _render_one(project_dir: Path, stack: str, out_dir: Path) -> RenderOutcome:
    try:
        rendering = evaluate_stack(project_dir, stack)
        write_rendering(rendering, out_dir)
    except (ProjectError, pulumi.RunError, RenderError) as error:
        return RenderOutcome(stack=stack, out_dir=out_dir, error=str(error), error_kind="bad-input")
    except SecretLeakError as error:
        return RenderOutcome(stack=stack, out_dir=out_dir, error=str(error), error_kind="program-failed")
    except Exception:
        return RenderOutcome(stack=stack, out_dir=out_dir, error=traceback.format_exc(), error_kind="crash")
    inputs = rendering.inputs
    return RenderOutcome(
        stack=stack,
        out_dir=out_dir,
        project=inputs.project,
        counts=dict(rendering.counts()),
        records=len(rendering.records),
        placeholders=list(inputs.placeholders),
        warnings=list(rendering.warnings),
    )


def _can_fork() -> bool:
    # Forking a process that runs other threads (an earlier render's executor, a test runner's)
    # can copy a lock in its held state into the child, which then hangs. Fork only when alone.
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _warm_up(project_dir: Path, stack: str) -> None:
    """Import the modules the program imports, so that every worker starts with them loaded.

    Programs keep import-time side effects out of their modules (config is read when the program
    runs), so importing them early changes nothing but when the cost is paid. A module that fails
    to import here is simply left to the workers, which report any error themselves.
    """
    try:
        main = load_stack(project_dir, stack).main
    except ProjectError:
        return
    with _on_path(main.parent), without_cyclic_gc():
        for module in _imported_modules(main):
            try:
                importlib.import_module(module)
            except Exception:
                continue


def _imported_modules(main: Path) -> Iterator[str]:
    tree = ast.parse(main.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@contextmanager
def _on_path(directory: Path) -> Iterator[None]:
    previous = list(sys.path)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path[:] = previous
