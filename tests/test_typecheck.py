"""A strict type check against the real pulumi and pulumi-kubernetes hints: our stand-in for the engine.

One mypy run covers the project and a canary file of deliberately mistyped calls, so the same run
proves both that the code is clean and that the checker really sees the SDK's types.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

CANARY = """
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.meta.v1 as meta
from components import AppArgs

apps.DeploymentSpecArgs(replicas="three", selector=meta.LabelSelectorArgs(), template={})  # line 6
AppArgs(namespace="shop", name="api", image="x/api:1", replicas="three")  # line 7
"""


def test_the_project_passes_mypy_strict_and_mistyped_sdk_calls_are_caught(tmp_path: Path) -> None:
    canary = tmp_path / "canary_mistyped.py"
    canary.write_text(CANARY)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "components", "stacks", "stackyard", "policy", "__main__.py", str(canary)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if re.search(r":\d+: error:", line)]
    # Matched by file name, not path: mypy's cache may report the canary under an earlier tmp path.
    outside_canary = [line for line in errors if f"{canary.name}:" not in line]
    assert outside_canary == []
    flagged_lines = {int(line.split(f"{canary.name}:")[1].split(":")[0]) for line in errors}
    assert flagged_lines == {6, 7}, result.stdout
