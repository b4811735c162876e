"""NetworkPolicies from intents: small typed rules that compile to ``networking.k8s.io/v1`` specs.

An app says what it talks to (``EgressRule``) and who talks to it (``IngressRule``); the namespace
denies everything else both ways. Rules are flat models with one target each, so they read well in
YAML config and stay simple to publish to other Pulumi languages.
"""

from __future__ import annotations

from typing import Literal

import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking
from pydantic import model_validator

from . import labels
from ._kit.args import Args
from ._kit.policies import DNS_POD_LABELS as DNS_POD_LABELS  # noqa: PLC0414 - was published here
from ._kit.policies import namespace_selector, policy_ports, to_blocks
from ._kit.values import check_cidr
from .validation import DnsLabel, LabelMap, PortNumber

__all__ = [
    "DNS_POD_LABELS",
    "ApiServerAccess",
    "EgressRule",
    "IngressRule",
    "Port",
    "Protocol",
    "app_policy_spec",
    "compile_egress",
    "compile_ingress",
    "to_api_server",
]

Protocol = Literal["TCP", "UDP", "SCTP"]


class Port(Args):
    """A port or port range a rule allows."""

    port: PortNumber
    """The port, or the first port of a range."""
    protocol: Protocol = "TCP"
    """The protocol. Default: TCP."""
    end_port: PortNumber | None = None
    """The last port of a range, at least ``port``. Default: a single port."""

    @model_validator(mode="after")
    def _range_ordered(self) -> Port:
        if self.end_port is not None and self.end_port < self.port:
            raise ValueError(f"endPort {self.end_port} is below port {self.port}, so the range matches nothing")
        return self

    @classmethod
    def tcp(cls, port: int) -> Port:
        """A TCP port."""
        return cls(port=port, protocol="TCP")

    @classmethod
    def udp(cls, port: int) -> Port:
        """A UDP port."""
        return cls(port=port, protocol="UDP")

    def covers(self, port: int) -> bool:
        """Whether ``port`` falls inside this port or range."""
        return self.port <= port <= (self.end_port or self.port)


class _PodPeer(Args):
    """The pods at the far end of a rule: another app, or pods of a namespace. Each rule says
    what ``app`` means for it, and adds its own fields after these."""

    app: DnsLabel | None = None
    """Another app, by name. Default: none."""
    namespace: DnsLabel | None = None
    """Pods in this namespace (narrowed by ``podLabels`` or ``app`` when given). Default: the app's own
    namespace for ``app``; otherwise unset."""
    pod_labels: LabelMap = {}
    """With ``namespace``: only pods with these labels. Default: every pod of the namespace."""


class EgressRule(_PodPeer):
    """Traffic an app may send. Exactly one target: ``app``, ``namespace`` or ``cidr``."""

    app: DnsLabel | None = None
    """Another app, by name; in ``namespace`` when that is set, else in the same namespace. In the
    same environment the target's ingress is opened to match and ``ports`` defaults to its port.
    Default: none; set exactly one of ``app``, ``namespace`` or ``cidr``."""
    cidr: str | None = None
    """An IP block outside the cluster, e.g. ``10.20.0.0/16``. Default: none."""
    except_cidrs: list[str] = []
    """With ``cidr``: sub-blocks to leave out; each must lie inside ``cidr``. Default: none."""
    ports: list[Port] = []
    """Destination ports. Default: the target app's port for ``app``, otherwise every port."""

    @model_validator(mode="after")
    def _one_reachable_target(self) -> EgressRule:
        _check_one_target(self.app, self.namespace, self.cidr, self.pod_labels)
        if self.except_cidrs and self.cidr is None:
            raise ValueError("exceptCidrs only narrows a cidr rule; set cidr")
        if self.cidr is not None:
            check_cidr(self.cidr, self.except_cidrs)
        return self

    @classmethod
    def to_app(cls, app: str, *, namespace: str | None = None, ports: list[Port] | None = None) -> EgressRule:
        """To another app's pods."""
        return cls(app=app, namespace=namespace, ports=ports or [])

    @classmethod
    def to_cidr(
        cls, cidr: str, *, except_cidrs: list[str] | None = None, ports: list[Port] | None = None
    ) -> EgressRule:
        """To an IP block, e.g. a managed database's subnet."""
        return cls(cidr=cidr, except_cidrs=except_cidrs or [], ports=ports or [])

    @classmethod
    def to_namespace(
        cls, namespace: str, *, pod_labels: dict[str, str] | None = None, ports: list[Port] | None = None
    ) -> EgressRule:
        """To pods of a named namespace, optionally only those with ``pod_labels``."""
        return cls(namespace=namespace, pod_labels=pod_labels or {}, ports=ports or [])


