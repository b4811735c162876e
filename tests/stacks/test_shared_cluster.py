"""Several environments on one cluster: a platform stack, and environments that run on it.

examples/shared-cluster holds a platform stack and dev and staging on it. Rendered together they
are one cluster's worth of objects: no object (nor chart release, nor remote install) is made by
two stacks, the environments hold nothing cluster-wide but their namespace, and the policies of
all three, evaluated together, let the shared platform serve both environments and keep the
environments apart. The project's own dev and staging, each with its own platform, show the
collisions this design avoids.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from stacks.errors import ConfigError
from stacks.loader import parse_stack_config
from stackyard.chartsource import RECORD
from stackyard.cli import main
from stackyard.render import Rendering, evaluate_stack
from tests.conftest import ROOT, complete_arguments
from tests.netpol import Network, Pod

EXAMPLE = ROOT / "examples" / "shared-cluster"
ENVIRONMENTS = ("dev", "staging")
Identity = tuple[str, ...]


@pytest.fixture(scope="module")
def shared() -> dict[str, Rendering]:
    return {stack: evaluate_stack(EXAMPLE, stack, charts=RECORD) for stack in ("platform", *ENVIRONMENTS)}


def identities(rendering: Rendering) -> set[Identity]:
    """What each object or record claims in a cluster: its group, kind, namespace and name."""
    claimed = set()
    for manifest in rendering.manifests:
        group = manifest.body["apiVersion"].rpartition("/")[0]
        namespace = manifest.body["metadata"].get("namespace", "")
        claimed.add((group, manifest.kind, namespace, manifest.name))
    for record in rendering.records:
        body = record.body
        if body["kind"] == "HelmChart":
            claimed.add(("helm release", body["namespace"], body["releaseName"]))
        else:
            claimed.add(("remote install", body["file"]))
    return claimed


def collisions(renderings: dict[str, Rendering]) -> dict[Identity, list[str]]:
    owners: dict[Identity, list[str]] = defaultdict(list)
    for stack, rendering in renderings.items():
        for identity in identities(rendering):
            owners[identity].append(stack)
    return {identity: stacks for identity, stacks in owners.items() if len(stacks) > 1}


def cluster_scoped(rendering: Rendering) -> set[tuple[str, str]]:
    return {(m.kind, m.name) for m in rendering.manifests if "namespace" not in m.body["metadata"]}


class TestOneClustersWorth:
    def test_no_object_release_or_install_is_made_by_two_stacks(self, shared: dict[str, Rendering]) -> None:
        assert collisions(shared) == {}
        assert all(len(identities(rendering)) > 20 for rendering in shared.values())

    def test_each_environment_owns_nothing_cluster_wide_but_its_namespace(self, shared: dict[str, Rendering]) -> None:
        for stack in ENVIRONMENTS:
            assert cluster_scoped(shared[stack]) == {("Namespace", f"shop-{stack}")}
            assert shared[stack].records == []
        assert {"GatewayClass", "ClusterRole", "ClusterRoleBinding"} <= {
            k for k, _ in cluster_scoped(shared["platform"])
        }

    def test_environments_route_through_the_platforms_class(self, shared: dict[str, Rendering]) -> None:
        (gateway_class,) = [m.name for m in shared["platform"].manifests if m.kind == "GatewayClass"]
        for stack in ENVIRONMENTS:
            (gateway,) = [m.body for m in shared[stack].manifests if m.kind == "Gateway"]
            assert gateway["spec"]["gatewayClassName"] == gateway_class

    @pytest.mark.parametrize("stack", ["platform", *ENVIRONMENTS])
    def test_each_stack_passes_the_audit(self, stack: str, tmp_path: Path) -> None:
        report = tmp_path / "report.json"
        arguments = ["audit", stack, "--project", str(EXAMPLE), "--report", str(report), *complete_arguments()]
        assert main(arguments) == 0
        assert json.loads(report.read_text())["passed"] is True

    def test_every_stack_with_its_own_platform_would_collide(self, rendered: dict[str, Rendering]) -> None:
        clashing = collisions({stack: rendered[stack] for stack in ENVIRONMENTS})
        assert ("rbac.authorization.k8s.io", "ClusterRole", "", "logging-fluent-bit") in clashing
        assert ("", "Namespace", "", "monitoring") in clashing
        assert ("helm release", "monitoring", "kube-prometheus-stack") in clashing


@pytest.fixture(scope="module")
def network(shared: dict[str, Rendering]) -> Network:
    """The three stacks' NetworkPolicies evaluated together, as one cluster enforces them."""
    manifests = [m for rendering in shared.values() for m in rendering.manifests]
    policies = [m.body for m in manifests if m.kind == "NetworkPolicy"]
    namespaces = {m.name: m.body["metadata"].get("labels", {}) for m in manifests if m.kind == "Namespace"}
    return Network(policies, namespaces)


