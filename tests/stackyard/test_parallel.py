"""Rendering several stacks at once: a process per stack, each failure its own, interruptions clean."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from stackyard.cli import EXIT_BAD_INPUT, main
from tests.conftest import ROOT, STACKS
from tests.stackyard.conftest import tree


def _prepend_to_program(project: Path, prologue: str) -> None:
    """Put ``prologue`` (which imports pulumi itself) at the top of the project's program."""
    main_file = project / "__main__.py"
    main_file.write_text(main_file.read_text().replace("import pulumi\n", prologue))


class TestSeveralStacks:
    def test_rendering_several_stacks_at_once_gives_the_files_of_one_at_a_time(self, tmp_path: Path) -> None:
        # A process of its own: the parallel path forks only where no other thread runs, unlike here.
        together = tmp_path / "together"
        command = [sys.executable, "-m", "stackyard", "render", "--charts", "record", *STACKS, "--out", str(together)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        for stack in STACKS:
            assert f"objects of stackyard/{stack} to {together / stack}" in out
            alone = tmp_path / f"alone-{stack}"
            assert main(["render", "--charts", "record", stack, "--project", str(ROOT), "--out", str(alone)]) == 0
            assert tree(together / stack) == tree(alone)

    def test_one_job_renders_several_stacks_one_after_another(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        assert (
            main(
                [
                    "render",
                    "--charts",
                    "record",
                    "dev",
                    "staging",
                    "--jobs",
                    "1",
                    "--project",
                    str(ROOT),
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        assert (out / "dev" / "index.json").is_file()
        assert (out / "staging" / "index.json").is_file()

    def test_a_render_process_that_dies_loses_only_its_own_stack(self, project: Path, tmp_path: Path) -> None:
        # Not an exception the program raises (those are reported like a single render's) but a
        # process gone without a word, as after a segfault or the OOM killer. Five stacks, two
        # processes at a time: qa's dies, the stacks before and after it still render.
        for extra in ("qa", "uat"):
            shutil.copy(project / "Pulumi.dev.yaml", project / f"Pulumi.{extra}.yaml")
        stacks = [*STACKS, "qa", "uat"]
        prologue = "import os\n\nimport pulumi\n\nif pulumi.get_stack() == 'qa':\n    os._exit(7)\n"
        _prepend_to_program(project, prologue)
        out = tmp_path / "out"
        command = [
            sys.executable,
            "-m",
            "stackyard",
            "render",
            "--charts",
            "record",
            *stacks,
            "--jobs",
            "2",
            "--project",
            str(project),
        ]
        result = subprocess.run([*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 1, result.stderr
        assert "qa: the render process exited with status 7 before reporting" in " ".join(result.stderr.split())
        assert not (out / "qa").exists()
        for stack in set(stacks) - {"qa"}:
            assert (out / stack / "index.json").is_file()
            assert f"objects of stackyard/{stack} to" in result.stdout

    def test_a_program_that_does_not_parse_is_reported_for_each_stack(self, project: Path, tmp_path: Path) -> None:
        (project / "__main__.py").write_text("import pulumi\n\ndef main(:\n")
        out = tmp_path / "out"
        command = [
            sys.executable,
            "-m",
            "stackyard",
            "render",
            "--charts",
            "record",
            "dev",
            "staging",
            "--project",
            str(project),
        ]
        result = subprocess.run([*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 1
        assert result.stderr.startswith("error: dev: ")
        assert "error: staging: " in result.stderr
        assert result.stderr.count("SyntaxError") == 2
        assert not out.exists()

    @pytest.mark.parametrize(
        ("signal_number", "to_group", "exit_code"),
        [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)],
        ids=["ctrl-c-to-the-whole-group", "sigterm-to-the-command-alone"],
    )
    def test_an_interrupted_render_stops_every_process_quietly_and_writes_nothing(
        self, project: Path, tmp_path: Path, signal_number: int, to_group: bool, exit_code: int
    ) -> None:
        started = tmp_path / "started"
        started.mkdir()
        # Each stack's program says it has started, then waits to be interrupted.
        prologue = (
            "import time\nfrom pathlib import Path\n\nimport pulumi\n\n"
            f"Path({str(started)!r}, pulumi.get_stack()).touch()\ntime.sleep(60)\n"
        )
        _prepend_to_program(project, prologue)
        out = tmp_path / "out"
        command = [
            sys.executable,
            "-m",
            "stackyard",
            "render",
            "--charts",
            "record",
            *STACKS,
            "--project",
            str(project),
            "--out",
            str(out),
        ]
        process = psutil.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while len(list(started.iterdir())) < len(STACKS) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(path.name for path in started.iterdir()) == sorted(STACKS)
        workers = process.children()
        assert len(workers) == len(STACKS)  # a process per stack, each waiting in its program
        if to_group:
            os.killpg(process.pid, signal_number)  # what a terminal's Ctrl-C does
        else:
            process.send_signal(signal_number)  # what a CI runner's cancel or `timeout` does
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == exit_code
        assert stderr == "stackyard: interrupted\n"
        assert not [worker for worker in workers if worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE]
        assert not out.exists()
        assert not [path for path in tmp_path.iterdir() if path.name.startswith(".out.")]

    def test_a_failing_stack_fails_the_run_and_the_others_still_render(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stack_file = project / "Pulumi.staging.yaml"
        stack_file.write_text(stack_file.read_text().replace("replicas: 2", "replicas: -2", 1))
        out = tmp_path / "out"
        assert (
            main(["render", "--charts", "record", "dev", "staging", "--project", str(project), "--out", str(out)])
            == EXIT_BAD_INPUT
        )
        assert "staging: invalid stack configuration" in capsys.readouterr().err
        assert (out / "dev" / "index.json").is_file()
        assert not (out / "staging").exists()
