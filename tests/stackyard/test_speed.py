"""The speed-ups and STACKYARD_NO_SPEEDUPS: the switch turns each one off, and the files stay the same."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import resource as sdk_resource

from stackyard import mockrt, speed
from tests.conftest import ROOT, STACKS

OFF = {speed.SWITCH: "1"}


def command_env(**extra: str) -> dict[str, str]:
    """This process's environment without the switch, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if key != speed.SWITCH}
    return env | extra


def tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def render(project: Path, stacks: tuple[str, ...], out: Path, env: dict[str, str]) -> None:
    command = [
        sys.executable,
        "-m",
        "stackyard",
        "render",
        "--charts",
        "record",
        *stacks,
        "--project",
        str(project),
        "--out",
        str(out),
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def switch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Speed-ups off for the test; the collector's state is restored after it."""
    monkeypatch.setenv(speed.SWITCH, "1")
    was_enabled = gc.isenabled()
    yield
    (gc.enable if was_enabled else gc.disable)()


@pytest.fixture
def speedups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Speed-ups on for the test, whatever the environment says; the collector's state is restored."""
    monkeypatch.delenv(speed.SWITCH, raising=False)
    was_enabled = gc.isenabled()
    yield
    (gc.enable if was_enabled else gc.disable)()


class TestSwitch:
    @pytest.mark.parametrize(("value", "on"), [(None, True), ("", True), ("0", True), ("1", False), ("yes", False)])
    def test_only_an_unset_empty_or_zero_switch_leaves_the_speedups_on(
        self, monkeypatch: pytest.MonkeyPatch, value: str | None, on: bool
    ) -> None:
        if value is None:
            monkeypatch.delenv(speed.SWITCH, raising=False)
        else:
            monkeypatch.setenv(speed.SWITCH, value)
        assert speed.enabled() is on


class TestCommand:
    @pytest.mark.usefixtures("speedups")
    def test_the_command_turns_the_collector_off(self) -> None:
        gc.enable()
        speed.start_command()
        assert not gc.isenabled()

    @pytest.mark.usefixtures("switch")
    def test_with_the_switch_the_collector_stays_on(self) -> None:
        gc.enable()
        speed.start_command()
        assert gc.isenabled()

    @pytest.mark.parametrize(("env", "stdout"), [({}, "flushed"), (OFF, "flushed, then the exit handlers ran\n")])
    def test_the_command_exits_at_once_unless_switched_off(self, env: dict[str, str], stdout: str) -> None:
        code = (
            "import atexit\nfrom stackyard import speed\n"
            "atexit.register(print, ', then the exit handlers ran')\n"
            "print('flushed', end='')\nspeed.end_command(3)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=command_env(**env), capture_output=True, text=True, check=False
        )
        assert (result.returncode, result.stdout, result.stderr) == (3, stdout, "")

    @pytest.mark.usefixtures("switch")
    def test_with_the_switch_the_command_exits_through_sys_exit(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def exit_at_once(code: int) -> None:
            raise AssertionError(f"os._exit({code}) called")  # rather than ending the test run

        monkeypatch.setattr(os, "_exit", exit_at_once)
        with pytest.raises(SystemExit) as exit_info:
            speed.end_command(2)
        assert exit_info.value.code == 2


class TestProgramRun:
    def observe(self) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def program() -> None:
            seen["collector"] = gc.isenabled()
            seen["stack trace hook"] = sdk_resource._get_stack_trace

        original = sdk_resource._get_stack_trace
        gc.enable()
        mockrt.evaluate(program, project="p", stack="s", config={}, secret_keys=[])
        assert gc.isenabled()
        assert sdk_resource._get_stack_trace is original
        seen["original"] = original
        return seen

    @pytest.mark.usefixtures("speedups")
    def test_a_program_runs_with_the_collector_paused_and_no_stack_traces(self) -> None:
        seen = self.observe()
        assert seen["collector"] is False
        assert seen["stack trace hook"] is not seen["original"]
        assert seen["stack trace hook"]().ByteSize() == 0  # an empty trace

    @pytest.mark.usefixtures("switch")
    def test_with_the_switch_a_program_runs_with_the_collector_on_and_the_sdk_untouched(self) -> None:
        seen = self.observe()
        assert seen["collector"] is True
        assert seen["stack trace hook"] is seen["original"]

    @pytest.mark.parametrize(("env", "freezes"), [({}, True), (OFF, False)])
    def test_objects_are_frozen_for_the_workers_unless_switched_off(
        self, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], freezes: bool
    ) -> None:
        monkeypatch.delenv(speed.SWITCH, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert gc.get_freeze_count() == 0
        with speed.shared_with_workers():
            assert (gc.get_freeze_count() > 0) is freezes
        assert gc.get_freeze_count() == 0


#: Written at the top of the program: what each stack's render saw, in a file per stack.
OBSERVER = """import gc
import json
import os
from pathlib import Path

import pulumi
from pulumi.runtime import resource as _sdk_resource

Path({folder!r}, pulumi.get_stack() + ".json").write_text(json.dumps({{
    "pid": os.getpid(),
    "collector": gc.isenabled(),
    "frozen": gc.get_freeze_count() > 0,
    "stack trace hook": _sdk_resource._get_stack_trace.__module__,
}}))
"""


class TestSeveralStacks:
    @pytest.mark.parametrize(("env", "forks"), [({}, True), (OFF, False)])
    def test_a_fresh_command_forks_a_worker_per_stack_unless_switched_off(
        self, env: dict[str, str], forks: bool
    ) -> None:
        code = "from stackyard import speed; print(speed.renders_in_workers())"
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=command_env(**env), capture_output=True, text=True, check=True
        )
        assert result.stdout == f"{forks}\n"

    @pytest.mark.parametrize(
        ("env", "expected"),
        [
            ({}, {"forked": True, "collector": False, "frozen": True, "stack trace hook": "stackyard.mockrt"}),
            (OFF, {"forked": False, "collector": True, "frozen": False, "stack trace hook": "pulumi.runtime.resource"}),
        ],
        ids=["speedups", "switched-off"],
    )
    def test_each_stack_renders_as_the_switch_says(
        self, tmp_path: Path, env: dict[str, str], expected: dict[str, Any]
    ) -> None:
        project = tmp_path / "project"
        shutil.copytree(
            ROOT, project, ignore=shutil.ignore_patterns(".venv*", "out", ".git", ".*_cache", "__pycache__", "tests")
        )
        seen = tmp_path / "seen"
        seen.mkdir()
        program = project / "__main__.py"
        program.write_text(program.read_text().replace("import pulumi\n", OBSERVER.format(folder=str(seen)), 1))
        stacks = ("dev", "staging")
        command = [
            sys.executable,
            "-m",
            "stackyard",
            "render",
            "--charts",
            "record",
            *stacks,
            "--project",
            str(project),
        ]
        process = subprocess.Popen(
            [*command, "--out", str(tmp_path / "out")],
            cwd=ROOT,
            env=command_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        for stack in stacks:
            observed = json.loads((seen / f"{stack}.json").read_text())
            forked = observed.pop("pid") != process.pid
            assert {"forked": forked, **observed} == expected, stack


class TestOutput:
    def test_every_stack_renders_the_same_bytes_with_and_without_the_speedups(self, tmp_path: Path) -> None:
        fast, plain = tmp_path / "fast", tmp_path / "plain"
        render(ROOT, STACKS, fast, command_env())
        render(ROOT, STACKS, plain, command_env(**OFF))
        assert sorted(path.name for path in fast.iterdir()) == sorted(STACKS)
        files = tree(fast)
        assert len([path for path in files if path.endswith(".yaml")]) > 100
        plain_files = tree(plain)
        assert plain_files.keys() == files.keys()
        for path, content in files.items():
            assert plain_files[path] == content, path
