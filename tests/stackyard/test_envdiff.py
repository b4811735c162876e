"""``stackyard envdiff``: the settings that differ between two environments, per app and per setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import PodSecurity, gateway, labels, log_shipping
from components._kit import apis, policies
from stackyard import envdiff
from stackyard.cli import main
from stackyard.envdiff import diff_settings, effective_settings
from stackyard.render import Rendering, write_rendering
from stackyard.views import ExportView, from_directory, from_rendering
from tests.conftest import ROOT


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
        assert main(["envdiff", "--charts", "record", "dev", "staging", "--project", str(ROOT)]) == 0
        out = capsys.readouterr().out
        assert "dev vs staging:" in out
        assert "opensearch" in out


class TestComponentConventions:
    """envdiff reads back what the components write; it may not import them, so these tie the two."""

    def test_the_names_envdiff_reads_are_the_ones_the_components_write(self) -> None:
        assert (envdiff.NAME_LABEL, envdiff.COMPONENT_LABEL) == (labels.NAME, labels.COMPONENT)
        assert envdiff.HIGH_AVAILABILITY_LABEL == labels.HIGH_AVAILABILITY
        assert envdiff.CLUSTER_ISSUER_ANNOTATION == apis.CLUSTER_ISSUER_ANNOTATION
        assert envdiff.NAMESPACE_NAME_LABEL == policies.NAMESPACE_NAME_LABEL
        assert envdiff.GATEWAY_COMPONENT == gateway.COMPONENT
        assert envdiff.LOG_SHIPPING_CONFIG_PREFIX == log_shipping.CONFIG_MAP_PREFIX
        levels = PodSecurity(enforce="baseline", warn="restricted", audit="privileged").labels()
        read = {mode: levels.get(envdiff.POD_SECURITY_LABEL_PREFIX + mode) for mode in envdiff.POD_SECURITY_MODES}
        assert read == {"enforce": "baseline", "warn": "restricted", "audit": "privileged"}

    def test_objects_labelled_by_the_components_helpers_are_read_as_settings(self) -> None:
        app = labels.recommended_labels(name="api", instance="api-shop", part_of="shop")
        namespace_labels = {**PodSecurity(enforce="baseline").labels(), labels.HIGH_AVAILABILITY: "true"}
        egress = {
            "to": [{"namespaceSelector": {"matchLabels": {policies.NAMESPACE_NAME_LABEL: "data"}},
                    "podSelector": {"matchLabels": {labels.NAME: "postgres"}}}],
            "ports": [{"port": 5432}],
        }  # fmt: skip
        ingress_rule = {"host": "shop.example.com", "http": {"paths": [{"path": "/api"}]}}
        objects = [
            {"kind": "Namespace", "metadata": {"name": "shop", "labels": namespace_labels}},
            {"kind": "NetworkPolicy", "metadata": {"name": "api", "namespace": "shop", "labels": app},
             "spec": {"egress": [egress]}},
            {"kind": "Ingress", "metadata": {"name": "api", "namespace": "shop", "labels": app,
                                             "annotations": {apis.CLUSTER_ISSUER_ANNOTATION: "letsencrypt"}},
             "spec": {"rules": [ingress_rule]}},
        ]  # fmt: skip
        view = ExportView(label="x", manifests={str(i): body for i, body in enumerate(objects)}, records={})
        assert effective_settings(view) == {
            ("namespace shop", "name"): "shop",
            ("namespace shop", "pod security"): "enforce=baseline,warn=restricted,audit=restricted",
            ("namespace shop", "high availability"): "true",
            ("app api", "egress"): "data/app.kubernetes.io/name=postgres:5432",
            ("app api", "route"): "shop.example.com/api",
            ("app api", "certificate issuer"): "letsencrypt",
        }

    def test_every_convention_is_found_in_what_the_components_render(self, rendered: dict[str, Rendering]) -> None:
        settings = effective_settings(from_rendering(rendered["prod"]))
        # Each of these is read through one convention: were it to change in the components alone,
        # envdiff would report the setting missing or default, and this would fail.
        assert {key: settings.get(key) for key in PROD} == PROD
        # The gateway's own redirect route is the gateway's (its component label), not an app's.
        assert [subject for subject, _ in settings if subject == "app public"] == []


#: Settings of the prod stack, reviewed by hand, each read through one component convention.
PROD = {
    # namespace selector label, and the app name label
    ("app worker", "egress"): (
        "10.40.0.0/24:5432; app.kubernetes.io/name=api:9000; messaging/app.kubernetes.io/name=rabbitmq:5672"
    ),
    ("namespace apps", "high availability"): "true",  # the high-availability namespace label
    ("namespace logging", "pod security"): "enforce=privileged,warn=baseline,audit=restricted",  # Pod Security labels
    ("gateway public", "certificate issuer"): "letsencrypt-prod",  # cert-manager's annotation, gateway component
    ("log shipping", "log_level"): "info",  # the log shipper's ConfigMap name and its service keys
    ("log shipping", "storage.max_chunks_up"): "96",
}
