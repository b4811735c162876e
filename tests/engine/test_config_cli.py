"""Config through the Pulumi CLI: structured values, --path edits and secrets reach the program as they should."""

from __future__ import annotations

import subprocess
import sys

from e2e.engine import REPO, Toolchain, workspace
from tests.engine.conftest import prepared


def _problems(text: str) -> list[str]:
    return sorted({line.strip().removeprefix("- ") for line in text.splitlines() if "stackyard:apps[0].port" in line})


def test_a_bad_value_set_through_the_cli_fails_preview_with_the_renderers_key_path_message(tools: Toolchain) -> None:
    with workspace(tools) as ws:
        prepared(ws, "dev")
        ws.pulumi("config", "set", "--path", "--stack", "dev", "stackyard:apps[0].port", "70000", "--type", "int")
        preview = ws.pulumi("preview", "--stack", "dev", check=False)
        render = subprocess.run(
            [
                sys.executable,
                "-m",
                "stackyard",
                "render",
                "dev",
                "--project",
                str(ws.project),
                "--out",
                str(ws.root / "o"),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
    assert preview.returncode != 0
    assert render.returncode == 2
    expected = ["stackyard:apps[0].port: 70000 is not allowed: must be a port number from 1 to 65535"]
    assert _problems(render.stderr) == expected
    assert _problems(preview.output) == expected
    assert "Traceback" not in preview.output


def test_structured_config_edited_with_path_reaches_the_program(tools: Toolchain) -> None:
    with workspace(tools) as ws:
        prepared(ws, "dev")
        ws.pulumi("config", "set", "--path", "--stack", "dev", "stackyard:apps[0].replicas", "2", "--type", "int")
        ws.pulumi("up", "--yes", "--stack", "dev")
        deployment = (ws.render / "1-manifest" / "apps_v1-deployment-shop-dev-frontend.yaml").read_text()
    assert "replicas: 2" in deployment
