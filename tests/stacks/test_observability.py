"""Logs and monitoring in the example environments."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from stackyard.render import Rendering
from tests.conftest import STACKS


def bodies(rendering: Rendering, kind: str) -> list[dict[str, Any]]:
    return [m.body for m in rendering.manifests if m.kind == kind]


def fluent_bit_config(rendering: Rendering) -> dict[str, Any]:
    (config_map,) = [
        b for b in bodies(rendering, "ConfigMap") if b["metadata"]["name"].startswith("fluent-bit-config-")
    ]
    parsed: dict[str, Any] = yaml.safe_load(config_map["data"]["fluent-bit.yaml"])
    return parsed


def chart_values(rendering: Rendering, chart: str) -> dict[str, Any]:
    (record,) = [r for r in rendering.records if r.body.get("chart") == chart]
    values: dict[str, Any] = record.body["values"]
    return values


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


@pytest.mark.parametrize("stack", STACKS)
class TestScrapeTargets:
    def test_every_service_monitor_selects_an_existing_service_by_labels_and_port_name(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        # The ingress controller's selects its chart's metrics Service, which only the real engine
        # expands: tests/engine/test_charts.py checks that one.
        monitors = [m for m in bodies(rendered[stack], "ServiceMonitor") if m["metadata"]["namespace"] != "ingress"]
        assert len(monitors) == 3  # frontend, api and Fluent Bit
        services = bodies(rendered[stack], "Service")
        for monitor in monitors:
            namespaces = monitor["spec"]["namespaceSelector"]["matchNames"]
            selected = [
                s
                for s in services
                if s["metadata"]["namespace"] in namespaces
                and matches(monitor["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])
            ]
            assert len(selected) == 1, monitor["metadata"]
            port_names = {port["name"] for port in selected[0]["spec"]["ports"]}
            assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} <= port_names

    def test_every_pod_monitor_selects_pods_that_expose_its_port(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        (monitor,) = bodies(rendered[stack], "PodMonitor")
        deployments = [
            d
            for d in bodies(rendered[stack], "Deployment")
            if matches(monitor["spec"]["selector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert [d["metadata"]["name"] for d in deployments] == ["worker"]
        ports = {p["name"] for c in deployments[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        assert monitor["spec"]["podMetricsEndpoints"][0]["port"] in ports

    def test_every_app_has_alerts_with_promql(self, rendered: dict[str, Rendering], stack: str) -> None:
        rules = bodies(rendered[stack], "PrometheusRule")
        assert sorted(r["metadata"]["name"] for r in rules) == [
            "api-alerts",
            "fluent-bit-alerts",
            "frontend-alerts",
            "worker-alerts",
        ]
        for rule in rules:
            alerts = [alert for group in rule["spec"]["groups"] for alert in group["rules"]]
            assert len(alerts) >= 2
            assert all(alert["expr"].strip() and alert["for"] for alert in alerts)
        api = next(r for r in rules if r["metadata"]["name"] == "api-alerts")
        assert "ApiHighErrorRate" in {a["alert"] for g in api["spec"]["groups"] for a in g["rules"]}

    def test_fluent_bit_ships_everything_and_is_scraped_itself(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        config = fluent_bit_config(rendered[stack])
        assert [i["path"] for i in config["pipeline"]["inputs"]] == ["/var/log/containers/*.log"]
        (monitor,) = [m for m in bodies(rendered[stack], "ServiceMonitor") if m["metadata"]["namespace"] == "logging"]
        assert monitor["spec"]["endpoints"][0]["path"] == "/api/v2/metrics/prometheus"


class TestPerEnvironment:
    def test_dev_ships_logs_to_stdout_and_prod_to_loki(self, rendered: dict[str, Rendering]) -> None:
        dev = fluent_bit_config(rendered["dev"])["pipeline"]["outputs"]
        prod = fluent_bit_config(rendered["prod"])["pipeline"]["outputs"]
        staging = fluent_bit_config(rendered["staging"])["pipeline"]["outputs"]
        assert [o["name"] for o in dev] == ["stdout"]
        assert [(o["name"], o["host"], o["tls"]) for o in prod] == [("loki", "loki.observability.example.com", "on")]
        assert [(o["name"], o["index"]) for o in staging] == [("opensearch", "shop-staging")]

    def test_dev_has_a_small_prometheus_and_prod_a_larger_one_with_storage(
        self, rendered: dict[str, Rendering]
    ) -> None:
        dev = chart_values(rendered["dev"], "kube-prometheus-stack")
        prod = chart_values(rendered["prod"], "kube-prometheus-stack")
        dev_spec, prod_spec = dev["prometheus"]["prometheusSpec"], prod["prometheus"]["prometheusSpec"]
        assert (dev_spec["replicas"], dev_spec["retention"]) == (1, "2d")
        assert "storageSpec" not in dev_spec
        assert (prod_spec["replicas"], prod_spec["retention"], prod_spec["retentionSize"]) == (2, "30d", "80GB")
        assert prod_spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "100Gi"
        assert (dev["alertmanager"]["enabled"], prod["alertmanager"]["enabled"]) == (False, True)

    def test_platform_namespaces_carry_their_documented_pod_security(self, rendered: dict[str, Rendering]) -> None:
        namespaces = {b["metadata"]["name"]: b["metadata"]["labels"] for b in bodies(rendered["prod"], "Namespace")}

        def levels(name: str) -> tuple[str, str, str]:
            labels = namespaces[name]
            return tuple(labels[f"pod-security.kubernetes.io/{m}"] for m in ("enforce", "warn", "audit"))  # type: ignore[return-value]

        assert levels("shop-prod") == ("restricted", "restricted", "restricted")
        assert levels("ingress") == ("restricted", "restricted", "restricted")
        assert levels("logging") == ("privileged", "baseline", "restricted")
        assert levels("monitoring") == ("restricted", "restricted", "restricted")
        assert levels("node-exporter") == ("privileged", "restricted", "restricted")

    def test_backend_credentials_are_secrets_in_the_logging_namespace(self, rendered: dict[str, Rendering]) -> None:
        (secret,) = [b for b in bodies(rendered["prod"], "Secret") if b["metadata"]["namespace"] == "logging"]
        assert secret["metadata"]["name"] == "loki-credentials"
        assert all(value.startswith("<redacted sha256:") for value in secret["stringData"].values())
