"""Every default alert, run by promtool against series that should fire it and series that should not,
and every PrometheusRule of every stack checked by ``promtool check rules``.

promtool ships with Debian's ``prometheus`` package; ``.ci/run`` installs it. Elsewhere these tests
skip and say so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.app_monitoring import AppMonitoringArgs, alert_rules, pod_pattern
from components.log_shipping import shipper_alert_rules
from stackyard.render import Rendering
from tests.conftest import STACKS

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)")

NS, APP = "shop", "api"
POD = "api-5d9c7f8b6d-x2x9k"
assert __import__("re").fullmatch(pod_pattern(APP), POD)


def args() -> AppMonitoringArgs:
    return AppMonitoringArgs.model_validate(
        {
            "namespace": NS,
            "app": APP,
            "selector": {"app.kubernetes.io/name": APP},
            "metricsPortName": "http",
            "options": {"httpRequestsMetric": "http_requests_total", "statusLabel": "code"},
        }
    )


def series(metric: str, values: str, **labels: str) -> dict[str, str]:
    text = ", ".join(f'{key}="{value}"' for key, value in {"namespace": NS, "pod": POD, **labels}.items())
    return {"series": f"{metric}{{{text}}}", "values": values}


def phase(name: str, **extra: str) -> list[dict[str, str]]:
    """kube-state-metrics' phase series of one pod: 1 for its phase, 0 for the others."""
    phases = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
    return [series("kube_pod_status_phase", "1x40" if p == name else "0x40", phase=p, **extra) for p in phases]


def ready(status: str) -> list[dict[str, str]]:
    return [
        series("kube_pod_status_ready", "1x40" if c == status else "0x40", condition=c)
        for c in ("true", "false", "unknown")
    ]


def requests(errors_per_minute: int, total_per_minute: int) -> list[dict[str, str]]:
    ok = total_per_minute - errors_per_minute
    return [
        series("http_requests_total", f"0+{errors_per_minute}x40", code="500"),
        series("http_requests_total", f"0+{ok}x40", code="200"),
    ]


#: (alert, input series, whether it fires at minute 30)
SCENARIOS: list[tuple[str, str, list[dict[str, str]], bool]] = [
    ("PodNotReady", "an unschedulable (Pending) pod", phase("Pending"), True),
    ("PodNotReady", "a running pod that is not ready", phase("Running") + ready("false"), True),
    ("PodNotReady", "a running, ready pod", phase("Running") + ready("true"), False),
    ("PodNotReady", "an evicted pod (Failed, not ready)", phase("Failed") + ready("false"), False),
    ("PodNotReady", "a completed pod", phase("Succeeded") + ready("false"), False),
    ("PodRestarting", "10 restarts in 15 minutes",
     [series("kube_pod_container_status_restarts_total", "0+1x40", container=APP)], True),
    ("PodRestarting", "one restart", [series("kube_pod_container_status_restarts_total", "0 1x40", container=APP)],
     False),
    ("HighErrorRate", "10 % of requests fail", requests(10, 100), True),
    ("HighErrorRate", "1 % of requests fail", requests(1, 100), False),
]  # fmt: skip


def _expected(alert: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    (rule,) = [r for r in rules if r["alert"] == f"Api{alert}"]
    labels = {**rule["labels"]}
    if alert != "HighErrorRate":  # an aggregate over the app: no pod label
        labels["namespace"] = NS
    if alert in ("PodNotReady", "PodRestarting"):
        labels["pod"] = POD
    if alert == "PodRestarting":
        labels["container"] = APP
    return {"exp_labels": labels, "exp_annotations": rule["annotations"]}


def test_each_alert_fires_exactly_when_it_should(tmp_path: Path) -> None:
    """All scenarios in one promtool run (each is a test group of its own; promtool names a failing one)."""
    rules = alert_rules(args())
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "api", "rules": rules}]}))
    tests = [
        {
            "name": f"{alert}: {situation}",
            "interval": "1m",
            "input_series": inputs,
            "alert_rule_test": [
                {
                    "eval_time": "30m",
                    "alertname": f"Api{alert}",
                    "exp_alerts": [_expected(alert, rules)] if fires else [],
                }
            ],
        }
        for alert, situation, inputs, fires in SCENARIOS
    ]
    test = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test))
    result = subprocess.run(
        [str(PROMTOOL), "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_wrong_expectation_fails_the_run(tmp_path: Path) -> None:
    """The harness can fail: a silent scenario expected to fire is reported."""
    rules = alert_rules(args())
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "api", "rules": rules}]}))
    alert, _, inputs, _ = SCENARIOS[2]  # a running, ready pod
    wrong = {"interval": "1m", "input_series": inputs, "alert_rule_test": [
        {"eval_time": "30m", "alertname": f"Api{alert}", "exp_alerts": [_expected(alert, rules)]}]}  # fmt: skip
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": [wrong]}))
    result = subprocess.run(
        [str(PROMTOOL), "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0


def test_every_default_alert_has_a_firing_and_a_silent_scenario() -> None:
    names = {rule["alert"].removeprefix("Api") for rule in alert_rules(args())}
    assert {a for a, _, _, fires in SCENARIOS if fires} == names
    assert {a for a, _, _, fires in SCENARIOS if not fires} == names


@pytest.mark.parametrize("stack", STACKS)
def test_every_exported_prometheus_rule_passes_promtool_check(
    stack: str, rendered: dict[str, Rendering], tmp_path: Path
) -> None:
    rules = [m for m in rendered[stack].manifests if m.kind == "PrometheusRule"]
    assert sorted(m.name for m in rules) == ["api-alerts", "fluent-bit-alerts", "frontend-alerts", "worker-alerts"]
    for manifest in rules:
        path = tmp_path / f"{manifest.body['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump({"groups": manifest.body["spec"]["groups"]}))
        result = subprocess.run(
            [str(PROMTOOL), "check", "rules", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{manifest.path}:\n{result.stdout}{result.stderr}"


def test_the_log_shippers_alerts_fire_on_lost_records_and_on_retries_that_give_up(tmp_path: Path) -> None:
    rules = shipper_alert_rules("logging")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "fluent-bit", "rules": rules}]}))
    labels = 'namespace="logging", pod="fluent-bit-7xk2p", name="opensearch.0"'

    def case(metric: str, values: str, alert: str, fires: bool) -> dict[str, Any]:
        (rule,) = [r for r in rules if r["alert"] == alert]
        expected = {
            "exp_labels": {**rule["labels"], "namespace": "logging", "pod": "fluent-bit-7xk2p", "name": "opensearch.0"},
            "exp_annotations": rule["annotations"],
        }
        return {
            "name": f"{alert} {'fires' if fires else 'stays silent'}",
            "interval": "1m",
            "input_series": [{"series": f"{metric}{{{labels}}}", "values": values}],
            "alert_rule_test": [{"eval_time": "30m", "alertname": alert, "exp_alerts": [expected] if fires else []}],
        }

    tests = [
        case("fluentbit_output_dropped_records_total", "0+5x40", "FluentBitDroppingRecords", True),
        case("fluentbit_output_dropped_records_total", "0x40", "FluentBitDroppingRecords", False),
        case("fluentbit_output_retries_failed_total", "0+1x40", "FluentBitRetriesFailing", True),
        case("fluentbit_output_retries_failed_total", "3x40", "FluentBitRetriesFailing", False),
    ]
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests}))
    result = subprocess.run(
        [str(PROMTOOL), "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
