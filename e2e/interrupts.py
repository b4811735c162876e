"""SIGTERM handled like Ctrl-C, so that every ``finally`` that cleans up runs for both."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """For the duration, SIGTERM raises ``KeyboardInterrupt``; the previous handler is restored after."""
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
