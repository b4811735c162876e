"""What the command does only to be fast, decided in one place, with one switch to turn it all off.

A run of ``stackyard`` is short-lived, and nearly everything it allocates lives until it ends. So,
by default:

- Python's cyclic garbage collector is off for the whole command, and paused while a program runs
  (:func:`start_command`, :func:`program_run`);
- several stacks render in forked processes, one per stack, after the parent has frozen its
  objects so that no collection copies their pages into the workers (:func:`renders_in_workers`,
  :func:`shared_with_workers`);
- the SDK's per-resource stack-trace capture is skipped while a program runs
  (:func:`program_run`; the patch itself lives in :mod:`stackyard.mockrt`, with the SDK's other
  internals);
- the command and its workers exit without tearing the interpreter down (:func:`end_command`,
  :func:`end_worker`).

None of this changes what is rendered: every export is byte-identical either way, and a test
renders every stack both ways and compares the files. It does make a run harder to follow in a
debugger, a profiler or a memory tracer (a fork, a process that never runs its exit handlers), so
``STACKYARD_NO_SPEEDUPS=1`` turns all of it off: the collector stays on, nothing is frozen, stacks
render one after another in the command's own process, the SDK is left alone and the command exits
through :func:`sys.exit`. The switch is read each time a decision is made, never cached.
Measurements: bench/RESULTS.md.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import NoReturn

__all__ = [
    "SWITCH",
    "enabled",
    "end_command",
    "end_worker",
    "program_run",
    "renders_in_workers",
    "shared_with_workers",
    "start_command",
    "without_cyclic_gc",
]

#: The environment variable that turns every speed-up off when set to ``1``.
SWITCH = "STACKYARD_NO_SPEEDUPS"


def enabled() -> bool:
    """Whether the speed-ups apply: unless :data:`SWITCH` is set to anything but empty or ``0``.

    Any other value turns them off, so that ``true`` or ``yes`` does what it says rather than
    being silently ignored.
    """
    return os.environ.get(SWITCH, "") in ("", "0")


def start_command() -> None:
    """Turn the cyclic garbage collector off for the rest of the command (a speed-up).

    The command imports the modules of pulumi, pulumi_kubernetes and the program (a few hundred
    thousand objects), then builds each stack's resources, outputs and manifests, and nearly all
    of it lives until the command ends. The cyclic collector would rescan them again and again:
    measured, a sixth of the import time and half of a render at 200 apps. So it stays off;
    reference counting still frees everything else at once, and the few cycles left (asyncio
    futures and their callbacks) cost a few percent of the peak memory.
    """
    if enabled():
        gc.disable()


def end_command(code: int) -> NoReturn:
    """Exit the command with ``code``: at once (a speed-up), else through :func:`sys.exit`.

    Exiting at once skips the interpreter's teardown, which frees every object the run made and
    runs a last full collection: measured, about 0.5 s after rendering three stacks of 50 apps, a
    fifth of the whole command. Nothing is lost by skipping it: every file is written and closed
    by then, the worker processes have been joined, and what is still buffered (logging, stdout,
    stderr) is flushed first.
    """
    if enabled():
        _exit_at_once(code)
    sys.exit(code)


def end_worker(code: int) -> NoReturn:
    """End a forked worker with ``code`` at once, whatever the switch says.

    Workers exist only when the speed-ups are on (see :func:`renders_in_workers`). A forked child
    must not run the exit handlers and finalizers it inherited from the command, and it has nothing
    of its own to tear down: its outcome is sent and its files are closed.
    """
    _exit_at_once(code)


def _exit_at_once(code: int) -> NoReturn:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            # Output was lost (a full disk, a closed pipe as with ``| head``): exit as Python does then.
            code = code or 120
    os._exit(code)


def renders_in_workers() -> bool:
    """Whether several stacks render in forked processes (a speed-up), or one after another here.

    Importing pulumi_kubernetes and a program's components costs more than evaluating a small
    stack, and the SDK's mock runtime is single-threaded: forking after the imports lets every
    stack start warm and use its own core. Even with the speed-ups on, a process that runs other
    threads (an earlier render's executor, a test runner's) renders in turn: forking it can copy a
    lock in its held state into the child, which then hangs.
    """
    return enabled() and "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


@contextmanager
def shared_with_workers() -> Iterator[None]:
    """Freeze the command's objects while workers are forked from it (a speed-up), then unfreeze them.

    Frozen, the modules' objects are never touched by a collection in any process, so their pages
    stay shared with the forked processes instead of being copied into each.
    """
    if not enabled():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def program_run(skip_source_positions: Callable[[], AbstractContextManager[None]]) -> Iterator[None]:
    """Surround one evaluation of a program with the speed-ups, or with nothing.

    ``skip_source_positions`` is the SDK patch (:func:`stackyard.mockrt.without_source_positions`),
    applied only with the speed-ups on, like :func:`without_cyclic_gc`. The trace it skips only
    feeds the engine's diagnostics (where in the program a resource was made); capturing it costs
    about a quarter of each registration, and nothing reads it offline.
    """
    if not enabled():
        yield
        return
    with skip_source_positions(), without_cyclic_gc():
        yield


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while the block runs (a speed-up), then restore its state.

    A program run allocates hundreds of thousands of objects that live until it ends (typed args,
    outputs, futures), and the collector rescans them all each time its thresholds trip: measured,
    half of the run at 200 apps. Reference counting still frees everything else at once; the few
    cycles left (asyncio futures and their callbacks) wait for the next collection after the run.
    With the speed-ups off, the collector is left as it is.
    """
    if not enabled():
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
