"""``stackyard diff`` and ``stackyard envdiff`` on crafted changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stackyard.cli import EXIT_FINDINGS, main
from stackyard.diff import diff_exports
from stackyard.envdiff import diff_settings
from stackyard.render import Rendering, evaluate_stack, write_rendering
from stackyard.views import from_directory, from_rendering
from tests.conftest import ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv*", "out", ".git", "*cache*", "tests", "audit"))
    return copy


def change_dev(project: Path, old: str, new: str) -> None:
    stack_file = project / "Pulumi.dev.yaml"
    text = stack_file.read_text()
    assert old in text
    stack_file.write_text(text.replace(old, new, 1))


class TestDiff:
    def test_no_change_means_no_difference_even_with_exit_code(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_rendering(evaluate_stack(project, "dev"), tmp_path / "before")
        args = ["diff", "dev", "--project", str(project), "--against", str(tmp_path / "before"), "--exit-code"]
        assert main(args) == 0
        assert "0 added, 0 removed, 0 changed" in capsys.readouterr().out

    def test_a_config_change_shows_changed_objects_and_fields(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_rendering(evaluate_stack(project, "dev"), tmp_path / "before")
        change_dev(project, "      port: 8080\n      replicas: 1", "      port: 8080\n      replicas: 2")
        change_dev(project, "      env:\n        QUEUE: orders-dev", "      env:\n        QUEUE: orders-next")
        args = ["diff", "dev", "--project", str(project), "--against", str(tmp_path / "before"), "--exit-code"]
        assert main(args) == EXIT_FINDINGS
        out = capsys.readouterr().out
        assert "changed  1-manifest/apps_v1-deployment-shop-dev-frontend.yaml" in out
        assert "    spec.replicas: 1 -> 2" in out
        # The worker's env ConfigMap is content-named: a new name, so one added and one removed.
        assert "added    1-manifest/v1-configmap-shop-dev-worker-env-" in out
        assert "removed  1-manifest/v1-configmap-shop-dev-worker-env-" in out
        assert "1 added, 1 removed, 2 changed" in out  # the frontend and the worker's Deployment

    def test_without_exit_code_differences_still_exit_zero(self, project: Path, tmp_path: Path) -> None:
        write_rendering(evaluate_stack(project, "dev"), tmp_path / "before")
        change_dev(project, "      port: 8080\n      replicas: 1", "      port: 8080\n      replicas: 2")
        assert main(["diff", "dev", "--project", str(project), "--against", str(tmp_path / "before")]) == 0

    def test_secrets_are_compared_by_marker_only(self, tmp_path: Path) -> None:
        write_rendering(
            evaluate_stack(ROOT, "dev", secrets={"stackyard:apiDatabasePassword": "old-secret"}), tmp_path / "before"
        )
        before = from_directory(tmp_path / "before")
        after = from_rendering(evaluate_stack(ROOT, "dev", secrets={"stackyard:apiDatabasePassword": "new-secret"}))
        result = diff_exports(before, after)
        (change,) = result.changed["1-manifest/v1-secret-shop-dev-api-database.yaml"]
        assert change.path == "stringData.password"
        assert str(change.before).startswith("<redacted sha256:")
        assert str(change.after).startswith("<redacted sha256:")
        assert "old-secret" not in repr(result)
        assert "new-secret" not in repr(result)


class TestEnvdiff:
    def test_dev_and_prod_differ_in_replicas_autoscaling_resources_hosts_and_outputs(
        self, rendered: dict[str, Rendering]
    ) -> None:
        differences = {
            (d.subject, d.setting): (d.left, d.right)
            for d in diff_settings(from_rendering(rendered["dev"]), from_rendering(rendered["prod"]))
        }
        assert differences[("app api", "replicas")] == ("1", "set by its HPA")
        assert differences[("app api", "autoscaling")] == (None, "3-20 at 60% CPU")
        assert differences[("app api", "requests.cpu")] == ("100m", "500m")
        assert differences[("app frontend", "route")] == ("shop.dev.example.com/", "shop.example.com/")
        assert differences[("log shipping", "output[0].name")] == ("stdout", "loki")
        assert differences[("chart traefik", "service.spec.type")] == ("NodePort", "LoadBalancer")
        assert differences[("chart kube-prometheus-stack", "prometheus.prometheusSpec.retention")] == ("2d", "30d")

    def test_namespaces_high_availability_tls_and_the_gateway_are_compared(
        self, rendered: dict[str, Rendering]
    ) -> None:
        differences = {
            (d.subject, d.setting): (d.left, d.right)
            for d in diff_settings(from_rendering(rendered["dev"]), from_rendering(rendered["staging"]))
        }
        assert differences[("namespace apps", "name")] == ("shop-dev", "shop-staging")
        assert differences[("namespace apps", "high availability")] == ("false", "true")
        assert differences[("gateway public", "certificate issuer")] == (None, "letsencrypt-staging")
        assert differences[("gateway public", "listener HTTPS[0]")] == (
            None,
            "HTTPS shop.staging.example.com:8443 tls=shop-tls",
        )
        assert not [key for key in differences if key[0] == "app public"]

    def test_a_stack_compared_with_its_own_export_has_no_differences(
        self, rendered: dict[str, Rendering], tmp_path: Path
    ) -> None:
        write_rendering(rendered["staging"], tmp_path / "staging")
        assert diff_settings(from_directory(tmp_path / "staging"), from_rendering(rendered["staging"])) == []

    def test_the_cli_prints_a_table_of_differences(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["envdiff", "dev", "staging", "--project", str(ROOT)]) == 0
        out = capsys.readouterr().out
        assert "dev vs staging:" in out
        assert "opensearch" in out
