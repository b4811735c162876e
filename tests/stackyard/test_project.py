"""Reading the project file and a stack's file as the Pulumi CLI would: what is refused, and how it is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.cli import EXIT_BAD_INPUT, main
from stackyard.project import ProjectError
from stackyard.render import evaluate_stack
from tests.conftest import ROOT, STACKS

CANARY = "canary-7f3a9c-do-not-leak"


class TestProjectFiles:
    def test_an_unknown_stack_lists_the_stacks_there_are(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["render", "nosuchstack", "--project", str(ROOT), "--out", "unused"]) == EXIT_BAD_INPUT
        listed = capsys.readouterr().err.split("stacks here: ")[1].split("\n")[0]
        assert all(stack in listed.split(", ") for stack in STACKS)
        assert not (Path.cwd() / "unused").exists()

    def test_a_missing_project_file_is_reported(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["preview", "dev", "--project", str(tmp_path)]) == EXIT_BAD_INPUT
        assert "no Pulumi.yaml here" in capsys.readouterr().err

    def test_an_unknown_top_level_key_in_a_stack_file_is_named(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stack_file = project / "Pulumi.dev.yaml"
        stack_file.write_text(stack_file.read_text().replace("config:", "confg:", 1))
        assert main(["preview", "dev", "--project", str(project)]) == EXIT_BAD_INPUT
        assert "unknown top-level key 'confg'; did you mean 'config'?" in capsys.readouterr().err

    def test_a_supplied_value_must_belong_to_a_secure_key(self) -> None:
        with pytest.raises(ProjectError, match="stackyard:renderDir is not a secure: value"):
            evaluate_stack(ROOT, "dev", secrets={"stackyard:renderDir": CANARY})
