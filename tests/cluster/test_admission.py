"""Server-side admission of every export by a real API server, and Pod Security admission at our labels.

Each export is complete, so it brings its own CRDs (the charts' and the Gateway API install's): those
are applied first, for real, with the export's Namespaces and ServiceAccounts; then every other
object is applied with ``--server-side --dry-run=server``: the API server validates, defaults, runs
CEL rules and admission, and stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import cluster
from e2e.gobuild import Built
from tests.cluster.conftest import export
from tests.conftest import STACKS


@pytest.fixture(scope="module")
def admission_cluster(controlplane: Built) -> Iterator[Path]:
    with cluster.control_plane(controlplane) as kubeconfig:
        yield kubeconfig


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folders = {}
    for stack in STACKS:
        folders[stack] = tmp_path_factory.mktemp(f"export-{stack}")
        export(stack, folders[stack])
    return folders


def _objects(folder: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted((folder / "1-manifest").glob("*.yaml"))]


def _create_namespaces(folder: Path, kubeconfig: Path) -> None:
    """The export's CRDs, Namespaces and ServiceAccounts, for real: the rest is dry-run into them, a
    custom resource is only validated once its CRD is served, and a pod is only admitted when its
    ServiceAccount exists."""
    cluster.kubectl("apply", "--server-side", "--field-manager=stackyard-e2e", "-f", str(folder / "0-crd"),
                    config=kubeconfig)  # fmt: skip
    cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s", config=kubeconfig)
    for pattern in ("v1-namespace-*.yaml", "v1-serviceaccount-*.yaml"):
        for path in sorted((folder / "1-manifest").glob(pattern)):
            cluster.kubectl(
                "apply", "--server-side", "--field-manager=stackyard-e2e", "-f", str(path), config=kubeconfig
            )


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_of_the_export_is_admitted_by_the_api_server(
    stack: str, exports: dict[str, Path], admission_cluster: Path
) -> None:
    folder = exports[stack]
    _create_namespaces(folder, admission_cluster)
    result = cluster.kubectl(
        "apply", "--server-side", "--dry-run=server", "--field-manager=stackyard-e2e", "-o", "name",
        "-f", str(folder / "1-manifest"), config=admission_cluster, check=False,
    )  # fmt: skip
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    rejections = [line for line in lines if not line.startswith("Warning:")]
    warnings = [line for line in lines if line.startswith("Warning:")]
    assert rejections == []
    assert result.returncode == 0
    # The documented exceptions, the two host-access namespaces (docs/architecture.md): the log
    # shipper's warns at baseline, the node exporter's at restricted.
    assert sorted(warnings) == [
        'Warning: would violate PodSecurity "baseline:v1.36": hostPath volumes (volumes "var-log", "state")',
        'Warning: would violate PodSecurity "restricted:v1.36": host namespaces (hostNetwork=true, hostPID=true), '
        'restricted volume types (volumes "proc", "sys", "root" use restricted volume type "hostPath")',
    ]
    assert len(result.stdout.split()) == len(_objects(folder))


def _pod_from_template(workload: dict[str, Any], namespace: str, name: str) -> str:
    template = workload["spec"]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": template["metadata"].get("labels", {})},
        "spec": template["spec"],
    }
    return json.dumps(pod)


def _dry_run_create(manifest: str, kubeconfig: Path) -> cluster.subprocess.CompletedProcess[str]:
    return cluster.kubectl("create", "--dry-run=server", "-f", "-", stdin=manifest, config=kubeconfig, check=False)


class TestPodSecurityAdmission:
    def test_a_pod_that_breaks_restricted_is_rejected_in_an_app_namespace(
        self, exports: dict[str, Path], admission_cluster: Path
    ) -> None:
        _create_namespaces(exports["dev"], admission_cluster)
        rogue = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "rogue", "namespace": "shop-dev"},
            "spec": {
                "containers": [{"name": "rogue", "image": "busybox:1.36", "securityContext": {"privileged": True}}]
            },
        }
        result = _dry_run_create(json.dumps(rogue), admission_cluster)
        assert result.returncode != 0
        assert 'violates PodSecurity "restricted:v1.36"' in result.stderr
        assert "privileged" in result.stderr

    @pytest.mark.parametrize("stack", STACKS)
    def test_every_app_pod_is_admitted_at_restricted(
        self, stack: str, exports: dict[str, Path], admission_cluster: Path
    ) -> None:
        _create_namespaces(exports[stack], admission_cluster)
        deployments = [o for o in _objects(exports[stack]) if o["kind"] == "Deployment"]
        assert deployments
        for deployment in deployments:
            namespace = deployment["metadata"]["namespace"]
            result = _dry_run_create(_pod_from_template(deployment, namespace, "probe"), admission_cluster)
            assert result.returncode == 0, (deployment["metadata"]["name"], result.stderr)
            assert "Warning" not in result.stderr

    def test_the_log_shipper_is_admitted_only_in_its_own_namespace(
        self, exports: dict[str, Path], admission_cluster: Path
    ) -> None:
        _create_namespaces(exports["dev"], admission_cluster)
        daemonsets = [o for o in _objects(exports["dev"]) if o["kind"] == "DaemonSet"]
        (shipper,) = [o for o in daemonsets if o["metadata"]["namespace"] == "logging"]
        own = _dry_run_create(_pod_from_template(shipper, "logging", "probe"), admission_cluster)
        assert own.returncode == 0, own.stderr
        assert 'would violate PodSecurity "baseline:v1.36"' in own.stderr  # the namespace warns at baseline
        moved = json.loads(_pod_from_template(shipper, "shop-dev", "probe"))
        moved["spec"]["serviceAccountName"] = "default"  # its own account exists only in logging
        elsewhere = _dry_run_create(json.dumps(moved), admission_cluster)
        assert elsewhere.returncode != 0
        assert 'violates PodSecurity "restricted:v1.36"' in elsewhere.stderr
        assert '"hostPath"' in elsewhere.stderr
