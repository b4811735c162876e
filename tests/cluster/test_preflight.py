"""``stackyard preflight`` on the local control plane: each precondition missing, then present."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from e2e import cluster
from stackyard import preflight
from stackyard.render import evaluate_stack
from tests.cluster.conftest import complete_arguments, complete_charts, install_reference_crds
from tests.conftest import ROOT

CERT_MANAGER_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "clusterissuers.cert-manager.io"},
    "spec": {
        "group": "cert-manager.io",
        "scope": "Cluster",
        "names": {"kind": "ClusterIssuer", "plural": "clusterissuers", "singular": "clusterissuer"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}
ISSUER = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "ClusterIssuer",
    "metadata": {"name": "letsencrypt-staging"},
    "spec": {"acme": {"solvers": [{"http01": {"gatewayHTTPRoute": {"parentRefs": [{"name": "public"}]}}}]}},
}


def _deployment(namespace: str, name: str, labels: dict[str, str], args: list[str]) -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": "registry.example.com/fake:1.0", "args": args}]},
            },
        },
    }


METRICS_API = {
    "apiVersion": "apiregistration.k8s.io/v1",
    "kind": "APIService",
    # A local APIService (no backing Service) counts as available: enough to stand for metrics-server.
    "metadata": {"name": "v1beta1.metrics.k8s.io"},
    "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100},
}


def _apply(obj: dict[str, object], config: Path) -> None:
    cluster.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(obj), config=config)


def _run(stack: str, config: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "stackyard", "preflight", stack, "--kubeconfig", str(config)]
    command += complete_arguments()
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def _export(stack: str) -> preflight.ExportFacts:
    rendering = evaluate_stack(ROOT, stack, charts=complete_charts())
    return preflight.ExportFacts([m.body for m in rendering.manifests], [r.body for r in rendering.records])


def _is_gateway_api_crd(body: dict[str, Any]) -> bool:
    return body.get("kind") == "CustomResourceDefinition" and body["spec"]["group"] == "gateway.networking.k8s.io"


def _statuses(config: Path, export: preflight.ExportFacts) -> dict[str, str]:
    return {check.item: check.status for check in preflight.judge(preflight.gather(str(config), export), export)}


def test_each_precondition_is_reported_missing_then_met(fresh_cluster: Path) -> None:
    export = _export("staging")
    before = _run("staging", fresh_cluster)
    assert before.returncode == 1
    for item in ("resource metrics API", "cert-manager", "DNS pod labels"):
        assert item in before.stdout
    assert _statuses(fresh_cluster, export) == {
        "Kubernetes version": "ok",
        "resource metrics API": "missing",
        "cert-manager": "missing",
        "CRDs": "ok",
        "DNS pod labels": "missing",
        "cluster-scoped objects": "ok",
    }
    _apply(METRICS_API, fresh_cluster)
    _apply(CERT_MANAGER_CRD, fresh_cluster)
    cluster.kubectl("wait", "--for=condition=Established", "crd/clusterissuers.cert-manager.io", config=fresh_cluster)
    _apply(ISSUER, fresh_cluster)
    cluster.kubectl("create", "namespace", "cert-manager", config=fresh_cluster)
    controller = {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"}
    _apply(_deployment("cert-manager", "cert-manager", controller, ["--enable-gateway-api"]), fresh_cluster)
    _apply(_deployment("kube-system", "coredns", {"k8s-app": "kube-dns"}, []), fresh_cluster)
    cluster.kubectl(
        "rollout", "status", "-n", "kube-system", "deployment/coredns", "--timeout=60s", config=fresh_cluster
    )
    after = _run("staging", fresh_cluster)
    assert after.returncode == 0, after.stdout
    assert set(_statuses(fresh_cluster, export).values()) == {"ok"}


def test_a_needed_crd_the_stack_does_not_install_is_missing_until_installed(fresh_cluster: Path) -> None:
    full = _export("staging")
    # The export without the Gateway API install: neither its record nor the CRDs it expanded into.
    without_gateway_install = preflight.ExportFacts(
        [o for o in full.objects if not _is_gateway_api_crd(o)],
        [r for r in full.records if r.get("kind") not in ("ConfigFile", "ConfigGroup")],
    )
    check = preflight.check_crds(preflight.gather(str(fresh_cluster), without_gateway_install), without_gateway_install)
    assert check.status == "missing"
    assert "gateway.networking.k8s.io" in check.detail
    install_reference_crds(fresh_cluster)
    check = preflight.check_crds(preflight.gather(str(fresh_cluster), without_gateway_install), without_gateway_install)
    assert check.status == "ok"


def test_an_old_server_and_another_environments_objects_are_reported(fresh_cluster: Path) -> None:
    export = _export("dev")
    facts = preflight.gather(str(fresh_cluster), export)
    assert preflight.check_version(facts).status == "ok"
    assert preflight.check_version(facts, minimum=(1, 99)).status == "missing"
    other = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "logging", "labels": {
        "app.kubernetes.io/instance": "logging-someone-else"}}}  # fmt: skip
    _apply(other, fresh_cluster)
    check = preflight.check_cluster_scoped(preflight.gather(str(fresh_cluster), export), export)
    assert check.status == "warning"
    assert "Namespace logging (instance 'logging-someone-else')" in check.detail
