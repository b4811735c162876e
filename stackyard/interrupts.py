"""Ctrl-C and SIGTERM: stop once, clean up undisturbed, never between two renames.

An interrupted render removes what it had half-written as the interruption unwinds (``finally``
blocks). A second signal during that cleanup would cut it short, and one between the two renames
that swap an export in would leave neither the old export nor the new one in place. So the first
signal raises :class:`Interrupted`, later ones are ignored, and :func:`deferred` holds signals
back for the few lines that must not be split.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The process received SIGINT or SIGTERM."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 plus the signal's number (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + self.signum


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
    """Hold SIGINT and SIGTERM back while the block runs; they are delivered right after it."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows has no signal masks: nothing to defer
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
