"""Monitoring: kube-prometheus-stack pinned, working without hooks, selecting every namespace's objects."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components import Monitoring, MonitoringArgs, PrometheusSettings
from components.chart import check_hook_requirements
from components.monitoring import CHART
from tests.conftest import Objects, run_program


def build(**fields: Any) -> Objects:
    args = MonitoringArgs(**{"grafana_admin_secret": "grafana-admin", **fields})
    return run_program(lambda: Monitoring("kube-prometheus-stack", args))


def values(objects: Objects) -> dict[str, Any]:
    (chart,) = [r for r in objects.run.registrations if r.type == "kubernetes:helm.sh/v4:Chart"]
    assert chart.inputs["chart"] == "kube-prometheus-stack"
    result: dict[str, Any] = chart.inputs["values"]
    return result


class TestMonitoring:
    def test_it_installs_the_pinned_chart_in_its_own_namespace(self) -> None:
        objects = build()
        (chart,) = [r for r in objects.run.registrations if r.type == "kubernetes:helm.sh/v4:Chart"]
        assert chart.inputs["version"] == "88.6.4"
        assert chart.inputs["repositoryOpts"] == {"repo": "https://prometheus-community.github.io/helm-charts"}
        assert chart.inputs["namespace"] == "monitoring"
        assert objects.kinds() == ["Namespace", *["NetworkPolicy"] * 4]
        policies = {p["metadata"]["name"] for p in objects.of_kind("NetworkPolicy")}
        # Alertmanager is off by default, so no way out to receivers (tests/stacks/test_platform_network.py).
        assert policies == {"default-deny", "allow-dns", "allow-monitoring", "allow-prometheus-scrapes"}

    def test_the_chart_works_without_hooks(self) -> None:
        operator = values(build())["prometheusOperator"]
        assert operator == {"admissionWebhooks": {"enabled": False}, "tls": {"enabled": False}}

    def test_the_hook_check_refuses_the_chart_defaults(self) -> None:
        with pytest.raises(ValueError, match=r"prometheusOperator\.admissionWebhooks\.enabled must be False"):
            check_hook_requirements(CHART, {"prometheusOperator": {"admissionWebhooks": {"enabled": True}}})

    def test_prometheus_selects_objects_without_helm_release_labels(self) -> None:
        spec = values(build())["prometheus"]["prometheusSpec"]
        # Without these, the operator selects only objects labelled with the chart's release name.
        assert {key: value for key, value in spec.items() if key.endswith("SelectorNilUsesHelmValues")} == {
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "probeSelectorNilUsesHelmValues": False,
            "scrapeConfigSelectorNilUsesHelmValues": False,
        }

    def test_a_small_prometheus_keeps_no_volume_and_no_size_limit(self) -> None:
        spec = values(build(prometheus=PrometheusSettings(retention="2d")))["prometheus"]["prometheusSpec"]
        assert spec["retention"] == "2d"
        assert spec["replicas"] == 1
        assert "storageSpec" not in spec
        assert "retentionSize" not in spec

    def test_a_large_prometheus_gets_a_claim_and_a_size_limit(self) -> None:
        settings = PrometheusSettings(
            retention="30d", retention_size="75GB", replicas=2, storage_size="100Gi", storage_class="fast-ssd"
        )
        spec = values(build(prometheus=settings))["prometheus"]["prometheusSpec"]
        assert (spec["retention"], spec["retentionSize"], spec["replicas"]) == ("30d", "75GB", 2)
        assert spec["storageSpec"] == {
            "volumeClaimTemplate": {
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "100Gi"}},
                    "storageClassName": "fast-ssd",
                }
            }
        }

    def test_grafana_needs_a_private_admin_secret(self) -> None:
        with pytest.raises(ValidationError, match="the chart's default admin password is public"):
            MonitoringArgs(grafana=True)
        assert MonitoringArgs(grafana=False).grafana_admin_secret is None
        admin = values(build())["grafana"]["admin"]
        assert admin == {"existingSecret": "grafana-admin", "passwordKey": "admin-password", "userKey": "admin-user"}

    def test_alertmanager_and_grafana_switch_per_environment(self) -> None:
        chart = values(build(alertmanager=False, grafana=True))
        assert chart["alertmanager"] == {"enabled": False}
        assert chart["grafana"]["enabled"] is True
        assert chart["grafana"]["sidecar"]["dashboards"]["label"] == "grafana_dashboard"
        assert chart["grafana"]["sidecar"]["dashboards"]["searchNamespace"] == "ALL"

    def test_the_node_exporter_needs_a_privileged_namespace_and_without_it_baseline_is_enough(self) -> None:
        with_exporter = build().get("Namespace", "monitoring")["metadata"]["labels"]
        assert with_exporter["pod-security.kubernetes.io/enforce"] == "privileged"
        without = build(node_exporter=False).get("Namespace", "monitoring")["metadata"]["labels"]
        assert without["pod-security.kubernetes.io/enforce"] == "baseline"

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"retention": "ten days"}, "Prometheus duration"),
            ({"retention_size": "90G"}, "Prometheus byte size"),
            ({"replicas": 0}, "greater than or equal to 1"),
            ({"storage_size": "lots"}, "Kubernetes quantity"),
        ],
    )
    def test_bad_prometheus_settings_are_rejected(self, fields: dict[str, Any], message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            PrometheusSettings(**fields)
