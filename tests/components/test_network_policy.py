"""Network intents: validation of the value objects and what they compile to."""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking
import pytest
from pydantic import ValidationError

from components import EgressRule, IngressRule, Port
from components.network_policy import compile_egress, compile_ingress
from tests.conftest import run_program


def compiled(rule_args: Any) -> dict[str, Any]:
    """The rule as it appears in an exported NetworkPolicy."""
    is_egress = isinstance(rule_args, EgressRule)

    def program() -> None:
        networking.NetworkPolicy(
            "p",
            metadata=meta.ObjectMetaArgs(name="p", namespace="n"),
            spec=networking.NetworkPolicySpecArgs(
                pod_selector=meta.LabelSelectorArgs(),
                egress=[compile_egress(rule_args)] if is_egress else None,
                ingress=None if is_egress else [compile_ingress(rule_args)],
            ),
        )

    spec = run_program(program).get("NetworkPolicy", "p")["spec"]
    rules: list[dict[str, Any]] = spec["egress" if is_egress else "ingress"]
    return rules[0]


class TestPort:
    def test_factories_set_the_protocol(self) -> None:
        assert (Port.tcp(5432).protocol, Port.udp(53).protocol) == ("TCP", "UDP")

    @pytest.mark.parametrize("port", [0, 65536, -1])
    def test_a_port_out_of_range_is_rejected(self, port: int) -> None:
        with pytest.raises(ValidationError, match="must be a port number from 1 to 65535"):
            Port(port=port)

    def test_a_range_that_ends_before_it_starts_can_never_match(self) -> None:
        with pytest.raises(ValidationError, match="endPort 80 is below port 90, so the range matches nothing"):
            Port(port=90, end_port=80)

    def test_covers_knows_ranges(self) -> None:
        assert Port(port=8000, end_port=8100).covers(8080)
        assert not Port.tcp(80).covers(8080)


class TestEgressRule:
    def test_cidr_with_exceptions_and_ports_compiles_to_an_ip_block(self) -> None:
        rule = EgressRule.to_cidr("10.20.0.0/16", except_cidrs=["10.20.99.0/24"], ports=[Port.tcp(5432)])
        assert compiled(rule) == {
            "ports": [{"port": 5432, "protocol": "TCP"}],
            "to": [{"ipBlock": {"cidr": "10.20.0.0/16", "except": ["10.20.99.0/24"]}}],
        }

    def test_an_app_in_the_same_namespace_is_selected_by_name(self) -> None:
        assert compiled(EgressRule.to_app("api")) == {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}]
        }

    def test_an_app_in_another_namespace_needs_both_selectors(self) -> None:
        assert compiled(EgressRule.to_app("payments", namespace="billing"))["to"] == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "billing"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "payments"}},
            }
        ]

    def test_a_namespace_with_pod_labels_narrows_to_those_pods(self) -> None:
        rule = EgressRule.to_namespace("messaging", pod_labels={"app": "rabbitmq"}, ports=[Port.tcp(5672)])
        assert compiled(rule)["to"] == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "messaging"}},
                "podSelector": {"matchLabels": {"app": "rabbitmq"}},
            }
        ]

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"cidr": "10.0.0.0/33"}, "cidr '10.0.0.0/33' is not a valid network"),
            ({"cidr": "10.0.0.1/8"}, "cidr '10.0.0.1/8' is not a valid network"),
            ({"cidr": "not-an-ip"}, "is not a valid network"),
            ({"cidr": "10.0.0.0/8", "except_cidrs": ["192.168.0.0/24"]}, "is not inside cidr '10.0.0.0/8'"),
            ({"cidr": "10.0.0.0/8", "except_cidrs": ["fd00::/64"]}, "is not inside cidr"),
            ({"cidr": "10.0.0.0/8", "except_cidrs": ["10.0.0.0/8"]}, "removes all of cidr '10.0.0.0/8'"),
            ({"except_cidrs": ["10.0.0.0/8"], "app": "api"}, "exceptCidrs only narrows a cidr rule"),
            ({}, "a rule needs a target"),
            ({"cidr": "10.0.0.0/8", "app": "api"}, "a rule has one target"),
            ({"pod_labels": {"a": "b"}, "cidr": "10.0.0.0/8"}, "podLabels selects pods within namespace"),
            ({"app": "api", "namespace": "x", "pod_labels": {"a": "b"}}, "podLabels and app both select pods"),
            ({"app": "Bad_Name"}, "DNS-1123 label"),
        ],
    )
    def test_bad_intents_fail_early_and_say_why(self, fields: dict[str, Any], message: str) -> None:
        with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(".", r"\.")):
            EgressRule(**fields)


class TestIngressRule:
    def test_from_namespace_selects_the_whole_namespace(self) -> None:
        assert compiled(IngressRule.from_namespace("ingress", ports=[Port.tcp(8080)])) == {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}],
            "ports": [{"port": 8080, "protocol": "TCP"}],
        }

    def test_a_rule_without_source_is_rejected(self) -> None:
        with pytest.raises(ValidationError, match="a rule needs a target"):
            IngressRule()
