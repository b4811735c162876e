"""Shared fixtures: run programs under the SDK's mock runtime and look at what they registered."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stackyard import mockrt
from stackyard.chartsource import RECORD, ChartOptions
from stackyard.expander import ExpanderError, find_expander
from stackyard.manifests import Manifest, is_manifest, to_manifest
from stackyard.project import StackInputs, load_stack
from stackyard.render import Rendering, evaluate_stack

ROOT = Path(__file__).resolve().parent.parent
#: The slow tiers, each a folder of tests that runs only when asked for with ``--tier``.
SLOW_TIERS = ("engine", "cluster")
STACKS = ("dev", "staging", "prod")
#: The Kubernetes version the exports are validated against (kubernetes-validate ships up to 1.37).
KUBERNETES_VERSION = "1.36.0"
SHARED_SCHEMAS = ROOT.parent / "shared" / "schemas"
#: The upstream charts at the pinned versions (test data beside the checkout, never in it).
REFERENCE = ROOT.parent / "shared" / "reference"
REFERENCE_CHARTS = REFERENCE / "charts"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--tier",
        choices=("fast", *SLOW_TIERS),
        default="fast",
        help="fast: the mock-runtime suite (make test); engine or cluster: that slow tier only (make e2e)",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The slow tiers' folders are collected only under their ``--tier``, and then only they are."""
    tier = config.getoption("--tier")
    relative = collection_path.resolve().relative_to(ROOT) if collection_path.resolve().is_relative_to(ROOT) else None
    if relative is None or relative.parts[:1] != ("tests",) or len(relative.parts) < 2:
        return None
    folder = relative.parts[1]
    if folder in SLOW_TIERS:
        return folder != tier
    if tier != "fast" and collection_path.is_file():
        return True
    return None


class Objects:
    """The Kubernetes objects one program run registered, by kind and name."""

    def __init__(self, run: mockrt.ProgramRun) -> None:
        self.run = run
        self.manifests = [to_manifest(r) for r in run.registrations if is_manifest(r)]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [m.body for m in self.manifests if m.kind == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        matches = [body for body in self.of_kind(kind) if body["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} named {name!r}, found {len(matches)}"
        return matches[0]

    def of_manifests(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m.kind == kind]

    def kinds(self) -> list[str]:
        return sorted(m.kind for m in self.manifests)

    def registration(self, type_: str, name: str) -> mockrt.Registration:
        matches = [r for r in self.run.registrations if r.type == type_ and r.name == name]
        assert len(matches) == 1, f"expected one {type_} named {name!r}"
        return matches[0]


def run_program(
    program: Callable[[], object],
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    stack: str = "test",
) -> Objects:
    """Run ``program`` under mocks as project ``stackyard`` and return what it registered."""
    run = mockrt.evaluate(
        program, project="stackyard", stack=stack, config=dict(config or {}), secret_keys=secret_keys or []
    )
    return Objects(run)


@pytest.fixture(scope="session")
def rendered() -> dict[str, Rendering]:
    """The three example stacks, each evaluated once per test session: the program's own objects,
    with its charts and remote files as records (``--charts record``)."""
    return {stack: evaluate_stack(ROOT, stack, charts=RECORD) for stack in STACKS}


def complete_charts() -> ChartOptions:
    """Chart options for the complete export from the reference charts, offline; skips the test
    when they or the expander are absent, saying which."""
    if not REFERENCE_CHARTS.is_dir():
        pytest.skip(f"the complete export expands the charts in {REFERENCE_CHARTS}, which is absent in this checkout")
    try:
        find_expander()
    except ExpanderError as error:
        pytest.skip(f"the complete export needs the chart expander: {error}")
    return ChartOptions(mode="expand", chart_dirs=(REFERENCE_CHARTS, REFERENCE / "crds"), offline=True)


def complete_arguments() -> list[str]:
    """The command-line arguments that give :func:`complete_charts`'s export (skipping the same way)."""
    charts = complete_charts()
    return [*(item for folder in charts.chart_dirs for item in ("--chart-dir", str(folder))), "--offline"]


@pytest.fixture(scope="session")
def complete() -> dict[str, Rendering]:
    """The three example stacks' complete exports, charts expanded from the reference charts."""
    charts = complete_charts()
    return {stack: evaluate_stack(ROOT, stack, charts=charts) for stack in STACKS}


@pytest.fixture
def dev_inputs() -> StackInputs:
    """The dev stack's config exactly as the renderer hands it to the program."""
    return load_stack(ROOT, "dev")


def with_change(config: Mapping[str, str], key: str, path: list[str | int], value: Any) -> dict[str, str]:
    """A copy of ``config`` with the JSON value at ``key`` changed at ``path`` (``...`` deletes it)."""
    result = dict(config)
    if not path:
        if value is ...:
            result.pop(key, None)
        else:
            result[key] = value if isinstance(value, str) else json.dumps(value)
        return result
    document = json.loads(result[key])
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    result[key] = json.dumps(document)
    return result


#: API groups that kubernetes-validate knows; everything else is a custom resource.
CORE_GROUPS = ("", "apps", "autoscaling", "batch", "policy", "networking.k8s.io", "rbac.authorization.k8s.io")


def core_objects(rendering: Rendering) -> list[Manifest]:
    """The objects of built-in kinds, which kubernetes-validate can check."""
    return [m for m in rendering.manifests if (m.api_version.rpartition("/")[0]) in CORE_GROUPS]


@functools.cache
def crd_schema(api_version: str, kind: str) -> Any:
    """The strict JSON Schema for a custom resource, from ../shared/schemas."""
    group, _, version = api_version.rpartition("/")
    path = SHARED_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if not path.is_file():
        raise LookupError(f"no schema for {api_version} {kind} at {path}")
    return json.loads(path.read_text())


def assert_valid_custom_resources(manifests: list[Manifest]) -> None:
    """Every manifest validates against its strict CRD schema; skips when ../shared is absent."""
    if not SHARED_SCHEMAS.is_dir():
        pytest.skip(f"the strict CRD schemas live in {SHARED_SCHEMAS}, which is absent in this checkout")
    assert manifests, "nothing to validate"
    failures = []
    for manifest in manifests:
        validator = jsonschema.Draft7Validator(crd_schema(manifest.api_version, manifest.kind))
        failures += [
            f"{manifest.path}: {'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(manifest.body)
        ]
    assert failures == []
