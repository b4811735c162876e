"""``stackyard audit``: the policies and strict schemas on a stack or an export, with exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stackyard.chartsource import RECORD
from stackyard.cli import EXIT_BAD_INPUT, EXIT_FINDINGS, main
from stackyard.render import evaluate_stack, write_rendering
from tests.conftest import ROOT, STACKS, complete_arguments


@pytest.fixture
def export(tmp_path: Path) -> Path:
    folder = tmp_path / "dev"
    write_rendering(evaluate_stack(ROOT, "dev", charts=RECORD), folder)
    return folder


def edit(path: Path, change: object) -> None:
    body = yaml.safe_load(path.read_text())
    change(body)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(body))


class TestAudit:
    @pytest.mark.parametrize("stack", STACKS)
    def test_the_example_stacks_pass(self, stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        report = tmp_path / "report.json"
        assert main(["audit", stack, "--project", str(ROOT), "--report", str(report), *complete_arguments()]) == 0
        document = json.loads(report.read_text())
        assert document["passed"] is True
        assert document["schema"]["errors"] == []
        assert document["schema"]["checked"] > 30
        assert "audit passed" in capsys.readouterr().out

    def test_documented_exceptions_are_shown_with_their_reasons(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        report = tmp_path / "report.json"
        assert main(["audit", "prod", "--project", str(ROOT), "--report", str(report), *complete_arguments()]) == 0
        excepted = [f for f in json.loads(report.read_text())["findings"] if f["status"] == "excepted"]
        assert {(f["policy"], f["object"]["name"]) for f in excepted} == {
            ("pod-security-restricted", "fluent-bit"),
            ("pod-security-restricted", "kube-prometheus-stack-prometheus-node-exporter"),
        }
        assert all(len(f["exceptionReason"]) > 20 for f in excepted)
        assert "excepted: reads node log files" in capsys.readouterr().out

    def test_a_mandatory_violation_in_an_export_fails_the_audit(self, export: Path, tmp_path: Path) -> None:
        edit(
            export / "1-manifest/apps_v1-deployment-shop-dev-api.yaml",
            lambda b: b["spec"]["template"]["spec"]["containers"][0].pop("resources"),
        )
        report = tmp_path / "report.json"
        sarif = tmp_path / "report.sarif"
        assert main(["audit", str(export), "--report", str(report), "--sarif", str(sarif)]) == EXIT_FINDINGS
        violations = [f for f in json.loads(report.read_text())["findings"] if f["status"] == "violation"]
        assert {(f["policy"], f["object"]["name"]) for f in violations} == {("resources-requests-limits", "api")}
        results = json.loads(sarif.read_text())["runs"][0]["results"]
        assert {r["ruleId"] for r in results if "suppressions" not in r} == {"resources-requests-limits"}

    def test_a_schema_error_fails_the_audit(self, export: Path, tmp_path: Path) -> None:
        edit(export / "1-manifest/v1-service-shop-dev-api.yaml", lambda b: b["spec"].update(clusterIPs="none"))
        report = tmp_path / "report.json"
        assert main(["audit", str(export), "--report", str(report)]) == EXIT_FINDINGS
        (error,) = json.loads(report.read_text())["schema"]["errors"]
        assert error["path"] == "1-manifest/v1-service-shop-dev-api.yaml"
        assert "clusterIPs" in error["message"]

    def test_an_unknown_field_is_a_schema_error(self, export: Path, tmp_path: Path) -> None:
        edit(export / "1-manifest/apps_v1-deployment-shop-dev-api.yaml", lambda b: b["spec"].update(replcas=3))
        assert main(["audit", str(export), "--report", str(tmp_path / "r.json")]) == EXIT_FINDINGS

    def test_bad_input_is_exit_code_two(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert (
            main(["audit", "nosuchstack", "--project", str(ROOT), "--report", str(tmp_path / "r.json")])
            == EXIT_BAD_INPUT
        )
        listed = capsys.readouterr().err.split("stacks here: ")[1].split("\n")[0]
        assert all(stack in listed.split(", ") for stack in STACKS)
        with pytest.raises(SystemExit) as exit_info:
            main(["audit", "dev", "--kubernetes-version", "latest"])
        assert exit_info.value.code == 2


class TestAuditArguments:
    @pytest.mark.parametrize("version", ["1.20", "1.99"])
    def test_a_kubernetes_version_without_schemas_is_a_usage_error(
        self, version: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["audit", "dev", "--kubernetes-version", version])
        assert exit_info.value.code == 2
        assert (
            f"Kubernetes {version} has no schemas here; choose a version from 1.25 to 1.37" in capsys.readouterr().err
        )

    def test_a_missing_export_folder_is_named(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit):
            main(["audit", "out/does-not-exist"])
        assert "'out/does-not-exist': no export there" in capsys.readouterr().err
