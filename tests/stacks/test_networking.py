"""Traffic in the example environments: default deny, intents compiled both ways, routes per environment."""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from typing import Any

import kubernetes_validate
import pytest

from stackyard.project import StackInputs
from stackyard.render import Rendering
from tests.conftest import (
    KUBERNETES_VERSION,
    ROOT,
    STACKS,
    Objects,
    assert_valid_custom_resources,
    run_program,
    with_change,
)

INGRESS = "stackyard:ingress"


def policies(rendering: Rendering) -> dict[str, dict[str, Any]]:
    namespace = app_namespace(rendering)
    return {m.name: m.body for m in rendering.manifests if m.kind == "NetworkPolicy" and m.namespace == namespace}


def app_namespace(rendering: Rendering) -> str:
    (deployment, *_) = [m for m in rendering.manifests if m.kind == "Deployment"]
    return deployment.namespace


def run_dev(config: Mapping[str, str], secret_keys: list[str]) -> Objects:
    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        config=config,
        secret_keys=secret_keys,
        stack="dev",
    )


@pytest.mark.parametrize("stack", STACKS)
class TestExampleNetworks:
    def test_the_app_namespace_denies_everything_both_ways_by_default(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        deny = policies(rendered[stack])["default-deny"]
        assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

    def test_every_app_is_selected_by_a_policy_with_ingress_and_egress(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        by_name = policies(rendered[stack])
        for deployment in (m.body for m in rendered[stack].manifests if m.kind == "Deployment"):
            own = by_name[deployment["metadata"]["name"]]["spec"]
            assert own["podSelector"] == deployment["spec"]["selector"]
            assert own["policyTypes"] == ["Ingress", "Egress"]

    def test_routed_apps_accept_outside_traffic_only_from_the_controller_and_monitoring(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        for name, policy in policies(rendered[stack]).items():
            for rule in policy["spec"].get("ingress", []):
                assert rule["from"], f"{name}: a rule without sources admits everyone"
                for peer in rule["from"]:
                    selector = peer.get("namespaceSelector")
                    if selector is not None:
                        source = selector["matchLabels"]["kubernetes.io/metadata.name"]
                        assert source in ("ingress", "monitoring"), name
                    else:
                        assert "podSelector" in peer, f"{name}: {peer}"
        frontend = policies(rendered[stack])["frontend"]["spec"]["ingress"]
        assert frontend == [
            {
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}],
                "ports": [{"port": 8080, "protocol": "TCP"}],
            },
            {
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                "ports": [{"port": 8080, "protocol": "TCP"}],
            },
        ]

    def test_monitoring_reaches_only_the_metrics_port(self, rendered: dict[str, Rendering], stack: str) -> None:
        api = policies(rendered[stack])["api"]["spec"]["ingress"]
        from_monitoring = [
            rule
            for rule in api
            if rule["from"][0].get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            == "monitoring"
        ]
        assert [rule["ports"] for rule in from_monitoring] == [[{"port": 9102, "protocol": "TCP"}]]

    def test_an_egress_intent_to_an_app_opens_the_callee_to_the_caller(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        by_name = policies(rendered[stack])
        frontend_egress = by_name["frontend"]["spec"]["egress"]
        assert frontend_egress == [
            {
                "ports": [{"port": 9000, "protocol": "TCP"}],
                "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}],
            }
        ]
        callers = {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for rule in by_name["api"]["spec"]["ingress"]
            for peer in rule["from"]
            if "podSelector" in peer
        }
        assert callers == {"frontend", "worker"}

    def test_the_database_is_reached_only_on_its_port(self, rendered: dict[str, Rendering], stack: str) -> None:
        (database,) = [r for r in policies(rendered[stack])["api"]["spec"]["egress"] if "ipBlock" in r["to"][0]]
        assert database["ports"] == [{"port": 5432, "protocol": "TCP"}]


class TestRouteApiSwitch:
    def test_dev_routes_by_ingress_and_prod_by_httproute_on_a_gateway(self, rendered: dict[str, Rendering]) -> None:
        dev_kinds = rendered["dev"].counts()
        prod_kinds = rendered["prod"].counts()
        assert (dev_kinds["Ingress"], dev_kinds["HTTPRoute"], dev_kinds["Gateway"]) == (2, 0, 0)
        # Two app routes and the Gateway's HTTP-to-HTTPS redirect.
        assert (prod_kinds["Ingress"], prod_kinds["HTTPRoute"], prod_kinds["Gateway"]) == (0, 3, 1)

    def test_tls_hosts_are_served_only_over_https_and_plain_http_is_redirected(
        self, rendered: dict[str, Rendering]
    ) -> None:
        routes = {m.name: m.body for m in rendered["prod"].manifests if m.kind == "HTTPRoute"}
        for app in ("frontend", "api"):
            (parent,) = routes[app]["spec"]["parentRefs"]
            assert parent["sectionName"] == "https-shop-example-com"
        redirect = routes["public-https-redirect"]["spec"]
        assert redirect["parentRefs"][0]["sectionName"] == "http"
        assert redirect["hostnames"] == ["shop.example.com"]
        assert redirect["rules"] == [
            {"filters": [{"requestRedirect": {"scheme": "https", "statusCode": 301}, "type": "RequestRedirect"}]}
        ]

    def test_switching_dev_to_the_gateway_api_is_one_config_value(self, dev_inputs: StackInputs) -> None:
        objects = run_dev(with_change(dev_inputs.config, INGRESS, ["routeApi"], "gateway"), dev_inputs.secret_keys)
        assert objects.of_kind("Ingress") == []
        assert {body["metadata"]["name"] for body in objects.of_kind("HTTPRoute")} == {"frontend", "api"}
        (gateway,) = objects.of_kind("Gateway")
        assert gateway["spec"]["gatewayClassName"] == "traefik"
        assert [listener["port"] for listener in gateway["spec"]["listeners"]] == [8000]
        assert_valid_custom_resources(
            [m for m in objects.manifests if m.api_version.startswith("gateway.networking.k8s.io/")]
        )

    def test_envoy_gateway_renders_valid_objects_with_its_own_listener_ports(self, dev_inputs: StackInputs) -> None:
        config = with_change(dev_inputs.config, INGRESS, ["routeApi"], "gateway")
        config = with_change(config, INGRESS, ["implementation"], "envoy-gateway")
        config = with_change(config, "stackyard:apps", [0, "route", "tlsSecret"], "shop-tls")
        objects = run_dev(config, dev_inputs.secret_keys)
        (gateway,) = objects.of_kind("Gateway")
        assert gateway["spec"]["gatewayClassName"] == "envoy-gateway"
        assert [(item["name"], item["port"]) for item in gateway["spec"]["listeners"]] == [
            ("http", 80),
            ("https-shop-dev-example-com", 443),
        ]
        assert_valid_custom_resources(
            [m for m in objects.manifests if m.api_version.startswith("gateway.networking.k8s.io/")]
        )
        core = [m for m in objects.manifests if "." not in m.api_version.split("/")[0] or m.kind == "NetworkPolicy"]
        for manifest in core:
            kubernetes_validate.validate(manifest.body, KUBERNETES_VERSION, strict=True)

    def test_the_legacy_controller_warns_in_the_render(self, dev_inputs: StackInputs) -> None:
        objects = run_dev(
            with_change(dev_inputs.config, INGRESS, ["implementation"], "ingress-nginx"), dev_inputs.secret_keys
        )
        assert len(objects.run.warnings) == 1
        assert "ingress-nginx" in objects.run.warnings[0]
        assert "retired" in objects.run.warnings[0]
        assert {body["spec"]["ingressClassName"] for body in objects.of_kind("Ingress")} == {"nginx"}
