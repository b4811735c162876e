"""The complete export applied as a GitOps tool applies it: no Pulumi, only the YAML.

Each stack's export goes to a fresh control plane the way Flux or Argo CD would take it from Git: its CRDs
first (``0-crd/``, until the API server serves them), then the whole Kustomization, server-side and
for real. The controller manager, the scheduler and kwok then take it to running workloads, the
charts' included. Every object that ``pulumi up`` would apply is in the export, or a workload would
wait for a missing ServiceAccount, ConfigMap or Secret; and every chart pod passes its namespace's
Pod Security admission, or its ReplicaSet could not create it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e import cluster
from e2e.gobuild import Built
from tests.cluster.conftest import export
from tests.conftest import STACKS

FIELD_MANAGER = "stackyard-gitops"


@dataclass(frozen=True)
class Applied:
    kubeconfig: Path
    folder: Path
    index: dict[str, Any]
    result: cluster.subprocess.CompletedProcess[str]


@pytest.fixture(scope="module", params=STACKS)
def applied(
    request: pytest.FixtureRequest, controlplane: Built, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Applied]:
    """One stack's complete export, applied to a control plane of its own; the tests of one stack run
    together (module scope, one parameter at a time)."""
    stack = str(request.param)
    folder = tmp_path_factory.mktemp(f"gitops-{stack}")
    index = export(stack, folder)
    with cluster.control_plane(controlplane) as kubeconfig:
        cluster.kubectl("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", str(folder / "0-crd"),
                        config=kubeconfig)  # fmt: skip
        cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s", config=kubeconfig)
        result = cluster.kubectl("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-k", str(folder),
                                 config=kubeconfig, check=False)  # fmt: skip
        yield Applied(kubeconfig, folder, index, result)


def _exported(applied: Applied, *kinds: str) -> list[dict[str, Any]]:
    """The index's Kubernetes objects (not its records or Kustomization), of ``kinds`` or all."""
    objects = [entry for entry in applied.index["files"] if "origin" in entry]
    return [entry for entry in objects if not kinds or entry["kind"] in kinds]


def _from_charts(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry["origin"]["kind"] != "program"]


def test_the_kustomization_applies_every_object_without_an_error(applied: Applied) -> None:
    errors = [line for line in applied.result.stderr.splitlines() if line.strip() and not line.startswith("Warning:")]
    assert errors == []
    assert applied.result.returncode == 0
    assert len(applied.result.stdout.splitlines()) == len(_exported(applied))


def test_the_cluster_holds_every_exported_object_as_exported(applied: Applied) -> None:
    listed = cluster.kubectl("get", "-k", str(applied.folder), "-o", "json", config=applied.kubeconfig)
    live = {
        (item["kind"], item["metadata"].get("namespace"), item["metadata"]["name"])
        for item in json.loads(listed.stdout)["items"]
    }
    exported = {(entry["kind"], entry["namespace"], entry["name"]) for entry in _exported(applied)}
    assert exported - live == set()
    assert _from_charts(_exported(applied, "Deployment", "DaemonSet", "CustomResourceDefinition", "PrometheusRule"))


def test_every_deployment_the_charts_included_becomes_available(applied: Applied) -> None:
    deployments = _exported(applied, "Deployment")
    assert _from_charts(deployments), "the charts bring Deployments (Traefik, the operator, Grafana, ...)"
    for entry in deployments:
        target = (f"deployment/{entry['name']}", "-n", entry["namespace"])
        waited = cluster.kubectl("wait", "--for=condition=Available", *target, "--timeout=180s",
                                 config=applied.kubeconfig, check=False)  # fmt: skip
        assert waited.returncode == 0, (entry["namespace"], entry["name"], waited.stderr, _events(applied, entry))


def test_every_daemonset_runs_a_pod_on_every_node(applied: Applied) -> None:
    daemonsets = _exported(applied, "DaemonSet")
    assert {entry["namespace"] for entry in daemonsets} == {"logging", "node-exporter"}
    for entry in daemonsets:
        status = cluster.kubectl("rollout", "status", f"daemonset/{entry['name']}", "-n", entry["namespace"],
                                 "--timeout=180s", config=applied.kubeconfig, check=False)  # fmt: skip
        assert status.returncode == 0, (entry["namespace"], entry["name"], status.stderr, _events(applied, entry))
        shown = cluster.kubectl("get", "daemonset", entry["name"], "-n", entry["namespace"], "-o", "json",
                                config=applied.kubeconfig)  # fmt: skip
        counts = json.loads(shown.stdout)["status"]
        assert counts["numberReady"] == counts["desiredNumberScheduled"] == len(cluster.NODES)


def _events(applied: Applied, entry: dict[str, Any]) -> str:
    """The namespace's warnings, for a failure message: why a pod was not created or scheduled."""
    shown = cluster.kubectl("get", "events", "-n", entry["namespace"], "--field-selector=type=Warning",
                            config=applied.kubeconfig, check=False)  # fmt: skip
    return shown.stdout[-3000:]
