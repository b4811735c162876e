"""Ctrl-C and SIGTERM: the first stops the command, later ones wait, and none splits the export's swap."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from stackyard import interrupts


@pytest.fixture
def handlers() -> Iterator[None]:
    """Give back SIGINT's and SIGTERM's handlers as they were, whatever the test set."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


class TestExitCodes:
    def test_the_exit_code_is_128_plus_the_signal_number(self) -> None:
        assert interrupts.exit_code(interrupts.Interrupted(signal.SIGTERM)) == 143
        assert interrupts.exit_code(interrupts.Interrupted(signal.SIGINT)) == 130

    def test_a_plain_keyboard_interrupt_counts_as_ctrl_c(self) -> None:
        assert interrupts.exit_code(KeyboardInterrupt()) == 130


@pytest.mark.usefixtures("handlers")
class TestStopOnce:
    def test_the_first_signal_interrupts_and_later_ones_are_ignored(self) -> None:
        interrupts.stop_once()
        with pytest.raises(interrupts.Interrupted) as caught:
            signal.raise_signal(signal.SIGTERM)
        assert caught.value.signum == signal.SIGTERM
        assert str(caught.value) == "SIGTERM"
        signal.raise_signal(signal.SIGINT)  # would raise KeyboardInterrupt if it were not ignored now
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN


@pytest.mark.usefixtures("handlers")
class TestDeferred:
    def test_a_signal_inside_the_block_is_acted_on_once_the_block_is_done(self) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        finished = []

        def block() -> None:
            with interrupts.deferred():
                signal.raise_signal(signal.SIGINT)
                finished.append("the rest of the block")

        with pytest.raises(KeyboardInterrupt):
            block()
        assert finished == ["the rest of the block"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def test_only_the_first_of_several_signals_is_acted_on(self) -> None:
        received: list[int] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda number, _frame: received.append(number))
        with interrupts.deferred():
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGINT)
            assert received == []
        assert received == [signal.SIGTERM]

    def test_a_block_without_signals_leaves_the_handlers_as_they_were(self) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with interrupts.deferred():
            pass
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
