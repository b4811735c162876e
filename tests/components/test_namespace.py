"""AppNamespace: Pod Security admission labels, quota and container defaults."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components import AppNamespace, AppNamespaceArgs, ContainerDefaults, PodSecurity, Quota
from components.namespace import TYPE_TOKEN
from tests.conftest import Objects, run_program


def build(**overrides: Any) -> Objects:
    args = AppNamespaceArgs(**{"name": "shop-test", "part_of": "shop", **overrides})
    return run_program(lambda: AppNamespace("shop-test", args))


class TestAppNamespace:
    def test_it_creates_the_namespace_quota_limit_range_and_policies_as_its_children(self) -> None:
        objects = build()
        assert objects.kinds() == ["LimitRange", "Namespace", "NetworkPolicy", "NetworkPolicy", "ResourceQuota"]
        component = objects.registration(TYPE_TOKEN, "shop-test")
        assert all(r.parent_urn == component.urn for r in objects.run.registrations if r.custom)

    def test_pod_security_defaults_to_restricted_for_every_mode_pinned_to_a_version(self) -> None:
        labels = build().get("Namespace", "shop-test")["metadata"]["labels"]
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
            assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.36"

    def test_pod_security_levels_are_configurable_per_mode(self) -> None:
        security = PodSecurity(enforce="baseline", audit="restricted", warn="restricted", version="v1.35")
        labels = build(pod_security=security).get("Namespace", "shop-test")["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
        assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.35"

    def test_the_namespace_carries_recommended_and_extra_labels(self) -> None:
        labels = build(labels={"team": "checkout"}).get("Namespace", "shop-test")["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "shop"
        assert labels["app.kubernetes.io/managed-by"] == "stackyard"
        assert labels["team"] == "checkout"

    def test_the_quota_forbids_load_balancers_and_node_ports_by_default(self) -> None:
        hard = build().get("ResourceQuota", "quota")["spec"]["hard"]
        assert hard["services.loadbalancers"] == "0"
        assert hard["services.nodeports"] == "0"
        assert hard["requests.cpu"] == "4"
        assert hard["pods"] == "50"

    def test_quota_values_come_from_args(self) -> None:
        quota = Quota(requests_cpu="2", limits_cpu="3", pods=7)
        hard = build(quota=quota).get("ResourceQuota", "quota")["spec"]["hard"]
        assert (hard["requests.cpu"], hard["limits.cpu"], hard["pods"]) == ("2", "3", "7")

    def test_the_limit_range_sets_container_defaults_and_maximums(self) -> None:
        (limit,) = build().get("LimitRange", "container-defaults")["spec"]["limits"]
        assert limit == {
            "default": {"cpu": "500m", "memory": "512Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
            "max": {"cpu": "2", "memory": "4Gi"},
            "type": "Container",
        }

    def test_allow_dns_can_include_a_node_local_dns_cache(self) -> None:
        (rule,) = build(dns_cache_cidrs=["169.254.20.10/32"]).get("NetworkPolicy", "allow-dns")["spec"]["egress"]
        assert rule["to"][1] == {"ipBlock": {"cidr": "169.254.20.10/32"}}
        with pytest.raises(ValidationError, match="is not a valid network"):
            AppNamespaceArgs(name="shop", dns_cache_cidrs=["169.254.20.10/33"])

    def test_quota_limit_range_and_policies_can_be_switched_off(self) -> None:
        objects = build(quota=None, container_defaults=None, default_deny=False, allow_dns=False)
        assert objects.kinds() == ["Namespace"]

    def test_default_deny_selects_every_pod_and_allows_nothing_either_way(self) -> None:
        policy = build().get("NetworkPolicy", "default-deny")
        assert policy["metadata"]["namespace"] == "shop-test"
        assert policy["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

    def test_allow_dns_lets_every_pod_reach_cluster_dns_over_udp_and_tcp(self) -> None:
        spec = build().get("NetworkPolicy", "allow-dns")["spec"]
        assert spec["podSelector"] == {}
        assert spec["policyTypes"] == ["Egress"]
        (rule,) = spec["egress"]
        assert rule["to"] == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ]
        assert rule["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]

    @pytest.mark.parametrize(
        ("factory", "message"),
        [
            (lambda: AppNamespaceArgs(name="Shop"), "DNS-1123 label"),
            (lambda: PodSecurity(version="latest"), "String should match pattern"),
            (lambda: PodSecurity(enforce="strict"), "'privileged', 'baseline' or 'restricted'"),
            (lambda: Quota(requests_cpu="9", limits_cpu="8"), "requests.cpu '9' must not exceed limits.cpu '8'"),
            (lambda: ContainerDefaults(default_limit_cpu="3"), "defaultLimitCpu '3' must not exceed maxCpu '2'"),
        ],
    )
    def test_bad_args_are_rejected_with_what_is_allowed(self, factory: Any, message: str) -> None:
        with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(".", r"\.")):
            factory()
