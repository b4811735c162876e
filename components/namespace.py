"""AppNamespace: a namespace with Pod Security admission, quota, container defaults and default-deny."""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking
from pydantic import Field, model_validator

from . import labels
from ._kit.args import Args
from ._kit.children import after, name_output
from ._kit.metadata import managed_by, object_meta
from ._kit.policies import allow_dns_spec, default_deny_spec
from ._kit.values import CidrBlock
from .validation import DnsLabel, LabelMap, LabelValue, Quantity, quantity_value

__all__ = [
    "TYPE_TOKEN",
    "AppNamespace",
    "AppNamespaceArgs",
    "ComputeQuota",
    "ContainerDefaults",
    "PodSecurity",
    "PodSecurityLevel",
    "Quota",
    "namespace_policy",
    "platform_namespace",
]

TYPE_TOKEN = "stackyard:index:AppNamespace"

PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


def _check_not_above(low_name: str, low: str, high_name: str, high: str) -> None:
    if quantity_value(low) > quantity_value(high):
        raise ValueError(f"{low_name} {low!r} must not exceed {high_name} {high!r}")


class PodSecurity(Args):
    """Pod Security admission levels for the namespace (``pod-security.kubernetes.io/*`` labels)."""

    enforce: PodSecurityLevel = "restricted"
    """Pods that violate this level are rejected. Default: ``restricted``."""
    audit: PodSecurityLevel = "restricted"
    """Violations of this level are recorded in the API server's audit log. Default: ``restricted``."""
    warn: PodSecurityLevel = "restricted"
    """Violations of this level are returned as warnings to the client. Default: ``restricted``."""
    version: str = Field(default="v1.36", pattern=r"^v1\.[0-9]{1,2}$")
    """The policy version all three levels are pinned to, so that a cluster upgrade cannot tighten or
    loosen them silently. ``latest`` is deliberately not accepted. Default: ``v1.36``."""

    def labels(self) -> dict[str, str]:
        """The admission labels, each level pinned to ``version``."""
        result: dict[str, str] = {}
        for mode in ("enforce", "audit", "warn"):
            result[f"pod-security.kubernetes.io/{mode}"] = getattr(self, mode)
            result[f"pod-security.kubernetes.io/{mode}-version"] = self.version
        return result


class ComputeQuota(Args):
    """Totals for CPU and memory across every pod in the namespace."""

    requests_cpu: Quantity = "4"
    """Sum of all CPU requests. Default: 4 cores."""
    requests_memory: Quantity = "8Gi"
    """Sum of all memory requests. Default: 8Gi."""
    limits_cpu: Quantity = "8"
    """Sum of all CPU limits. Default: 8 cores."""
    limits_memory: Quantity = "16Gi"
    """Sum of all memory limits. Default: 16Gi."""


class Quota(ComputeQuota):
    """A ResourceQuota for the namespace."""

    pods: int = Field(default=50, ge=0)
    """Maximum number of pods. Default: 50."""
    services: int = Field(default=20, ge=0)
    """Maximum number of Services. Default: 20."""
    load_balancers: int = Field(default=0, ge=0)
    """Maximum number of LoadBalancer Services. Default: 0, because apps are exposed through the
    ingress controller, never directly."""
    node_ports: int = Field(default=0, ge=0)
    """Maximum number of NodePort Services. Default: 0, for the same reason."""

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Quota:
        _check_not_above("requests.cpu", self.requests_cpu, "limits.cpu", self.limits_cpu)
        _check_not_above("requests.memory", self.requests_memory, "limits.memory", self.limits_memory)
        return self


