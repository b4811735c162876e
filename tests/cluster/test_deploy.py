"""A real ``pulumi up`` of every stack (no renderDir) on the local control plane.

Each stack gets a fresh control plane. Deployments roll out for real: the controller manager makes
ReplicaSets and Pods, the scheduler binds them to the fake nodes, kwok marks them Ready. The cluster
has no load balancer or ingress controller, so ``FakeLoadBalancers`` gives LoadBalancer Services
and Ingresses an address, as kwok does for pods; the provider waits for one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from e2e import cluster
from e2e.engine import Result, Toolchain, change_summary, committed_config, workspace
from e2e.gobuild import Built
from stackyard.render import evaluate_stack, write_rendering
from tests.conftest import STACKS
from tests.once import Once

NEW_TAG = "9.9.9"


def _json(*args: str, config: Path) -> Any:
    return json.loads(cluster.kubectl(*args, "-o", "json", config=config).stdout)


def _deployments(config: Path) -> dict[str, dict[str, Any]]:
    items = _json("get", "deployments", "-A", config=config)["items"]
    return {f"{d['metadata']['namespace']}/{d['metadata']['name']}": d for d in items}


def _available(deployment: dict[str, Any]) -> bool:
    conditions = {c["type"]: c["status"] for c in deployment.get("status", {}).get("conditions", [])}
    return conditions.get("Available") == "True"


def _missing_objects(index: dict[str, Any], config: Path) -> list[str]:
    missing = []
    for entry in index["files"]:
        if not entry["path"].startswith("1-manifest/"):
            continue
        group = entry["apiVersion"].rpartition("/")[0]
        resource = f"{entry['kind'].lower()}.{group}" if group else entry["kind"].lower()
        scope = ["-n", entry["namespace"]] if entry.get("namespace") else []
        found = cluster.kubectl("get", resource, entry["name"], *scope, "-o", "name", config=config, check=False)
        if found.returncode != 0:
            missing.append(f"{entry['kind']} {entry.get('namespace') or ''}/{entry['name']}")
    return missing


def _wait(what: str, done: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Deployed:
    """What each step of one stack's life on the local control plane produced."""

    stack: str
    up: Result
    deployments: dict[str, dict[str, Any]]
    missing: list[str]
    second_up: Result
    refresh: Result
    bump_preview: dict[str, int]
    bump_up: Result
    before_bump: dict[str, Any]
    after_bump: dict[str, Any]
    destroy: Result
    namespaces_after: list[str]
    app_namespace: str
    load_balanced: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time of each step, for bench/RESULTS.md."""


def deploy_cycle(tools: Toolchain, built: Built, stack: str, scratch: Path) -> Deployed:
    with cluster.control_plane(built) as config, workspace(tools) as ws:
        ws.prepare(stack, kubeconfig=config)
        ours = scratch / stack
        write_rendering(evaluate_stack(ws.project, stack), ours)
        index = json.loads((ours / "index.json").read_text())
        namespace = next(e["name"] for e in index["files"] if e["kind"] == "Namespace" and e["name"].startswith("shop"))
        seconds: dict[str, float] = {}

        def timed(step: str, *args: str, check: bool = True) -> Result:
            started = time.monotonic()
            result = ws.pulumi(*args, "--stack", stack, check=check)
            seconds[step] = round(time.monotonic() - started, 1)
            return result

        with cluster.FakeLoadBalancers(config) as balancers:
            up = timed("up", "up", "--yes")
            deployments = _deployments(config)
            missing = _missing_objects(index, config)
            second = timed("second up", "up", "--yes", "--expect-no-changes", check=False)
            refresh = timed("refresh", "refresh", "--yes", "--expect-no-changes", check=False)
            app = committed_config(stack)["apps"][0]["name"]
            before = _json("get", "deployment", app, "-n", namespace, config=config)
            image = before["spec"]["template"]["spec"]["containers"][0]["image"]
            bumped = image.rsplit("@", 1)[0].rsplit(":", 1)[0] + f":{NEW_TAG}"
            ws.pulumi("config", "set", "--path", "--stack", stack, "stackyard:apps[0].image", bumped)
            bump_preview = change_summary(ws.pulumi("preview", "--stack", stack, "--json").stdout)
            bump_up = timed("up with a new image", "up", "--yes")
            after = _json("get", "deployment", app, "-n", namespace, config=config)
            destroy = timed("destroy", "destroy", "--yes")
            ours_namespaces = {e["name"] for e in index["files"] if e["kind"] == "Namespace"}
            _wait(
                "the stack's namespaces to be deleted",
                lambda: (
                    not ours_namespaces & {n["metadata"]["name"] for n in _json("get", "ns", config=config)["items"]}
                ),
            )
            left = sorted(ours_namespaces & {n["metadata"]["name"] for n in _json("get", "ns", config=config)["items"]})
            return Deployed(
                stack=stack, up=up, deployments=deployments, missing=missing, second_up=second, refresh=refresh,
                bump_preview=bump_preview, bump_up=bump_up, before_bump=before, after_bump=after, destroy=destroy,
                namespaces_after=left, app_namespace=namespace, load_balanced=list(balancers.patched),
                seconds=seconds,
            )  # fmt: skip


@pytest.fixture(scope="session")
def deployed(tools: Toolchain, controlplane: Built, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Deployed]:
    scratch = tmp_path_factory.mktemp("exports")
    return Once(lambda stack: deploy_cycle(tools, controlplane, stack, scratch))


@pytest.fixture(params=STACKS)
def life(request: pytest.FixtureRequest, deployed: dict[str, Deployed]) -> Deployed:
    return deployed[str(request.param)]


class TestUp:
    def test_up_completes(self, life: Deployed) -> None:
        print(f"{life.stack}: seconds per step {life.seconds}")  # shown with -s; recorded in bench/RESULTS.md
        assert life.up.returncode == 0
        assert "error:" not in life.up.stderr

    def test_every_deployment_becomes_available_through_the_scheduler_and_kwok(self, life: Deployed) -> None:
        assert len(life.deployments) >= 4
        assert [name for name, d in life.deployments.items() if not _available(d)] == []

    def test_every_object_of_the_export_exists_in_the_cluster(self, life: Deployed) -> None:
        assert life.missing == []


class TestConvergence:
    def test_a_second_up_shows_no_changes(self, life: Deployed) -> None:
        assert life.second_up.returncode == 0, life.second_up.output[-3000:]

    def test_refresh_finds_no_drift_from_server_defaulting(self, life: Deployed) -> None:
        assert life.refresh.returncode == 0, life.refresh.output[-3000:]


class TestImageBump:
    def test_it_is_planned_as_an_update_without_replacement(self, life: Deployed) -> None:
        assert life.bump_preview.get("update", 0) >= 1
        assert {op: n for op, n in life.bump_preview.items() if op not in ("same", "update")} == {}

    def test_the_deployment_is_updated_in_place(self, life: Deployed) -> None:
        before, after = life.before_bump, life.after_bump
        assert after["metadata"]["uid"] == before["metadata"]["uid"]
        assert after["spec"]["selector"] == before["spec"]["selector"]
        assert after["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":{NEW_TAG}")
        assert after["metadata"]["generation"] > before["metadata"]["generation"]


class TestTeardown:
    def test_destroy_removes_the_namespaces_without_a_hanging_finalizer(self, life: Deployed) -> None:
        assert life.destroy.returncode == 0
        assert life.namespaces_after == []
