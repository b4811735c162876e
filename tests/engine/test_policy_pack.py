"""The policy pack on the real engine: ``pulumi preview --policy-pack policy`` through our language host."""

from __future__ import annotations

from pathlib import Path

from e2e.engine import Toolchain, workspace
from tests.engine.conftest import prepared

VIOLATING = Path(__file__).parent / "violating"


def test_every_example_stack_passes_the_pack(tools: Toolchain) -> None:
    with workspace(tools) as ws:
        prepared(ws, "dev")
        result = ws.pulumi("preview", "--stack", "dev", "--policy-pack", str(ws.project / "policy"))
        assert "stackyard-baseline@v0.0.1" in result.output
        assert "mandatory" not in result.output


def test_a_mandatory_violation_fails_the_preview_naming_the_policy_and_the_field(tools: Toolchain) -> None:
    with workspace(tools) as ws:
        ws.copy_program(VIOLATING, files=("__main__.py",))
        ws.install_provider()
        ws.pulumi("stack", "init", "dev")
        result = ws.pulumi("preview", "--stack", "dev", "--policy-pack", str(ws.project / "policy"), check=False)
        assert result.returncode != 0
        assert "pod-security-restricted" in result.output
        assert "mandatory" in result.output
        assert "privileged" in result.output
        without_pack = ws.pulumi("preview", "--stack", "dev", check=False)
        assert without_pack.returncode == 0, without_pack.output[-2000:]
