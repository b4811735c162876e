"""Each baseline policy with a passing and a failing object, and documented exceptions."""

from __future__ import annotations

import copy
from typing import Any

from policy import RULES, evaluate
from policy.rules import (
    check_default_deny,
    check_disruption_budgets,
    check_env_secrets,
    check_high_availability,
    check_image_pinned,
    check_load_balancers,
    check_pod_security,
    check_requests_and_limits,
)

LABELS = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web-shop"}


def deployment(**spec: Any) -> dict[str, Any]:
    container = {
        "name": "web",
        "image": "registry.example.com/web:1.2.3",
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": LABELS},
            "template": {"metadata": {"labels": LABELS}, "spec": {"containers": [container]}},
            **spec,
        },
    }


def container_of(manifest: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = manifest["spec"]["template"]["spec"]["containers"][0]
    return result


def namespace(name: str = "shop", **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def budget(namespace_name: str = "shop") -> dict[str, Any]:
    return {
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": namespace_name},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": LABELS}},
    }


def deny_all(namespace_name: str = "shop", types: tuple[str, ...] = ("Ingress", "Egress")) -> dict[str, Any]:
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": namespace_name},
        "spec": {"podSelector": {}, "policyTypes": list(types)},
    }


def hpa(minimum: int) -> dict[str, Any]:
    return {
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"minReplicas": minimum, "maxReplicas": 5, "scaleTargetRef": {"kind": "Deployment", "name": "web"}},
    }


class TestResourcePolicies:
    def test_pod_security(self) -> None:
        assert check_pod_security(deployment()) == []
        bad = deployment()
        container_of(bad)["securityContext"]["allowPrivilegeEscalation"] = True
        assert len(check_pod_security(bad)) == 1

    def test_requests_and_limits(self) -> None:
        assert check_requests_and_limits(deployment()) == []
        bad = deployment()
        del container_of(bad)["resources"]["limits"]["memory"]
        assert check_requests_and_limits(bad) == ["spec.template.spec.containers[0].resources.limits: no memory"]

    def test_image_pinned(self) -> None:
        assert check_image_pinned(deployment()) == []
        for image in ("registry.example.com/web:latest", "registry.example.com:5000/web", "web"):
            bad = deployment()
            container_of(bad)["image"] = image
            assert len(check_image_pinned(bad)) == 1, image
        pinned = deployment()
        container_of(pinned)["image"] = "registry.example.com/web@sha256:" + "a" * 64
        assert check_image_pinned(pinned) == []

    def test_no_secret_in_env_value(self) -> None:
        good = deployment()
        container_of(good)["env"] = [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        ]
        assert check_env_secrets(good) == []
        bad = copy.deepcopy(good)
        container_of(bad)["env"].append({"name": "API_TOKEN", "value": "abc"})
        assert check_env_secrets(bad) == [
            "spec.template.spec.containers[0].env[2] (API_TOKEN): looks like a secret but is a plain value"
        ]


class TestStackPolicies:
    def test_high_availability_applies_only_where_the_namespace_asks(self) -> None:
        single = deployment(replicas=1)
        assert check_high_availability([namespace(), single]) == []
        ha = namespace(**{"stackyard.io/high-availability": "true"})
        assert len(check_high_availability([ha, single])) == 1
        assert check_high_availability([ha, deployment(replicas=2)]) == []
        assert check_high_availability([ha, deployment(), hpa(2)]) == []
        assert len(check_high_availability([ha, deployment(), hpa(1)])) == 1

    def test_every_deployment_has_a_disruption_budget(self) -> None:
        assert check_disruption_budgets([deployment(), budget()]) == []
        assert len(check_disruption_budgets([deployment()])) == 1
        assert len(check_disruption_budgets([deployment(), budget("elsewhere")])) == 1

    def test_every_namespace_denies_by_default_both_ways(self) -> None:
        assert check_default_deny([namespace(), deny_all()]) == []
        ((_, message),) = check_default_deny([namespace(), deny_all(types=("Ingress",))])
        assert message == "no default-deny NetworkPolicy for egress"
        allowing = deny_all()
        allowing["spec"]["ingress"] = [{"from": [{"podSelector": {}}]}]
        ((_, message),) = check_default_deny([namespace(), allowing])
        assert message == "no default-deny NetworkPolicy for ingress"

    def test_load_balancers_only_in_the_ingress_namespace(self) -> None:
        service = {
            "kind": "Service",
            "metadata": {"name": "edge", "namespace": "edge"},
            "spec": {"type": "LoadBalancer"},
        }
        assert len(check_load_balancers([namespace("edge"), service])) == 1
        ingress = namespace("edge", **{"stackyard.io/ingress-controller": "true"})
        assert check_load_balancers([ingress, service]) == []
        cluster_ip = {**service, "spec": {"type": "ClusterIP"}}
        assert check_load_balancers([namespace("edge"), cluster_ip]) == []


class TestEvaluate:
    def test_an_annotated_exception_turns_a_violation_into_a_documented_one(self) -> None:
        bad = deployment()
        del container_of(bad)["resources"]
        findings = [f for f in evaluate([bad, budget()]) if f.policy == "resources-requests-limits"]
        assert len(findings) == 2
        assert all(f.counts for f in findings)
        bad["metadata"]["annotations"] = {
            "policy.stackyard.io/skip.resources-requests-limits": "a batch job, sized by the queue"
        }
        excepted = [f for f in evaluate([bad, budget()]) if f.policy == "resources-requests-limits"]
        assert {f.exception for f in excepted} == {"a batch job, sized by the queue"}
        assert not any(f.counts for f in excepted)

    def test_rule_names_are_unique_and_each_has_one_check(self) -> None:
        assert len({rule.name for rule in RULES}) == len(RULES) == 8
        assert all((rule.resource_check is None) != (rule.stack_check is None) for rule in RULES)
