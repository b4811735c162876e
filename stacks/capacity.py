"""Whether a namespace's quota leaves room for its apps at their largest, including a rollout.

A quota below what the autoscalers may ask for fails silently at run time: the HPA raises the
replica count, the ReplicaSet cannot create the pods, and the app stays short exactly when it is
busiest. This check makes that a config error instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal

from components import AppArgs, Quota
from components.validation import quantity_value

__all__ = ["ROLLOUT_SURGE", "peak_pods", "quota_shortfalls"]

#: The Deployment's rolling update surges by 25% of its replicas, rounded up.
ROLLOUT_SURGE = 0.25


def peak_pods(app: AppArgs) -> int:
    """The most pods an app can run at once: its replica maximum plus a rollout surge."""
    replicas = app.autoscaling.max_replicas if app.autoscaling is not None else app.replicas
    return replicas + math.ceil(replicas * ROLLOUT_SURGE)


def quota_shortfalls(quota: Quota, apps: Sequence[AppArgs]) -> list[str]:
    """Each quota key the apps could exceed, with its value and what the apps may need."""

    def need(amount: Callable[[AppArgs], str]) -> Decimal:
        return sum((peak_pods(app) * quantity_value(amount(app)) for app in apps), Decimal())

    needs = {
        "requestsCpu": (quota.requests_cpu, need(lambda a: a.resources.requests.cpu)),
        "requestsMemory": (quota.requests_memory, need(lambda a: a.resources.requests.memory)),
        "limitsCpu": (quota.limits_cpu, need(lambda a: a.resources.limits.cpu)),
        "limitsMemory": (quota.limits_memory, need(lambda a: a.resources.limits.memory)),
    }
    problems = [
        f"{key} {limit!r} < {_show(amount, key)}"
        for key, (limit, amount) in needs.items()
        if quantity_value(limit) < amount
    ]
    pods = sum(peak_pods(app) for app in apps)
    if quota.pods < pods:
        problems.append(f"pods {quota.pods} < {pods}")
    return problems


def _show(amount: Decimal, key: str) -> str:
    if key.endswith("Memory"):
        return f"{amount / (1024**3):.2f}Gi"
    return f"{amount.normalize():f} CPU"
