"""``stackyard diff``: what changed between an export and a fresh render, object by object and field by field."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.chartsource import RECORD
from stackyard.cli import EXIT_FINDINGS, main
from stackyard.diff import diff_exports
from stackyard.render import evaluate_stack, write_rendering
from stackyard.views import from_directory, from_rendering
from tests.conftest import ROOT


def change_dev(project: Path, old: str, new: str) -> None:
    stack_file = project / "Pulumi.dev.yaml"
    text = stack_file.read_text()
    assert old in text
    stack_file.write_text(text.replace(old, new, 1))


class TestDiff:
    def test_no_change_means_no_difference_even_with_exit_code(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_rendering(evaluate_stack(project, "dev", charts=RECORD), tmp_path / "before")
        args = [
            "diff",
            "dev",
            "--charts",
            "record",
            "--project",
            str(project),
            "--against",
            str(tmp_path / "before"),
            "--exit-code",
        ]
        assert main(args) == 0
        assert "0 added, 0 removed, 0 changed" in capsys.readouterr().out

    def test_a_config_change_shows_changed_objects_and_fields(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_rendering(evaluate_stack(project, "dev", charts=RECORD), tmp_path / "before")
        change_dev(project, "      port: 8080\n      replicas: 1", "      port: 8080\n      replicas: 2")
        change_dev(project, "      env:\n        QUEUE: orders-dev", "      env:\n        QUEUE: orders-next")
        args = [
            "diff",
            "dev",
            "--charts",
            "record",
            "--project",
            str(project),
            "--against",
            str(tmp_path / "before"),
            "--exit-code",
        ]
        assert main(args) == EXIT_FINDINGS
        out = capsys.readouterr().out
        assert "changed  1-manifest/apps_v1-deployment-shop-dev-frontend.yaml" in out
        assert "    spec.replicas: 1 -> 2" in out
        # The worker's env ConfigMap is content-named: a new name, so one added and one removed.
        assert "added    1-manifest/v1-configmap-shop-dev-worker-env-" in out
        assert "removed  1-manifest/v1-configmap-shop-dev-worker-env-" in out
        assert "1 added, 1 removed, 2 changed" in out  # the frontend and the worker's Deployment

    def test_without_exit_code_differences_still_exit_zero(self, project: Path, tmp_path: Path) -> None:
        write_rendering(evaluate_stack(project, "dev", charts=RECORD), tmp_path / "before")
        change_dev(project, "      port: 8080\n      replicas: 1", "      port: 8080\n      replicas: 2")
        assert (
            main(
                ["diff", "--charts", "record", "dev", "--project", str(project), "--against", str(tmp_path / "before")]
            )
            == 0
        )

    def test_secrets_are_compared_by_marker_only(self, tmp_path: Path) -> None:
        write_rendering(
            evaluate_stack(ROOT, "dev", charts=RECORD, secrets={"stackyard:apiDatabasePassword": "old-secret"}),
            tmp_path / "before",
        )
        before = from_directory(tmp_path / "before")
        after = from_rendering(
            evaluate_stack(ROOT, "dev", charts=RECORD, secrets={"stackyard:apiDatabasePassword": "new-secret"})
        )
        result = diff_exports(before, after)
        (change,) = result.changed["1-manifest/v1-secret-shop-dev-api-database.yaml"]
        assert change.path == "stringData.password"
        assert str(change.before).startswith("<redacted sha256:")
        assert str(change.after).startswith("<redacted sha256:")
        assert "old-secret" not in repr(result)
        assert "new-secret" not in repr(result)
