"""The SDK's mock runtime, driven the way the renderer drives it."""

from __future__ import annotations

import gc
import os

import pulumi
import pytest

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


class TestConfig:
    def test_the_program_lists_its_config_through_the_sdks_public_environment_as_under_the_cli(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PULUMI_CONFIG", '{"outer:key": "before"}')
        monkeypatch.delenv("PULUMI_CONFIG_SECRET_KEYS", raising=False)
        seen: list[object] = []

        def program() -> None:
            seen.append(pulumi.runtime.get_config_env())
            seen.append(pulumi.runtime.get_config_secret_keys_env())
            seen.append(pulumi.Config("p").get("name"))

        config = {"p:name": "shop", "p:token": "t0ken"}
        mockrt.evaluate(program, project="p", stack="s", config=config, secret_keys=["p:token"])
        assert seen == [config, ["p:token"], "shop"]
        assert os.environ["PULUMI_CONFIG"] == '{"outer:key": "before"}'
        assert "PULUMI_CONFIG_SECRET_KEYS" not in os.environ
