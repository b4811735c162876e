"""Every namespace of a stack denies by default, and the platform's own traffic still flows.

The rendered NetworkPolicies are evaluated with the API's semantics (tests/netpol.py) for the
connections the platform needs (and some it must not make). kwok runs no CNI, so the cluster tier
cannot enforce policies; this is where their meaning is tested.
"""

from __future__ import annotations

from typing import Any

import pytest

from components import Monitoring, MonitoringArgs
from stackyard.render import Rendering
from tests.conftest import STACKS, run_program
from tests.netpol import Network, Outside, Pod

INTERNET = Outside("203.0.113.7")
API_SERVER = Outside("10.0.0.1")
NODE = Outside("192.0.2.10")
DNS = Pod("kube-system", {"k8s-app": "kube-dns"})
PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
ALERTMANAGER = Pod("monitoring", {"app.kubernetes.io/name": "alertmanager"})
GRAFANA = Pod("monitoring", {"app.kubernetes.io/name": "grafana"})
TRAEFIK = Pod("ingress", {"app.kubernetes.io/name": "traefik"})
STRANGER = Pod("someone-else", {"app": "curious"})


def network(rendering: Rendering) -> Network:
    policies = [m.body for m in rendering.manifests if m.kind == "NetworkPolicy"]
    namespaces = {m.name: m.body["metadata"].get("labels", {}) for m in rendering.manifests if m.kind == "Namespace"}
    return Network(policies, namespaces)


def workload_pod(rendering: Rendering, kind: str, name: str) -> Pod:
    (body,) = [m.body for m in rendering.manifests if m.kind == kind and m.name == name]
    return Pod(body["metadata"]["namespace"], body["spec"]["template"]["metadata"]["labels"])


def app_namespace(rendering: Rendering) -> str:
    (name,) = [m.name for m in rendering.manifests if m.kind == "Namespace" and m.name.startswith("shop-")]
    return name


def metrics_port(rendering: Rendering, app: str) -> int:
    """The app's metrics port: its own ``metrics`` port, or its only port when it serves metrics there."""
    (body,) = [m.body for m in rendering.manifests if m.kind == "Deployment" and m.name == app]
    ports = {p["name"]: p["containerPort"] for p in body["spec"]["template"]["spec"]["containers"][0]["ports"]}
    if "metrics" in ports:
        return int(ports["metrics"])
    (only,) = ports.values()
    return int(only)


