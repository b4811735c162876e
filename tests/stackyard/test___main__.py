"""``python -m stackyard``: the command as a process, which exits with ``os._exit`` once it has flushed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from stackyard.cli import EXIT_BAD_INPUT
from tests.conftest import ROOT


class TestCommandProcess:
    def test_the_command_exits_2_on_bad_input_and_flushes_what_it_printed(self, project: Path) -> None:
        # Through `python -m stackyard`, which ends with os._exit: nothing buffered may be lost.
        stack_file = project / "Pulumi.dev.yaml"
        stack_file.write_text(stack_file.read_text().replace("replicas: 1", "replicas: -1", 1))
        out = project / "out"
        command = [
            sys.executable,
            "-m",
            "stackyard",
            "render",
            "--charts",
            "record",
            "dev",
            "--project",
            str(project),
            "--out",
            str(out),
        ]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == EXIT_BAD_INPUT
        assert "invalid stack configuration" in result.stderr
        preview = [
            sys.executable,
            "-m",
            "stackyard",
            "preview",
            "staging",
            "--charts",
            "record",
            "--project",
            str(project),
        ]
        result = subprocess.run(preview, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert re.search(r"│ total +│ +\d+ │", result.stdout)
        assert result.stdout.endswith("┘\n")  # the table's last line: the output was flushed whole
