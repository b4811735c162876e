"""Ctrl-C and SIGTERM: stop once, clean up undisturbed, never between two renames.

An interrupted render removes what it had half-written as the interruption unwinds (``finally``
blocks). A second signal during that cleanup would cut it short, and one between the two renames
that swap an export in would leave neither the old export nor the new one in place. So the first
signal raises :class:`Interrupted`, later ones are ignored, and :func:`deferred` holds signals
back for the few lines that must not be split.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["Interrupted", "deferred", "exit_code", "stop_once"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The process received SIGINT or SIGTERM."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(interruption: KeyboardInterrupt) -> int:
    """The shell's convention: 128 plus the signal's number (130 for Ctrl-C, 143 for SIGTERM)."""
    signum = interruption.signum if isinstance(interruption, Interrupted) else signal.SIGINT
    return 128 + signum


def stop_once() -> None:
    """From now on, the first SIGINT or SIGTERM raises :class:`Interrupted`, and later ones are ignored."""
    for signum in _SIGNALS:
        signal.signal(signum, _raise_once)


def _raise_once(signum: int, _frame: FrameType | None) -> None:
    for other in _SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the block runs; one that came is acted on right after it.

    Done with Python-level handlers, not a signal mask: a mask covers only the calling thread,
    and the kernel hands a signal to any thread not masking it (the SDK leaves executor threads
    behind), while Python runs every handler in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers, and only it runs them
        return
    caught: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, _frame: caught.append(signum)) for signum in _SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            first = signal.Signals(caught[0])
            _act_on(first, previous[first])


def _act_on(signum: int, handler: Callable[[int, FrameType | None], Any] | int | None) -> None:
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)
