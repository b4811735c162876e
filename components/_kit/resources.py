"""What a container asks of its node, and how replicas spread: shared by apps and platform services."""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes.core.v1 as core
from pydantic import model_validator

from ..validation import Quantity, quantity_value
from .args import Args

__all__ = ["SPREAD_KEYS", "ResourceList", "Resources", "container_resources", "spread_values"]


class ResourceList(Args):
    """CPU and memory, as Kubernetes quantities."""

    cpu: Quantity
    """CPU, e.g. ``250m`` or ``1``."""
    memory: Quantity
    """Memory, e.g. ``256Mi`` or ``1Gi``."""


class Resources(Args):
    """Container requests and limits. Both are always set: scanners and quotas require them."""

    requests: ResourceList = ResourceList(cpu="100m", memory="128Mi")
    """What the scheduler reserves. Default: 100m CPU, 128Mi memory."""
    limits: ResourceList = ResourceList(cpu="500m", memory="256Mi")
    """The ceiling; memory above it is an OOM kill. Default: 500m CPU, 256Mi memory."""

    def as_dict(self) -> dict[str, dict[str, str]]:
        """As a container's (or a chart's) ``resources`` mapping."""
        return {
            "requests": {"cpu": self.requests.cpu, "memory": self.requests.memory},
            "limits": {"cpu": self.limits.cpu, "memory": self.limits.memory},
        }

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        for key in ("cpu", "memory"):
            request, limit = getattr(self.requests, key), getattr(self.limits, key)
            if quantity_value(request) > quantity_value(limit):
                raise ValueError(f"requests.{key} {request!r} must not exceed limits.{key} {limit!r}")
        return self


def container_resources(resources: Resources) -> core.ResourceRequirementsArgs:
    """A container's requests and limits."""
    bounds = resources.as_dict()
    return core.ResourceRequirementsArgs(requests=bounds["requests"], limits=bounds["limits"])


#: What replicas spread over: nodes, and zones where nodes carry the well-known label (a
#: single-zone cluster ignores that one).
SPREAD_KEYS = ("kubernetes.io/hostname", "topology.kubernetes.io/zone")


def spread_values(pod_labels: dict[str, str]) -> list[dict[str, Any]]:
    """The apps' topology spread, as plain values for a chart or a custom resource's spec."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": pod_labels},
        }
        for key in SPREAD_KEYS
    ]
