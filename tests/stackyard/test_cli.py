"""The command line itself: arguments, exit codes and what it prints, across the modules it drives."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackyard.cli import EXIT_BAD_INPUT, EXIT_PROGRAM_FAILED, main
from stackyard.render import evaluate_stack
from tests.conftest import ROOT

CANARY = "canary-7f3a9c-do-not-leak"


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


class TestCli:
    def test_bad_config_prints_every_problem_without_a_traceback(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stack_file = project / "Pulumi.dev.yaml"
        text = stack_file.read_text().replace(
            "      port: 8080\n      replicas: 1", "      port: 99999\n      replicsa: 1"
        )
        stack_file.write_text(text)
        code = main(["render", "--charts", "record", "dev", "--project", str(project), "--out", str(tmp_path / "out")])
        captured = capsys.readouterr()
        assert code == EXIT_BAD_INPUT
        assert "stackyard:apps[0].port: 99999 is not allowed" in captured.err
        assert "stackyard:apps[0].replicsa: unknown key (value 1); did you mean 'replicas'?" in captured.err
        assert "Traceback" not in captured.err + captured.out
        assert not (tmp_path / "out").exists()

    def test_a_bad_stack_name_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["render", "--charts", "record", "../etc", "--project", str(ROOT)])
        assert exit_info.value.code == 2
        assert "a stack name has" in capsys.readouterr().err

    @pytest.mark.parametrize("jobs", ["0", "-1", "two"])
    def test_jobs_must_be_a_whole_number_of_processes(self, jobs: str, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["render", "--charts", "record", "dev", "staging", "--jobs", jobs])
        assert exit_info.value.code == EXIT_BAD_INPUT
        assert f"argument --jobs: '{jobs}': expected a whole number of processes, 1 or more" in capsys.readouterr().err

    def test_render_prints_counts_and_the_placeholder_note(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert (
            main(["render", "--charts", "record", "dev", "--project", str(ROOT), "--out", str(tmp_path / "dev")]) == 0
        )
        out = capsys.readouterr().out
        assert "Deployment" in out
        written = len(list((tmp_path / "dev" / "1-manifest").glob("*.yaml")))
        assert written > 40
        assert f"Rendered {written} objects of stackyard/dev" in out
        assert "Recorded 2 chart(s) and remote file(s) under charts/" in out
        assert "stackyard:apiDatabasePassword is a secure value that cannot be decrypted offline" in out

    def test_preview_prints_the_component_tree_and_counts(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["preview", "--charts", "record", "prod", "--project", str(ROOT)]) == 0
        out = capsys.readouterr().out
        lines = out.splitlines()
        app = next(i for i, line in enumerate(lines) if "stackyard:index:App  api" in line)
        assert "kubernetes:apps/v1:Deployment  api" in lines[app + 1]
        assert "HorizontalPodAutoscaler" in out
        assert "total" in out

    def test_secrets_the_stack_does_not_create_are_warned_about(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stack_file = project / "Pulumi.dev.yaml"
        text = stack_file.read_text().replace(
            "      secretFiles: [api-database]", "      secretFiles: [api-databse]", 1
        )
        stack_file.write_text(text)
        assert main(["preview", "--charts", "record", "dev", "--project", str(project)]) == 0
        err = capsys.readouterr().err
        assert "uses Secret 'api-databse', which stackyard:secrets does not create" in err


class TestSecretLeaks:
    """A planted secret in a plain field stops the command, which names the field and never the value."""

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
        assert (
            main(["render", "--charts", "record", "dev", "--project", str(project), "--out", str(out)])
            == EXIT_PROGRAM_FAILED
        )
        captured = capsys.readouterr()
        assert CANARY not in captured.out + captured.err
        assert f"Deployment leaky/web: {where} carries a secret value" in captured.err
        assert "secretKeyRef" in captured.err
        assert not out.exists()
