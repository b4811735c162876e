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
        assert chart.inputs["version"] == "88.5.3"
        assert chart.inputs["repositoryOpts"] == {"repo": "https://prometheus-community.github.io/helm-charts"}
        assert chart.inputs["namespace"] == "monitoring"
        assert objects.kinds() == ["Namespace", "Namespace", *["NetworkPolicy"] * 6]
        policies = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in objects.of_kind("NetworkPolicy")}
        # Alertmanager is off by default, so no way out to receivers (tests/stacks/test_platform_network.py).
        monitoring = {"default-deny", "allow-dns", "allow-monitoring", "allow-prometheus-scrapes"}
        # The node exporter's namespace holds nothing that others may reach.
        assert policies == {("monitoring", name) for name in monitoring} | {
            ("node-exporter", "default-deny"),
            ("node-exporter", "allow-dns"),
        }

    def test_the_chart_works_without_hooks(self) -> None:
        operator = values(build())["prometheusOperator"]
        assert (operator["admissionWebhooks"], operator["tls"]) == ({"enabled": False}, {"enabled": False})

    def test_every_chart_container_gets_requests_and_limits_and_budgets_allow_a_drain(self) -> None:
        chart = values(build(workloads={"operator": {"limits": {"cpu": "1", "memory": "1Gi"}}}))
        operator = chart["prometheusOperator"]
        assert operator["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
        assert operator["prometheusConfigReloader"]["resources"]["limits"] == {"cpu": "100m", "memory": "64Mi"}
        # A budget of minAvailable 1 on a single operator pod would block every node drain.
        assert operator["podDisruptionBudget"] == {"enabled": True, "minAvailable": 0}
        assert chart["kube-state-metrics"]["resources"]["requests"] == {"cpu": "20m", "memory": "64Mi"}
        assert chart["prometheus-node-exporter"]["resources"]["requests"] == {"cpu": "10m", "memory": "32Mi"}

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

    def test_the_node_exporter_runs_in_a_privileged_namespace_of_its_own(self) -> None:
        objects = build()
        monitoring = objects.get("Namespace", "monitoring")["metadata"]["labels"]
        assert monitoring["pod-security.kubernetes.io/enforce"] == "restricted"
        hosts = objects.get("Namespace", "node-exporter")["metadata"]["labels"]
        assert (hosts["pod-security.kubernetes.io/enforce"], hosts["pod-security.kubernetes.io/warn"]) == (
            "privileged",
            "restricted",
        )
        exporter = values(objects)["prometheus-node-exporter"]
        assert exporter["namespaceOverride"] == "node-exporter"
        without = build(node_exporter=False)
        assert [n["metadata"]["name"] for n in without.of_kind("Namespace")] == ["monitoring"]

    def test_the_node_exporter_cannot_share_the_monitoring_namespace(self) -> None:
        with pytest.raises(ValidationError, match="nodeExporterNamespace: 'monitoring' is the monitoring namespace"):
            MonitoringArgs(grafana=False, node_exporter_namespace="monitoring")
        assert MonitoringArgs(grafana=False, node_exporter=False, node_exporter_namespace="monitoring")

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