class TestTheSharedPlatformServesBothEnvironments:
    @staticmethod
    def app(shared: dict[str, Rendering], stack: str, name: str) -> Pod:
        (body,) = [m.body for m in shared[stack].manifests if m.kind == "Deployment" and m.name == name]
        return Pod(body["metadata"]["namespace"], body["spec"]["template"]["metadata"]["labels"])

    @pytest.mark.parametrize("stack", ENVIRONMENTS)
    def test_the_controller_and_prometheus_reach_each_environment(
        self, shared: dict[str, Rendering], network: Network, stack: str
    ) -> None:
        traefik = Pod("ingress", {"app.kubernetes.io/name": "traefik"})
        prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
        assert network.allows(traefik, self.app(shared, stack, "frontend"), 8080)
        assert network.allows(prometheus, self.app(shared, stack, "api"), 9102)
        assert network.allows(prometheus, self.app(shared, stack, "worker"), 9090)

    def test_the_environments_cannot_reach_each_other(self, shared: dict[str, Rendering], network: Network) -> None:
        assert not network.allows(self.app(shared, "dev", "frontend"), self.app(shared, "staging", "api"), 9000)
        assert network.allows(self.app(shared, "dev", "frontend"), self.app(shared, "dev", "api"), 9000)


APP = '[{"name": "api", "image": "example.com/api:1.0", "port": 9000, "metricsPort": 9102}]'
NAMESPACE = '{"name": "shop-dev"}'


def problems(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("shop", raw)
    return str(caught.value)


class TestShapesAreChecked:
    def test_a_shared_environment_brings_no_log_shipper(self) -> None:
        raw = {
            "platform": "shared",
            "namespace": NAMESPACE,
            "apps": APP,
            "logging": '{"outputs": [{"type": "stdout"}]}',
        }
        assert "shop:logging: not allowed with platform: shared" in problems(raw)

    def test_its_metrics_ports_must_be_ones_the_platform_scrapes(self) -> None:
        raw = {"platform": "shared", "namespace": NAMESPACE, "apps": APP, "monitoring": '{"grafana": false}'}
        assert "shop:apps[0].metricsPort: 9102 is not a port the shared platform's Prometheus may scrape" in problems(
            raw
        )
        raw["monitoring"] = '{"grafana": false, "scrapePorts": [9102]}'
        assert parse_stack_config("shop", raw).platform == "shared"

    def test_a_platform_stack_installs_something(self) -> None:
        assert "a stack without one is a platform stack, which needs at least one of" in problems({})

    def test_apps_need_a_namespace_and_a_namespace_needs_apps(self) -> None:
        assert "shop:namespace: required, since the stack has apps" in problems({"apps": APP})
        assert "shop:apps: an environment needs at least one app" in problems({"namespace": NAMESPACE})

    def test_a_platform_stacks_secrets_name_their_namespace(self) -> None:
        raw = {
            "logging": '{"outputs": [{"type": "stdout"}]}',
            "secrets": '[{"name": "creds", "values": {"password": "pw"}}]',
            "pw": "x",
        }
        assert "shop:secrets[0].namespace: required in a platform stack" in problems(raw)