class ContainerDefaults(Args):
    """A LimitRange for containers: what a container gets when it declares nothing, and the most it may ask."""

    default_request_cpu: Quantity = "100m"
    """CPU request given to a container that sets none. Default: 100m."""
    default_request_memory: Quantity = "128Mi"
    """Memory request given to a container that sets none. Default: 128Mi."""
    default_limit_cpu: Quantity = "500m"
    """CPU limit given to a container that sets none. Default: 500m."""
    default_limit_memory: Quantity = "512Mi"
    """Memory limit given to a container that sets none. Default: 512Mi."""
    max_cpu: Quantity = "2"
    """Largest CPU limit a single container may set. Default: 2 cores."""
    max_memory: Quantity = "4Gi"
    """Largest memory limit a single container may set. Default: 4Gi."""

    @model_validator(mode="after")
    def _ordered(self) -> ContainerDefaults:
        _check_not_above("defaultRequestCpu", self.default_request_cpu, "defaultLimitCpu", self.default_limit_cpu)
        _check_not_above(
            "defaultRequestMemory", self.default_request_memory, "defaultLimitMemory", self.default_limit_memory
        )
        _check_not_above("defaultLimitCpu", self.default_limit_cpu, "maxCpu", self.max_cpu)
        _check_not_above("defaultLimitMemory", self.default_limit_memory, "maxMemory", self.max_memory)
        return self


class AppNamespaceArgs(Args):
    """Inputs of :class:`AppNamespace`."""

    name: DnsLabel
    """The namespace name. Required: it is the identity of the environment."""
    part_of: LabelValue = ""
    """The ``app.kubernetes.io/part-of`` label (the product, e.g. ``shop``). Default: no label."""
    pod_security: PodSecurity = PodSecurity()
    """Pod Security admission levels. Default: ``restricted`` for enforce, audit and warn."""
    quota: Quota | None = Quota()
    """The ResourceQuota. Default: the :class:`Quota` defaults; ``null`` creates none."""
    container_defaults: ContainerDefaults | None = ContainerDefaults()
    """The container LimitRange. Default: the :class:`ContainerDefaults` defaults; ``null`` creates none."""
    labels: LabelMap = {}
    """Extra labels for the Namespace object. Default: none."""
    annotations: dict[str, str] = {}
    """Annotations for the Namespace object, e.g. documented policy exceptions. Default: none."""
    high_availability: bool = False
    """Whether workloads here must be highly available (at least 2 replicas, or an HPA with
    ``minReplicas`` >= 2); labels the namespace for the policy pack. Default: false."""
    default_deny: bool = True
    """Whether to deny all ingress and egress to every pod unless another policy allows it
    (NetworkPolicy ``default-deny``). Default: true."""
    allow_dns: bool = True
    """Whether every pod may query the cluster DNS in kube-system on port 53, UDP and TCP
    (NetworkPolicy ``allow-dns``). Default: true."""
    dns_cache_cidrs: list[CidrBlock] = []
    """More DNS servers ``allow-dns`` lets pods reach on port 53, e.g. NodeLocal DNSCache's
    link-local ``169.254.20.10/32``, which the cluster-DNS pod selector does not cover. Default: none."""


def _platform_namespace_args(
    name: str, *, part_of: str, pod_security: PodSecurity, labels: dict[str, str] | None = None
) -> AppNamespaceArgs:
    """A namespace for a platform service (ingress, logs, monitoring) that brings its own workloads.

    No quota or container defaults (the service sizes its own pods). Default-deny both ways and
    DNS, like an app namespace; the service's component adds the exact allow-lists its pods need
    (:func:`namespace_policy`).
    """
    return AppNamespaceArgs(
        name=name,
        part_of=part_of,
        pod_security=pod_security,
        labels=labels or {},
        quota=None,
        container_defaults=None,
    )


def namespace_policy(
    name: str, namespace: str, policy_name: str, spec: networking.NetworkPolicySpecArgs, opts: pulumi.ResourceOptions
) -> networking.NetworkPolicy:
    """A NetworkPolicy of a namespace's allow-list, named ``policy_name``."""
    return _policy(name, namespace, policy_name, spec, opts)


