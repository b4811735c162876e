"""The SDK's mock runtime, driven the way the renderer drives it."""

from __future__ import annotations

import gc

from stackyard import mockrt


class TestProgramRun:
    def test_the_cyclic_collector_is_paused_while_the_program_runs_and_restored_after(self) -> None:
        seen: list[bool] = []
        was_enabled = gc.isenabled()
        try:
            for enabled in (True, False):
                (gc.enable if enabled else gc.disable)()
                mockrt.evaluate(lambda: seen.append(gc.isenabled()), project="p", stack="s", config={}, secret_keys=[])
                assert gc.isenabled() is enabled
        finally:
            (gc.enable if was_enabled else gc.disable)()
        assert seen == [False, False]
