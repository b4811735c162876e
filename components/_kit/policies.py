"""NetworkPolicy building blocks: the namespace-wide policies, and the peers and ports of allow-lists.

Apps describe their traffic as intents (:mod:`components.network_policy`); namespaces and platform
services (ingress, logging, monitoring) write their fixed allow-lists from these blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking

__all__ = [
    "DNS_NAMESPACE",
    "DNS_POD_LABELS",
    "NAMESPACE_NAME_LABEL",
    "PortLike",
    "PortSpec",
    "allow_dns_spec",
    "default_deny_spec",
    "from_anywhere",
    "from_namespaces",
    "namespace_selector",
    "platform_policy_spec",
    "policy_ports",
    "tcp",
    "to_blocks",
    "to_namespaces",
]

#: Where cluster DNS runs in practically every distribution (CoreDNS and kube-dns alike).
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class PortLike(Protocol):
    """A port or port range: :class:`components.network_policy.Port`, or :class:`PortSpec`."""

    @property
    def port(self) -> int: ...
    @property
    def protocol(self) -> str: ...
    @property
    def end_port(self) -> int | None: ...


@dataclass(frozen=True)
class PortSpec:
    """A port for the kit's own rules, which need no validation."""

    port: int
    protocol: str = "TCP"
    end_port: int | None = None


def tcp(*port_numbers: int) -> list[PortSpec]:
    """TCP ports."""
    return [PortSpec(port) for port in port_numbers]


def policy_ports(ports: Sequence[PortLike]) -> list[networking.NetworkPolicyPortArgs] | None:
    """A rule's ports; none means every port."""
    return [
        networking.NetworkPolicyPortArgs(port=port.port, protocol=port.protocol, end_port=port.end_port)
        for port in ports
    ] or None


def namespace_selector(namespace: str) -> meta.LabelSelectorArgs:
    """Selects one namespace by the name label the API server sets on every namespace."""
    return meta.LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: namespace})


def default_deny_spec() -> networking.NetworkPolicySpecArgs:
    """Selects every pod and allows nothing, in either direction."""
    return networking.NetworkPolicySpecArgs(pod_selector=meta.LabelSelectorArgs(), policy_types=["Ingress", "Egress"])


def allow_dns_spec(extra_cidrs: list[str] | None = None) -> networking.NetworkPolicySpecArgs:
    """Lets every pod resolve names through the cluster DNS, and any node-local cache, over UDP and TCP."""
    caches = [
        networking.NetworkPolicyPeerArgs(ip_block=networking.IPBlockArgs(cidr=cidr)) for cidr in extra_cidrs or []
    ]
    return networking.NetworkPolicySpecArgs(
        pod_selector=meta.LabelSelectorArgs(),
        policy_types=["Egress"],
        egress=[
            networking.NetworkPolicyEgressRuleArgs(
                to=[
                    networking.NetworkPolicyPeerArgs(
                        namespace_selector=namespace_selector(DNS_NAMESPACE),
                        pod_selector=meta.LabelSelectorArgs(match_labels=DNS_POD_LABELS),
                    ),
                    *caches,
                ],
                ports=policy_ports([PortSpec(53, "UDP"), PortSpec(53, "TCP")]),
            )
        ],
    )


def platform_policy_spec(
    *,
    ingress: list[networking.NetworkPolicyIngressRuleArgs] | None = None,
    egress: list[networking.NetworkPolicyEgressRuleArgs] | None = None,
    pods: dict[str, str] | None = None,
) -> networking.NetworkPolicySpecArgs:
    """An allow-list for a platform service's pods (``pods``, or every pod of its namespace)."""
    return networking.NetworkPolicySpecArgs(
        pod_selector=meta.LabelSelectorArgs(match_labels=pods or None),
        policy_types=[*(["Ingress"] if ingress is not None else []), *(["Egress"] if egress is not None else [])],
        ingress=ingress,
        egress=egress,
    )


def to_blocks(cidrs: Sequence[str], ports: Sequence[PortLike]) -> networking.NetworkPolicyEgressRuleArgs:
    """Egress to IP blocks on the given ports."""
    return networking.NetworkPolicyEgressRuleArgs(
        to=[networking.NetworkPolicyPeerArgs(ip_block=networking.IPBlockArgs(cidr=cidr)) for cidr in cidrs],
        ports=policy_ports(ports),
    )


def to_namespaces(
    namespaces: list[str], ports: Sequence[PortLike] | None = None
) -> networking.NetworkPolicyEgressRuleArgs:
    """Egress to every pod of the named namespaces (all namespaces when empty), on ``ports`` or any."""
    return networking.NetworkPolicyEgressRuleArgs(to=_namespace_peers(namespaces), ports=policy_ports(ports or []))


def from_namespaces(
    namespaces: list[str], ports: Sequence[PortLike] | None = None
) -> networking.NetworkPolicyIngressRuleArgs:
    """Ingress from every pod of the named namespaces (all namespaces when empty), on ``ports`` or any."""
    return networking.NetworkPolicyIngressRuleArgs(from_=_namespace_peers(namespaces), ports=policy_ports(ports or []))


def from_anywhere(ports: Sequence[PortLike]) -> networking.NetworkPolicyIngressRuleArgs:
    """Ingress from any address (a public entry point), on ``ports`` only."""
    return networking.NetworkPolicyIngressRuleArgs(ports=policy_ports(ports))


def _namespace_peers(namespaces: list[str]) -> list[networking.NetworkPolicyPeerArgs]:
    if not namespaces:
        return [networking.NetworkPolicyPeerArgs(namespace_selector=meta.LabelSelectorArgs())]
    return [
        networking.NetworkPolicyPeerArgs(namespace_selector=namespace_selector(namespace))
        for namespace in sorted(set(namespaces))
    ]