@pytest.mark.parametrize("stack", STACKS)
class TestEveryNamespaceIsClosed:
    def test_each_namespace_has_default_deny_both_ways_and_dns(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        rendering = rendered[stack]
        namespaces = {m.name for m in rendering.manifests if m.kind == "Namespace"}
        assert {"ingress", "logging", "monitoring"} <= namespaces
        net = network(rendering)
        for namespace in namespaces:
            nobody = Pod(namespace, {"app.kubernetes.io/name": "not-a-known-pod"})
            # Not 443: without the cluster's API server addresses, platform pods may use 443 anywhere.
            assert not net.allows(nobody, INTERNET, 5432), namespace
            assert not net.allows(STRANGER, nobody, 8080), namespace
            assert net.allows(nobody, DNS, 53, "UDP"), namespace

    def test_a_pod_of_another_namespace_reaches_no_platform_port(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        net = network(rendered[stack])
        fluent_bit = workload_pod(rendered[stack], "DaemonSet", "fluent-bit")
        assert not net.allows(STRANGER, fluent_bit, 2020)
        assert not net.allows(STRANGER, PROMETHEUS, 9090)
        assert not net.allows(STRANGER, GRAFANA, 3000)
        assert not net.allows(STRANGER, TRAEFIK, 9100)


@pytest.mark.parametrize("stack", STACKS)
class TestThePlatformStillWorks:
    def test_the_internet_reaches_the_controller_on_its_entry_ports_only(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        net = network(rendered[stack])
        assert net.allows(INTERNET, TRAEFIK, 8000)
        assert net.allows(INTERNET, TRAEFIK, 8443)
        assert not net.allows(INTERNET, TRAEFIK, 9100)
        assert not net.allows(INTERNET, TRAEFIK, 8080)  # Traefik's dashboard/API port

    def test_the_controller_reaches_routed_apps_and_the_api_server_but_not_the_rest(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        rendering, net = rendered[stack], network(rendered[stack])
        frontend = workload_pod(rendering, "Deployment", "frontend")
        worker = workload_pod(rendering, "Deployment", "worker")
        assert net.allows(TRAEFIK, frontend, 8080)
        assert net.allows(TRAEFIK, API_SERVER, 443)
        assert not net.allows(TRAEFIK, worker, 9090)  # the worker has no route
        assert not net.allows(TRAEFIK, PROMETHEUS, 9090)

    def test_prometheus_scrapes_apps_the_shipper_the_controller_and_nodes(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        rendering, net = rendered[stack], network(rendered[stack])
        fluent_bit = workload_pod(rendering, "DaemonSet", "fluent-bit")
        for app in ("frontend", "api", "worker"):
            assert net.allows(PROMETHEUS, workload_pod(rendering, "Deployment", app), metrics_port(rendering, app)), app
        assert net.allows(PROMETHEUS, fluent_bit, 2020)
        assert net.allows(PROMETHEUS, TRAEFIK, 9100)
        assert net.allows(PROMETHEUS, NODE, 10250)  # the kubelet
        assert net.allows(PROMETHEUS, ALERTMANAGER, 9093)
        assert not net.allows(GRAFANA, workload_pod(rendering, "Deployment", "frontend"), 8080)

    def test_fluent_bit_reaches_the_api_server_and_its_backend_only(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        rendering, net = rendered[stack], network(rendered[stack])
        fluent_bit = workload_pod(rendering, "DaemonSet", "fluent-bit")
        assert net.allows(fluent_bit, API_SERVER, 443)
        assert not net.allows(fluent_bit, workload_pod(rendering, "Deployment", "api"), 9000)
        assert not net.allows(fluent_bit, PROMETHEUS, 9090)

    def test_apps_keep_their_own_allow_lists(self, rendered: dict[str, Rendering], stack: str) -> None:
        rendering, net = rendered[stack], network(rendered[stack])
        frontend = workload_pod(rendering, "Deployment", "frontend")
        api = workload_pod(rendering, "Deployment", "api")
        assert net.allows(frontend, api, 9000)
        assert not net.allows(api, frontend, 8080)
        assert app_namespace(rendering) == frontend.namespace


class TestExactAddresses:
    """With the cluster's addresses given, the monitoring namespace's rules narrow to them."""

    def test_alertmanager_reaches_https_receivers_and_prometheus_only_the_given_addresses(self) -> None:
        net = monitoring_network(
            alertmanager={"receivers": [{"name": "hook", "webhook": {"url": {"secret": "s", "key": "k"}}}]},
            api_server={"cidrs": ["10.0.0.1/32"], "ports": [6443]},
            node_cidrs=["192.0.2.0/24"],
        )
        assert net.allows(ALERTMANAGER, INTERNET, 443)
        assert not net.allows(PROMETHEUS, INTERNET, 443)
        assert net.allows(PROMETHEUS, API_SERVER, 6443)
        assert not net.allows(PROMETHEUS, API_SERVER, 443)
        assert net.allows(PROMETHEUS, NODE, 10250)
        assert not net.allows(PROMETHEUS, Outside("198.51.100.1"), 10250)

    def test_without_alertmanager_nothing_in_the_namespace_leaves_on_https(self) -> None:
        net = monitoring_network(alertmanager=False, api_server={"cidrs": ["10.0.0.1/32"]})
        assert not net.allows(ALERTMANAGER, INTERNET, 443)
        assert not net.allows(GRAFANA, INTERNET, 443)
        assert net.allows(GRAFANA, PROMETHEUS, 9090)


def monitoring_network(**fields: Any) -> Network:
    args = MonitoringArgs(**{"grafana_admin_secret": "grafana-admin", **fields})
    objects = run_program(lambda: Monitoring("kube-prometheus-stack", args))
    return Network(objects.of_kind("NetworkPolicy"), {})
