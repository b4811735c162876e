"""Redaction canaries: a planted secret never reaches the export or anything the CLI prints."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackyard.cli import EXIT_PROGRAM_FAILED, main
from stackyard.project import ProjectError
from stackyard.render import evaluate_stack, write_rendering
from tests.conftest import ROOT

CANARY = "canary-7f3a9c-do-not-leak"


def tree_text(folder: Path) -> str:
    return "".join(path.read_text(errors="replace") for path in folder.rglob("*") if path.is_file())


def leaky_project(tmp_path: Path, field: str) -> Path:
    """A small project whose program routes a secure config value into a plain field."""
    project = tmp_path / "leaky"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: leaky\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  leaky:token:\n    secure: v1:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0\n")
    env_value = "token" if field == "env" else '"plain"'
    annotations = "{'example.com/token': token}" if field == "annotation" else "None"
    (project / "__main__.py").write_text(
        textwrap.dedent(
            f"""
            import pulumi
            import pulumi_kubernetes as k8s

            token = pulumi.Config().require_secret("token")
            container = {{"name": "web", "image": "web:1", "env": [{{"name": "TOKEN", "value": {env_value}}}]}}
            k8s.apps.v1.Deployment(
                "web",
                metadata={{"name": "web", "namespace": "leaky", "annotations": {annotations}}},
                spec={{
                    "selector": {{"matchLabels": {{"app": "web"}}}},
                    "template": {{
                        "metadata": {{"labels": {{"app": "web"}}}},
                        "spec": {{"containers": [container]}},
                    }},
                }},
            )
            """
        )
    )
    return project


class TestRedactionCanaries:
    def test_secure_config_in_a_secret_is_exported_as_a_marker_only(self, tmp_path: Path) -> None:
        rendering = evaluate_stack(
            ROOT, "prod", secrets={"stackyard:apiDatabasePassword": CANARY, "stackyard:lokiPassword": CANARY + "-2"}
        )
        write_rendering(rendering, tmp_path / "prod")
        everything = tree_text(tmp_path / "prod")
        assert CANARY not in everything
        assert "<redacted sha256:" in everything
        assert "stackyard:apiDatabasePassword" not in rendering.inputs.placeholders

    def test_markers_change_when_the_secret_changes(self) -> None:
        def marker(value: str) -> str:
            rendering = evaluate_stack(ROOT, "dev", secrets={"stackyard:apiDatabasePassword": value})
            return rendering.files()["1-manifest/v1-secret-shop-dev-api-database.yaml"]

        assert marker(CANARY) != marker(CANARY + "x")
        assert marker(CANARY) == marker(CANARY)

    @pytest.mark.parametrize(
        ("field", "where"),
        [
            ("env", "spec.template.spec.containers[0].env[0].value"),
            ("annotation", "metadata.annotations.example.com/token"),
        ],
    )
    def test_a_secret_in_a_plain_field_stops_the_render_naming_the_field_never_the_value(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        field: str,
        where: str,
    ) -> None:
        project = leaky_project(tmp_path, field)
        secrets = {"leaky:token": CANARY}
        monkeypatch.setattr("stackyard.cli.evaluate_stack", lambda p, s: evaluate_stack(p, s, secrets))
        out = tmp_path / "out"
        assert main(["render", "dev", "--project", str(project), "--out", str(out)]) == EXIT_PROGRAM_FAILED
        captured = capsys.readouterr()
        assert CANARY not in captured.out + captured.err
        assert f"Deployment leaky/web: {where} carries a secret value" in captured.err
        assert "secretKeyRef" in captured.err
        assert not out.exists()

    def test_a_supplied_value_must_belong_to_a_secure_key(self) -> None:
        with pytest.raises(ProjectError, match="stackyard:renderDir is not a secure: value"):
            evaluate_stack(ROOT, "dev", secrets={"stackyard:renderDir": CANARY})
