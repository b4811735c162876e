"""Pinned Helm charts, installed with ``helm.v4.Chart``, and the values their dropped hooks demand.

``helm.v4.Chart`` renders a chart like ``helm template`` and never runs Helm hooks. Charts whose
hooks create something the rest of the chart needs (a webhook certificate, a TLS Secret) therefore
break unless their values route around the hook. Each pin lists those values, and
:func:`check_hook_requirements` refuses values that would rely on a hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes.helm.v4 as helm


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


def value_at(values: Mapping[str, Any], path: str) -> object:
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
        f"{requirement.path} must be {requirement.value!r} (found {value_at(values, requirement.path)!r}): "
        f"{requirement.reason}"
        for requirement in pinned.hook_requirements
        if value_at(values, requirement.path) != requirement.value
    ]
    if problems:
        raise ValueError(f"chart {pinned.chart} {pinned.version}: " + "; ".join(problems))


def install_chart(
    name: str,
    pinned: PinnedChart,
    *,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> helm.Chart:
    """Install ``pinned`` as release ``release`` in ``namespace``, after checking its hook requirements."""
    check_hook_requirements(pinned, values)
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
