"""Pinned Helm charts, installed with ``helm.v4.Chart``, and the values their dropped hooks demand.

``helm.v4.Chart`` renders a chart like ``helm template`` and never runs Helm hooks. Charts whose
hooks create something the rest of the chart needs (a webhook certificate, a TLS Secret) therefore
break unless their values route around the hook. Each pin lists those values, and
:func:`check_hook_requirements` refuses values that would rely on a hook.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pulumi
import pulumi_kubernetes.helm.v4 as helm
import yaml

__all__ = [
    "ChartMetadata",
    "HookRequirement",
    "PinnedChart",
    "check_hook_requirements",
    "check_local_chart",
    "install_chart",
    "pinned_name",
    "read_chart_metadata",
]


@dataclass(frozen=True)
class HookRequirement:
    """A value that must hold because the chart's hook that would cover for it never runs."""

    path: str
    """Dotted path into the values, e.g. ``prometheusOperator.admissionWebhooks.enabled``."""
    value: object
    """The value it must have."""
    reason: str
    """What the hook would have done."""


@dataclass(frozen=True)
class PinnedChart:
    """A chart at one exact version from one exact repository."""

    chart: str
    """The chart name, or an ``oci://`` reference (then ``repository`` is empty)."""
    version: str
    repository: str = ""
    hook_requirements: tuple[HookRequirement, ...] = field(default=())


def _value_at(values: Mapping[str, Any], path: str) -> object:
    """The value at a dotted path, or ``None`` when any step is missing."""
    current: object = values
    for step in path.split("."):
        if not isinstance(current, Mapping) or step not in current:
            return None
        current = current[step]
    return current


def check_hook_requirements(pinned: PinnedChart, values: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming each value that would depend on a hook ``helm.v4.Chart`` drops."""
    problems = [
        f"{requirement.path} must be {requirement.value!r} (found {_value_at(values, requirement.path)!r}): "
        f"{requirement.reason}"
        for requirement in pinned.hook_requirements
        if _value_at(values, requirement.path) != requirement.value
    ]
    if problems:
        raise ValueError(f"chart {pinned.chart} {pinned.version}: " + "; ".join(problems))


@dataclass(frozen=True)
class ChartMetadata:
    """The identity a chart declares in its ``Chart.yaml``."""

    name: str
    version: str


def pinned_name(pinned: PinnedChart) -> str:
    """The chart's own name: the last segment of an ``oci://`` reference, else the chart."""
    return pinned.chart.rstrip("/").rsplit("/", 1)[-1]


def read_chart_metadata(path: Path) -> ChartMetadata:
    """Read ``Chart.yaml`` from a chart folder or a packaged ``.tgz``; raise ``ValueError`` saying why not."""
    if path.is_dir():
        chart_file = path / "Chart.yaml"
        if not chart_file.is_file():
            raise ValueError(f"{str(path)!r} is a folder without a Chart.yaml, so it is not a Helm chart")
        text = chart_file.read_text(encoding="utf-8")
    elif path.is_file():
        text = _packaged_chart_yaml(path)
    else:
        raise ValueError(f"{str(path)!r} does not exist; give a chart folder or a packaged .tgz")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{str(path)!r}: its Chart.yaml is not valid YAML ({error})") from None
    if not isinstance(data, dict) or not data.get("name") or not data.get("version"):
        raise ValueError(f"{str(path)!r}: its Chart.yaml has no name and version")
    return ChartMetadata(name=str(data["name"]), version=str(data["version"]))


def _packaged_chart_yaml(path: Path) -> str:
    """The top-level ``<chart>/Chart.yaml`` of a ``helm package`` archive."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        return extracted.read().decode("utf-8")
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError, zlib.error) as error:
        # zlib.error: damage inside a member that tarfile skips over to reach the next header.
        raise ValueError(f"{str(path)!r} is not a packaged Helm chart (.tgz): {error}") from None
    raise ValueError(f"{str(path)!r} holds no <chart>/Chart.yaml, so it is not a packaged Helm chart")


def check_local_chart(path: str, pinned: PinnedChart) -> ChartMetadata:
    """Refuse a local chart that is missing, unreadable, another chart or another version (``ValueError``).

    The values a component passes are verified for its pinned version only, and the export records
    the pin; so a local copy must be exactly that chart at that version.
    """
    found = read_chart_metadata(Path(path))
    if found.name != pinned_name(pinned):
        raise ValueError(
            f"{path!r} is chart {found.name!r} {found.version}, not {pinned_name(pinned)!r}, the chart this "
            f"component installs (pinned at {pinned.version})"
        )
    if found.version.lstrip("v") != pinned.version.lstrip("v"):
        raise ValueError(
            f"{path!r} is {found.name} {found.version}, but this component pins {pinned.version}: the values it "
            f"passes were written and verified for {pinned.version}, so give a copy of that version"
        )
    return found


def install_chart(
    name: str,
    pinned: PinnedChart,
    *,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
    local_path: str | None = None,
) -> helm.Chart:
    """Install ``pinned`` (or the local chart at ``local_path``) as ``release`` in ``namespace``.

    Its hook requirements are checked first. A local chart replaces the repository, for clusters
    without internet access; it was checked to be the same chart when the args were validated.
    """
    check_hook_requirements(pinned, values)
    if local_path is not None:
        return helm.Chart(name, chart=local_path, name=release, namespace=namespace, values=dict(values), opts=opts)
    return helm.Chart(
        name,
        chart=pinned.chart,
        version=pinned.version,
        repository_opts=helm.RepositoryOptsArgs(repo=pinned.repository) if pinned.repository else None,
        name=release,
        namespace=namespace,
        values=dict(values),
        opts=opts,
    )
