"""The recommended ``app.kubernetes.io/*`` labels, built the same way by every component."""

from __future__ import annotations

__all__ = [
    "COMPONENT",
    "HIGH_AVAILABILITY",
    "INGRESS_CONTROLLER",
    "INSTANCE",
    "MANAGED_BY",
    "MANAGED_BY_KEY",
    "NAME",
    "PART_OF",
    "POLICY_EXCEPTION_PREFIX",
    "VERSION",
    "instance_label",
    "policy_exception",
    "recommended_labels",
    "selector_labels",
]

MANAGED_BY = "stackyard"

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
VERSION = "app.kubernetes.io/version"
COMPONENT = "app.kubernetes.io/component"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY_KEY = "app.kubernetes.io/managed-by"


def instance_label(name: str, namespace: str) -> str:
    """``app.kubernetes.io/instance``: the name within its namespace, kept within 63 characters."""
    return f"{name}-{namespace}"[:63].rstrip("-")


def selector_labels(name: str, instance: str) -> dict[str, str]:
    """The labels a selector may use: only these two, because a selector change forces a replacement."""
    return {NAME: name, INSTANCE: instance}


def recommended_labels(
    *, name: str, instance: str, component: str = "", part_of: str = "", version: str = ""
) -> dict[str, str]:
    """Selector labels plus the descriptive ones; empty values are left out rather than exported blank."""
    result = selector_labels(name, instance)
    optional = {VERSION: version, COMPONENT: component, PART_OF: part_of}
    result.update({key: value for key, value in optional.items() if value})
    result[MANAGED_BY_KEY] = MANAGED_BY
    return result


#: Namespace label: its workloads must be highly available (checked by the policy pack).
HIGH_AVAILABILITY = "stackyard.io/high-availability"
#: Namespace label: an ingress controller lives here, so a LoadBalancer Service may too.
INGRESS_CONTROLLER = "stackyard.io/ingress-controller"
#: Annotation prefix of a documented policy exception: ``<prefix><policy>: <reason>``.
POLICY_EXCEPTION_PREFIX = "policy.stackyard.io/skip."


def policy_exception(policy: str, reason: str) -> dict[str, str]:
    """The annotation that excepts an object from one policy, with the reason an auditor will read."""
    return {f"{POLICY_EXCEPTION_PREFIX}{policy}": reason}
