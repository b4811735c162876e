"""Prometheus Operator objects (ServiceMonitor, PodMonitor, PrometheusRule), as several components write them.

pulumi-kubernetes has no typed classes for these kinds, so the specs are plain mappings; tests check
them against the operator's CRD schemas.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes.meta.v1 as meta
from pulumi_kubernetes import apiextensions

from .apis import MONITORING_API_VERSION

__all__ = ["monitor_spec", "monitoring_object", "rule_groups"]


def monitoring_object(
    logical_name: str, kind: str, metadata: meta.ObjectMetaArgs, spec: dict[str, Any], opts: pulumi.ResourceOptions
) -> apiextensions.CustomResource:
    """One Prometheus Operator object of ``kind``."""
    return apiextensions.CustomResource(
        logical_name, api_version=MONITORING_API_VERSION, kind=kind, metadata=metadata, spec=spec, opts=opts
    )


def monitor_spec(
    selector: dict[str, str], namespace: str, endpoints: list[dict[str, Any]], endpoints_key: str = "endpoints"
) -> dict[str, Any]:
    """A ServiceMonitor's (or, with ``podMetricsEndpoints``, a PodMonitor's) spec: exactly these
    labels, in that namespace only."""
    return {
        "selector": {"matchLabels": selector},
        "namespaceSelector": {"matchNames": [namespace]},
        endpoints_key: endpoints,
    }


def rule_groups(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """A PrometheusRule's spec: one group of rules."""
    return {"groups": [{"name": name, "rules": rules}]}