class IngressRule(_PodPeer):
    """Traffic an app accepts. Exactly one source: ``app`` or ``namespace``."""

    app: DnsLabel | None = None
    """Another app, by name; in ``namespace`` when that is set, else in the same namespace.
    Default: none; set ``app`` or ``namespace``."""
    ports: list[Port] = []
    """Ports of this app the source may reach. Default: the app's own port."""

    @model_validator(mode="after")
    def _one_source(self) -> IngressRule:
        _check_one_target(self.app, self.namespace, None, self.pod_labels)
        return self

    @classmethod
    def from_app(cls, app: str, *, namespace: str | None = None, ports: list[Port] | None = None) -> IngressRule:
        """From another app's pods."""
        return cls(app=app, namespace=namespace, ports=ports or [])

    @classmethod
    def from_namespace(
        cls, namespace: str, *, pod_labels: dict[str, str] | None = None, ports: list[Port] | None = None
    ) -> IngressRule:
        """From pods of a named namespace, e.g. the ingress controller's or monitoring's."""
        return cls(namespace=namespace, pod_labels=pod_labels or {}, ports=ports or [])


def _check_one_target(app: str | None, namespace: str | None, cidr: str | None, pod_labels: dict[str, str]) -> None:
    if cidr is not None and (app is not None or namespace is not None):
        raise ValueError("a rule has one target: cidr cannot be combined with app or namespace")
    if app is None and namespace is None and cidr is None:
        raise ValueError("a rule needs a target: set app, namespace or cidr")
    if pod_labels and namespace is None:
        raise ValueError("podLabels selects pods within namespace; set namespace")
    if pod_labels and app is not None:
        raise ValueError("podLabels and app both select pods; use one")


def _peer(app: str | None, namespace: str | None, pod_labels: dict[str, str]) -> networking.NetworkPolicyPeerArgs:
    pods = {labels.NAME: app} if app is not None else pod_labels
    return networking.NetworkPolicyPeerArgs(
        namespace_selector=namespace_selector(namespace) if namespace is not None else None,
        pod_selector=meta.LabelSelectorArgs(match_labels=pods) if pods or namespace is None else None,
    )


def compile_egress(rule: EgressRule) -> networking.NetworkPolicyEgressRuleArgs:
    """One egress intent as a NetworkPolicy rule."""
    if rule.cidr is not None:
        peer = networking.NetworkPolicyPeerArgs(
            ip_block=networking.IPBlockArgs(cidr=rule.cidr, except_=list(rule.except_cidrs) or None)
        )
    else:
        peer = _peer(rule.app, rule.namespace, rule.pod_labels)
    return networking.NetworkPolicyEgressRuleArgs(to=[peer], ports=policy_ports(rule.ports))


def compile_ingress(rule: IngressRule) -> networking.NetworkPolicyIngressRuleArgs:
    """One ingress intent as a NetworkPolicy rule."""
    return networking.NetworkPolicyIngressRuleArgs(
        from_=[_peer(rule.app, rule.namespace, rule.pod_labels)], ports=policy_ports(rule.ports)
    )


def app_policy_spec(
    selector: dict[str, str], ingress: list[IngressRule], egress: list[EgressRule]
) -> networking.NetworkPolicySpecArgs:
    """An app's own policy: both directions, so the app's traffic is described in one object."""
    return networking.NetworkPolicySpecArgs(
        pod_selector=meta.LabelSelectorArgs(match_labels=selector),
        policy_types=["Ingress", "Egress"],
        ingress=[compile_ingress(rule) for rule in ingress],
        egress=[compile_egress(rule) for rule in egress],
    )


class ApiServerAccess(Args):
    """Where the Kubernetes API server listens, for the egress rules of pods that talk to it.

    A NetworkPolicy sees the API server's real endpoints (after the ``kubernetes`` Service is
    translated), and their addresses are the cluster's: give them for an exact rule.
    """

    cidrs: list[str] = ["0.0.0.0/0"]
    """The API server's addresses, e.g. ``[10.0.0.10/32]`` (``kubectl get endpoints kubernetes``).
    Default: any address, on the ports below only."""
    ports: list[PortNumber] = [443, 6443]
    """The ports it serves on. Default: 443 and 6443 (the two that distributions use)."""

    @model_validator(mode="after")
    def _valid_blocks(self) -> ApiServerAccess:
        for cidr in self.cidrs:
            check_cidr(cidr)
        return self


def to_api_server(access: ApiServerAccess) -> networking.NetworkPolicyEgressRuleArgs:
    """Egress to the API server."""
    return to_blocks(access.cidrs, [Port.tcp(port) for port in access.ports])
