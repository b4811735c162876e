"""Rendering several stacks at once: import the program's modules once, then a process per stack.

Importing pulumi_kubernetes and a program's components costs more than evaluating a small stack,
and the SDK's mock runtime is single-threaded. So the command imports what the program imports,
then forks one process per stack, each starting warm, evaluating its stack under its own mocks,
writing its export and sending back a summary before it exits.

A process per stack, rather than a few processes taking several stacks each, because:

- a stack's memory is gone when its process exits (inside one process, a finished stack's
  resources are reference cycles that only a full collection frees: 0.8 s at 200 apps);
- a process that dies takes only its own stack with it;
- stacks are whole units of work: three stacks on two cores in two processes take two
  stack-times, in three processes about one and a half.

At most one more process than cores runs at a time by default (``--jobs`` sets it), since each
holds a whole stack in memory.

Forking is a speed-up, and :mod:`stackyard.speed` decides it: with ``STACKYARD_NO_SPEEDUPS=1``, or
where forking is not safe, the stacks render one after another in the command's own process,
to the same files.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import traceback
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import pulumi

from . import interrupts, speed
from .chartsource import ChartOptions
from .manifests import SecretLeakError
from .project import ProjectError, load_stack
from .render import RenderError, evaluate_stack, write_rendering

__all__ = ["RenderOutcome", "default_processes", "render_stacks"]


@dataclass(frozen=True)
class RenderOutcome:
    """What one stack's render did, small enough to send back from a worker."""

    stack: str
    out_dir: Path
    project: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    records: int = 0
    expanded: int = 0
    """How many of the records were expanded into their objects."""
    placeholders: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    """Empty on success; otherwise the message to show."""
    error_kind: str = ""
    """``bad-input`` (arguments, files, config), ``program-failed`` (a secret leak) or ``crash``."""


def default_processes() -> int:
    """One more process than the cores this process may run on (see the module's docstring)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) + 1


def render_stacks(
    project_dir: Path,
    targets: dict[str, Path],
    processes: int | None = None,
    charts: ChartOptions | None = None,
) -> list[RenderOutcome]:
    """Render each stack to its folder, up to ``processes`` at a time. Outcomes in ``targets`` order.

    A stack whose process dies is reported as a crash; the others still render. If the command is
    interrupted (Ctrl-C, SIGTERM), the stacks' processes are interrupted too and waited for, so
    that each removes what it had half-written before the interruption goes on.
    """
    jobs = list(targets.items())
    if len(jobs) == 1:
        return [_render_one(project_dir, *jobs[0], charts)]
    # Warmed up first: should importing start a thread, forking is off (see speed.renders_in_workers).
    _warm_up(project_dir, jobs[0][0])
    if not speed.renders_in_workers():
        return list(_render_in_turn(project_dir, jobs, charts))
    with speed.shared_with_workers():
        outcomes = _render_forked(project_dir, jobs, min(len(jobs), processes or default_processes()), charts)
    order = {stack: index for index, (stack, _) in enumerate(jobs)}
    return sorted(outcomes, key=lambda outcome: order[outcome.stack])


def _render_forked(
    project_dir: Path, jobs: list[tuple[str, Path]], limit: int, charts: ChartOptions | None
) -> list[RenderOutcome]:
    waiting = deque(jobs)
    running: list[_Worker] = []
    outcomes: list[RenderOutcome] = []
    try:
        while waiting or running:
            while waiting and len(running) < limit:
                # Held back while forking: a worker forked but not yet recorded would escape the
                # interruption and outlive the command. (A signal the new worker itself gets before
                # it sets its own handlers is lost; the command interrupts it again, see _Worker.)
                with interrupts.deferred():
                    running.append(_start_worker(project_dir, *waiting.popleft(), charts))
            ready = multiprocessing.connection.wait([worker.results for worker in running])
            for worker in [worker for worker in running if worker.results in ready]:
                outcomes.append(worker.collect())
                running.remove(worker)
    except BaseException:
        for worker in running:
            worker.interrupt()
        raise
    return outcomes


def _render_in_turn(
    project_dir: Path, jobs: list[tuple[str, Path]], charts: ChartOptions | None
) -> Iterator[RenderOutcome]:
    """Render the stacks one after another in this process (no forking: see speed.renders_in_workers)."""
    for index, (stack, out_dir) in enumerate(jobs):
        if index:
            # The last stack's resources are garbage now, but mostly in reference cycles, which
            # only the collector frees (it may be off, see stackyard.speed).
            gc.collect()
        yield _render_one(project_dir, stack, out_dir, charts)


#: How long an interrupted worker may take to remove what it had half-written.
_INTERRUPT_GRACE_SECONDS = 10


@dataclass
class _Worker:
    """A forked process rendering one stack, and the pipe its outcome comes back on."""

    process: BaseProcess
    results: Connection
    stack: str
    out_dir: Path

    def collect(self) -> RenderOutcome:
        """The worker's outcome; if it died without sending one, a crash."""
        try:
            outcome: RenderOutcome = self.results.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            self.process.join()
            error = f"the render process exited with status {self.process.exitcode} before reporting"
            outcome = RenderOutcome(self.stack, self.out_dir, error=error, error_kind="crash")
        finally:
            self.results.close()
        self.process.join()
        return outcome

    def interrupt(self) -> None:
        """Interrupt the worker as Ctrl-C would, and wait while it cleans up; stop it if it will not."""
        if self.process.is_alive() and self.process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGINT)
            self.process.join(_INTERRUPT_GRACE_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _start_worker(project_dir: Path, stack: str, out_dir: Path, charts: ChartOptions | None) -> _Worker:
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(
        target=_render_in_worker, args=(project_dir, stack, out_dir, charts, sending), daemon=True
    )
    process.start()
    sending.close()
    return _Worker(process=process, results=receiving, stack=stack, out_dir=out_dir)


def _render_in_worker(
    project_dir: Path, stack: str, out_dir: Path, charts: ChartOptions | None, results: Connection
) -> None:
    interrupts.stop_once()
    try:
        results.send(_render_one(project_dir, stack, out_dir, charts))
        results.close()
    except KeyboardInterrupt as interruption:
        # Ctrl-C reaches every process of the group: the command says so once, workers stay quiet.
        speed.end_worker(interrupts.exit_code(interruption))
    speed.end_worker(0)


def _render_one(project_dir: Path, stack: str, out_dir: Path, charts: ChartOptions | None) -> RenderOutcome:
    try:
        rendering = evaluate_stack(project_dir, stack, charts=charts)
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
        expanded=len(rendering.expansions.by_urn),
        placeholders=list(inputs.placeholders),
        warnings=list(rendering.warnings),
    )


def _warm_up(project_dir: Path, stack: str) -> None:
    """Import the modules the program imports, so that every worker starts with them loaded.

    Programs keep import-time side effects out of their modules (config is read when the program
    runs), so importing them early changes nothing but when the cost is paid. A module that fails
    to import here is simply left to the workers, which report any error themselves.
    """
    try:
        main = load_stack(project_dir, stack).main
        modules = list(_imported_modules(main))
    except (ProjectError, SyntaxError, ValueError, OSError):
        return  # each stack's render reports it
    with _on_path(main.parent), speed.without_cyclic_gc():
        for module in modules:
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
