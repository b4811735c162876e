"""AppRoute: one route intent, rendered as an Ingress or as an HTTPRoute."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components import AppRoute, AppRouteArgs, Route
from components.routing import hostname
from tests.conftest import Objects, assert_valid_custom_resources, run_program


def route_args(api: str = "ingress", **route: Any) -> AppRouteArgs:
    return AppRouteArgs(
        namespace="shop-test",
        service="web",
        service_port=80,
        service_port_name="http",
        route=Route(**{"host": "shop.example.com", "paths": ["/", "/static"], **route}),
        api=api,  # type: ignore[arg-type]
        ingress_class="traefik" if api == "ingress" else None,
        gateway="public" if api == "gateway" else None,
        labels={"app.kubernetes.io/name": "web"},
    )


def build(args: AppRouteArgs) -> Objects:
    return run_program(lambda: AppRoute("web", args))


class TestHostnames:
    @pytest.mark.parametrize("host", ["shop.example.com", "a.b.c.example.io", "*.example.com", "localhost", "x-1.io"])
    def test_valid_hosts_pass(self, host: str) -> None:
        assert hostname(host) == host

    @pytest.mark.parametrize(
        "host",
        [
            "Shop.example.com",
            "shop_1.example.com",
            "*.",
            "a.*.example.com",
            "*example.com",
            "-a.example.com",
            "10.0.0.1",
            "shop.example.com:443",
            "",
            "a" * 64 + ".com",
            "*",
        ],
    )
    def test_invalid_hosts_and_misplaced_wildcards_fail(self, host: str) -> None:
        with pytest.raises(ValueError, match="must be"):
            hostname(host)


class TestRoute:
    def test_an_issuer_needs_a_tls_secret(self) -> None:
        with pytest.raises(ValidationError, match="clusterIssuer writes the certificate into tlsSecret"):
            Route(host="shop.example.com", cluster_issuer="letsencrypt")

    def test_paths_must_be_absolute_and_unique(self) -> None:
        with pytest.raises(ValidationError, match="absolute path prefix"):
            Route(host="shop.example.com", paths=["api"])
        with pytest.raises(ValidationError, match="more than once"):
            Route(host="shop.example.com", paths=["/a", "/a"])


class TestAppRoute:
    def test_as_ingress_it_uses_the_class_the_host_and_prefix_paths(self) -> None:
        ingress = build(route_args()).get("Ingress", "web")
        assert ingress["spec"]["ingressClassName"] == "traefik"
        (rule,) = ingress["spec"]["rules"]
        assert rule["host"] == "shop.example.com"
        backend = {"service": {"name": "web", "port": {"name": "http"}}}
        assert rule["http"]["paths"] == [
            {"backend": backend, "path": "/", "pathType": "Prefix"},
            {"backend": backend, "path": "/static", "pathType": "Prefix"},
        ]
        assert "tls" not in ingress["spec"]

    def test_as_ingress_tls_and_the_issuer_annotation_are_set(self) -> None:
        ingress = build(route_args(tls_secret="shop-tls", cluster_issuer="letsencrypt")).get("Ingress", "web")
        assert ingress["spec"]["tls"] == [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]
        assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}

    def test_as_gateway_it_is_an_httproute_on_the_environment_gateway(self) -> None:
        objects = build(route_args(api="gateway"))
        assert objects.of_kind("Ingress") == []
        route = objects.get("HTTPRoute", "web")
        assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
        assert route["spec"]["parentRefs"] == [
            {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public", "namespace": "shop-test"}
        ]
        assert route["spec"]["hostnames"] == ["shop.example.com"]
        (rule,) = route["spec"]["rules"]
        assert rule["backendRefs"] == [{"kind": "Service", "name": "web", "port": 80}]
        assert [match["path"]["value"] for match in rule["matches"]] == ["/", "/static"]
        assert_valid_custom_resources(objects.manifests)

    def test_each_api_needs_its_target(self) -> None:
        with pytest.raises(ValidationError, match="api 'gateway' needs gateway"):
            AppRouteArgs(
                namespace="n",
                service="web",
                service_port=80,
                service_port_name="http",
                route=Route(host="a.example.com"),
                api="gateway",
            )
