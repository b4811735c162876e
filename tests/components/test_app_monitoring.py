"""AppMonitoring: scrape objects that really match the app, default alerts and their overrides."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from components import AlertOverride, AppMonitoring, AppMonitoringArgs, MonitoringOptions
from components.app_monitoring import alert_rules
from tests.conftest import Objects, assert_valid_custom_resources, run_program

SELECTOR = {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api-shop"}


def monitoring_args(**fields: Any) -> AppMonitoringArgs:
    return AppMonitoringArgs(
        **{"namespace": "shop", "app": "api", "selector": SELECTOR, "metrics_port_name": "metrics", **fields}
    )


def build(args: AppMonitoringArgs) -> Objects:
    return run_program(lambda: AppMonitoring("api", args))


class TestScraping:
    def test_a_service_app_gets_a_service_monitor_on_its_metrics_port(self) -> None:
        objects = build(monitoring_args())
        monitor = objects.get("ServiceMonitor", "api")["spec"]
        assert monitor["selector"] == {"matchLabels": SELECTOR}
        assert monitor["namespaceSelector"] == {"matchNames": ["shop"]}
        assert monitor["endpoints"] == [{"interval": "30s", "path": "/metrics", "port": "metrics"}]
        assert_valid_custom_resources(objects.manifests)

    def test_an_app_without_a_service_gets_a_pod_monitor(self) -> None:
        objects = build(monitoring_args(has_service=False))
        assert objects.of_kind("ServiceMonitor") == []
        monitor = objects.get("PodMonitor", "api")["spec"]
        assert monitor["podMetricsEndpoints"] == [{"interval": "30s", "path": "/metrics", "port": "metrics"}]
        assert_valid_custom_resources(objects.manifests)

    def test_an_app_without_metrics_still_gets_its_alerts(self) -> None:
        objects = build(monitoring_args(metrics_port_name=None))
        assert objects.kinds() == ["PrometheusRule"]


class TestAlerts:
    def test_default_alerts_cover_readiness_and_restarts_with_promql(self) -> None:
        rules = alert_rules(monitoring_args())
        assert [rule["alert"] for rule in rules] == ["ApiPodNotReady", "ApiPodRestarting"]
        for rule in rules:
            assert rule["expr"].strip()
            assert 'namespace="shop"' in rule["expr"]
            assert rule["labels"]["severity"] in ("warning", "critical")

    def test_no_alert_repeats_kube_prometheus_stacks_own_hpa_alert(self) -> None:
        with pytest.raises(ValidationError, match="kube-prometheus-stack's KubeHpaMaxedOut fires on the same"):
            MonitoringOptions.model_validate({"alerts": {"HpaAtMaxReplicas": {}}})

    def test_a_request_metric_enables_the_5xx_alert_with_its_status_label(self) -> None:
        options = MonitoringOptions(http_requests_metric="http_requests_total", status_label="status")
        (errors,) = [r for r in alert_rules(monitoring_args(options=options)) if r["alert"] == "ApiHighErrorRate"]
        assert 'http_requests_total{namespace="shop"' in errors["expr"]
        assert 'status=~"5.."' in errors["expr"]
        assert errors["expr"].endswith("> 0.05")
        assert errors["labels"]["severity"] == "critical"

    def test_overrides_change_or_remove_a_default_alert(self) -> None:
        options = MonitoringOptions(
            alerts={
                "PodNotReady": AlertOverride(enabled=False),
                "PodRestarting": AlertOverride(threshold=10, for_duration="1m", severity="critical"),
            }
        )
        (restarts,) = alert_rules(monitoring_args(options=options))
        assert restarts["alert"] == "ApiPodRestarting"
        assert restarts["expr"].endswith("> 10")
        assert (restarts["for"], restarts["labels"]["severity"]) == ("1m", "critical")

    def test_an_override_for_an_alert_the_app_does_not_have_is_an_error(self) -> None:
        with pytest.raises(ValidationError, match=r"alerts \['HighErrorRate'\] do not apply to this app"):
            monitoring_args(options=MonitoringOptions(alerts={"HighErrorRate": AlertOverride()}))

    def test_the_5xx_alert_needs_the_apps_own_metrics(self) -> None:
        with pytest.raises(ValidationError, match="httpRequestsMetric comes from the app's own metrics"):
            monitoring_args(metrics_port_name=None, options=MonitoringOptions(http_requests_metric="x_total"))

    def test_the_rule_object_validates_against_its_schema(self) -> None:
        objects = build(monitoring_args())
        rule = objects.get("PrometheusRule", "api-alerts")
        assert [group["name"] for group in rule["spec"]["groups"]] == ["shop.api"]
        assert_valid_custom_resources(objects.manifests)


class TestDashboard:
    def test_an_optional_dashboard_configmap_carries_the_sidecar_label_and_json(self) -> None:
        options = MonitoringOptions(dashboard=True, http_requests_metric="http_requests_total")
        dashboard = build(monitoring_args(options=options)).get("ConfigMap", "api-dashboard")
        assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
        (content,) = dashboard["data"].values()
        parsed = json.loads(content)
        assert parsed["title"] == "shop / api"
        assert len(parsed["panels"]) == 4
        assert all(panel["targets"][0]["expr"] for panel in parsed["panels"])

    def test_no_dashboard_by_default(self) -> None:
        assert build(monitoring_args()).of_kind("ConfigMap") == []