class AppNamespace(pulumi.ComponentResource):
    """A namespace for one application environment, with admission, quota and defaults.

    Its children are the Namespace, a ResourceQuota named ``quota`` and a LimitRange named
    ``container-defaults``.
    """

    namespace_name: pulumi.Output[str]
    """The namespace's name, resolved once the Namespace exists."""

    def __init__(self, name: str, args: AppNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = core.Namespace(
            name,
            metadata=meta.ObjectMetaArgs(
                name=args.name, labels=_namespace_labels(args), annotations=dict(args.annotations) or None
            ),
            opts=child,
        )
        inside = after(self, namespace)
        if args.quota is not None:
            _quota(name, args.name, args.quota, inside)
        if args.container_defaults is not None:
            _limit_range(name, args.name, args.container_defaults, inside)
        if args.default_deny:
            _policy(name, args.name, "default-deny", default_deny_spec(), inside)
        if args.allow_dns:
            _policy(name, args.name, "allow-dns", allow_dns_spec(list(args.dns_cache_cidrs)), inside)
        self.namespace_name = name_output(namespace, args.name)
        self.register_outputs({"namespace_name": self.namespace_name})


def platform_namespace(
    owner: pulumi.Resource,
    name: str,
    *,
    part_of: str,
    pod_security: PodSecurity,
    extra_labels: dict[str, str] | None = None,
) -> AppNamespace:
    """The namespace of a platform service, as a child of the service's component (``owner``).

    Its logical name is the namespace's, so the URNs of the ingress, logging and monitoring
    namespaces read the same in every stack.
    """
    return AppNamespace(
        name,
        _platform_namespace_args(name, part_of=part_of, pod_security=pod_security, labels=extra_labels),
        opts=pulumi.ResourceOptions(parent=owner),
    )


def _namespace_labels(args: AppNamespaceArgs) -> dict[str, str]:
    result = dict(args.labels)
    result.update({"kubernetes.io/metadata.name": args.name, **managed_by()})
    if args.part_of:
        result[labels.PART_OF] = args.part_of
    result.update(args.pod_security.labels())
    if args.high_availability:
        result[labels.HIGH_AVAILABILITY] = "true"
    return result


def _policy(
    name: str, namespace: str, policy_name: str, spec: networking.NetworkPolicySpecArgs, opts: pulumi.ResourceOptions
) -> networking.NetworkPolicy:
    return networking.NetworkPolicy(
        f"{name}-{policy_name}",
        metadata=object_meta(policy_name, namespace, managed_by()),
        spec=spec,
        opts=opts,
    )


def _quota(name: str, namespace: str, quota: Quota, opts: pulumi.ResourceOptions) -> core.ResourceQuota:
    return core.ResourceQuota(
        f"{name}-quota",
        metadata=object_meta("quota", namespace, managed_by()),
        spec=core.ResourceQuotaSpecArgs(
            hard={
                "requests.cpu": quota.requests_cpu,
                "requests.memory": quota.requests_memory,
                "limits.cpu": quota.limits_cpu,
                "limits.memory": quota.limits_memory,
                "pods": str(quota.pods),
                "services": str(quota.services),
                "services.loadbalancers": str(quota.load_balancers),
                "services.nodeports": str(quota.node_ports),
            }
        ),
        opts=opts,
    )


def _limit_range(
    name: str, namespace: str, defaults: ContainerDefaults, opts: pulumi.ResourceOptions
) -> core.LimitRange:
    return core.LimitRange(
        f"{name}-container-defaults",
        metadata=object_meta("container-defaults", namespace, managed_by()),
        spec=core.LimitRangeSpecArgs(
            limits=[
                core.LimitRangeItemArgs(
                    type="Container",
                    default_request={"cpu": defaults.default_request_cpu, "memory": defaults.default_request_memory},
                    default={"cpu": defaults.default_limit_cpu, "memory": defaults.default_limit_memory},
                    max={"cpu": defaults.max_cpu, "memory": defaults.max_memory},
                )
            ]
        ),
        opts=opts,
    )
