"""A small evaluator of Kubernetes NetworkPolicy semantics, to test what rendered policies allow.

It follows the API's documented rules (networking.k8s.io/v1): a pod is isolated in a direction
when any policy of its namespace selects it with that policy type; an isolated pod accepts a
connection that at least one selecting policy's rule allows (peers and ports both match; an empty
list matches everything); a connection needs both the source's egress and the target's ingress.
Pods are matched by labels and namespaces by their labels, including the automatic
``kubernetes.io/metadata.name``. ``ipBlock`` peers match outside addresses only, as CNIs do for
pod traffic. Named ports and ``endPort`` are not used by our components and are not modelled.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outside:
    """An address outside the pod network: the internet, a node, the API server's endpoint."""

    address: str


Endpoint = Pod | Outside


class Network:
    def __init__(self, policies: list[dict[str, Any]], namespace_labels: dict[str, dict[str, str]]) -> None:
        self.policies = policies
        self.namespace_labels = namespace_labels

    def allows(self, source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP") -> bool:
        """Whether a connection from ``source`` to ``target`` on ``port`` is allowed both ways."""
        return self._allowed(source, target, port, protocol, "Egress") and self._allowed(
            target, source, port, protocol, "Ingress"
        )

    def admits(self, source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP") -> bool:
        """Whether ``target``'s ingress side accepts ``source`` on ``port``, whatever the source's
        own egress policies say (what the target's namespace lets in)."""
        return self._allowed(target, source, port, protocol, "Ingress")

    def _allowed(self, pod: Endpoint, peer: Endpoint, port: int, protocol: str, direction: str) -> bool:
        if isinstance(pod, Outside):
            return True  # policies only constrain pods
        selecting = [
            policy
            for policy in self.policies
            if policy["metadata"]["namespace"] == pod.namespace
            and direction in policy["spec"].get("policyTypes", ["Ingress"])
            and _matches(policy["spec"].get("podSelector") or {}, pod.labels)
        ]
        if not selecting:
            return True
        rules_key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        return any(
            self._rule_matches(rule, peers_key, policy["metadata"]["namespace"], peer, port=port, protocol=protocol)
            for policy in selecting
            for rule in policy["spec"].get(rules_key) or []
        )

    def _rule_matches(
        self, rule: dict[str, Any], peers_key: str, namespace: str, peer: Endpoint, *, port: int, protocol: str
    ) -> bool:
        ports = rule.get("ports") or []
        if ports and not any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports):
            return False
        peers = rule.get(peers_key) or []
        return not peers or any(self._peer_matches(p, namespace, peer) for p in peers)

    def _peer_matches(self, selector: dict[str, Any], namespace: str, peer: Endpoint) -> bool:
        if "ipBlock" in selector:
            return isinstance(peer, Outside) and _in_block(selector["ipBlock"], peer.address)
        if isinstance(peer, Outside):
            return False
        if "namespaceSelector" in selector:
            labels = {**self.namespace_labels.get(peer.namespace, {}), "kubernetes.io/metadata.name": peer.namespace}
            if not _matches(selector["namespaceSelector"], labels):
                return False
        elif peer.namespace != namespace:
            return False
        return "podSelector" not in selector or _matches(selector["podSelector"], peer.labels)


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "matchExpressions are not modelled"
    return all(labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items())


def _in_block(block: dict[str, Any], address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if ip not in ipaddress.ip_network(block["cidr"]):
        return False
    return not any(ip in ipaddress.ip_network(excluded) for excluded in block.get("except") or [])
