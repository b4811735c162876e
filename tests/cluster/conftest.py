"""The cluster tier's fixtures: a local control plane (etcd, kube-apiserver, the controller manager,
the scheduler and kwok), started by our own scripts and always stopped by them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e import cluster
from e2e.engine import REFERENCE, REFERENCE_GATEWAY_API_CRDS, EngineError, Toolchain, toolchain
from e2e.gobuild import CONTROL_PLANE, Built, ensure
from stackyard.chartsource import ChartOptions
from stackyard.expander import find_expander
from stackyard.render import evaluate_stack, write_rendering
from tests.conftest import ROOT

#: The CRDs of the Gateway API and the Prometheus Operator, from the upstream test data: what a
#: cluster holds when another stack (or an operator) installed them.
REFERENCE_CRDS = (
    REFERENCE_GATEWAY_API_CRDS,
    "charts/kube-prometheus-stack/charts/crds/crds",
)


@pytest.fixture(scope="session")
def tools() -> Toolchain:
    """The engine toolchain, for the tests that run pulumi against the control plane."""
    return toolchain()


@pytest.fixture(scope="session")
def controlplane() -> Built:
    """The control plane's binaries, built once (or found in the cache)."""
    return ensure(CONTROL_PLANE)


@pytest.fixture
def fresh_cluster(controlplane: Built) -> Iterator[Path]:
    """A control plane of its own for one test; stopped (every process, by id) afterwards."""
    with cluster.control_plane(controlplane) as kubeconfig:
        yield kubeconfig


def install_reference_crds(kubeconfig: Path) -> None:
    """Server-side apply the reference CRDs and wait until the API server serves them."""
    if not REFERENCE.is_dir():
        raise EngineError(f"the cluster tier installs CRDs from {REFERENCE}, which is missing")
    for relative in REFERENCE_CRDS:
        cluster.kubectl("apply", "--server-side", "--field-manager=stackyard-e2e", "-f", str(REFERENCE / relative),
                        config=kubeconfig)  # fmt: skip
    cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s", config=kubeconfig)


def complete_charts() -> ChartOptions:
    """The complete export, offline: every chart and the Gateway API install from the upstream test
    data, expanded by stackyard-expand. Raises, naming what is missing, rather than skipping."""
    if not REFERENCE.is_dir():
        raise EngineError(f"the cluster tier expands the charts in {REFERENCE}, which is missing")
    find_expander()
    return ChartOptions(mode="expand", chart_dirs=(REFERENCE / "charts", REFERENCE / "crds"), offline=True)


def complete_arguments() -> list[str]:
    """:func:`complete_charts` as ``stackyard`` command-line arguments."""
    options = complete_charts()
    return ["--charts", "expand", "--offline", *(f"--chart-dir={folder}" for folder in options.chart_dirs)]


def export(stack: str, out: Path) -> dict[str, Any]:
    """The complete export of the committed stack (``stackyard render``) into ``out``; its index.json."""
    write_rendering(evaluate_stack(ROOT, stack, charts=complete_charts()), out)
    index: dict[str, Any] = json.loads((out / "index.json").read_text())
    return index
