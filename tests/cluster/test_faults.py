"""Faults: the API server dies in the middle of ``pulumi up`` and comes back.

The first run is expected to fail (what it did is recorded in docs/verification.md); the point is
what follows: a second ``up`` converges with nothing lost (every object of the export exists) and
nothing duplicated (one state entry per URN, no pending operation left behind), and a preview then
plans nothing.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

from e2e import cluster
from e2e.engine import Toolchain, workspace
from stackyard.render import evaluate_stack, write_rendering
from tests.cluster.test_deploy import _missing_objects


def _namespace_exists(name: str, config: Path) -> bool:
    return cluster.kubectl("get", "namespace", name, config=config, check=False).returncode == 0


def test_up_converges_after_the_api_server_died_mid_run(tools: Toolchain, fresh_cluster: Path, tmp_path: Path) -> None:
    with workspace(tools) as ws, cluster.FakeLoadBalancers(fresh_cluster):
        ws.prepare("dev", kubeconfig=fresh_cluster)
        write_rendering(evaluate_stack(ws.project, "dev"), tmp_path / "export")
        index = json.loads((tmp_path / "export" / "index.json").read_text())
        log = tmp_path / "first-up.log"
        first = ws.spawn("up", "--yes", "--stack", "dev", log=log)
        deadline = time.monotonic() + 300
        while not _namespace_exists("shop-dev", fresh_cluster):
            assert first.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "timed out waiting for the first up to create namespace shop-dev"
            time.sleep(0.5)
        cluster.kill("kube-apiserver")
        time.sleep(5)
        cluster.restart_apiserver()
        try:
            first_code = first.wait(timeout=900)
        except subprocess.TimeoutExpired:
            first.kill()
            raise
        first_output = log.read_text()
        second = ws.pulumi("up", "--yes", "--stack", "dev")
        settled = ws.pulumi("preview", "--stack", "dev", "--expect-no-changes", check=False)
        exported = json.loads(ws.pulumi("stack", "export", "--stack", "dev").stdout)["deployment"]
        missing = _missing_objects(index, fresh_cluster)
    print(f"first up exited {first_code}; its end:\n{first_output[-2500:]}")  # recorded for the docs
    assert second.returncode == 0
    assert settled.returncode == 0, settled.output[-3000:]
    assert missing == []
    urns = Counter(resource["urn"] for resource in exported["resources"])
    assert [urn for urn, count in urns.items() if count > 1] == []
    assert not exported.get("pending_operations")
