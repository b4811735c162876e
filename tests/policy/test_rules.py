"""Each baseline policy with a passing and a failing object, and documented exceptions."""

from __future__ import annotations

import copy
from typing import Any

from policy import RULES, evaluate, evaluate_charts
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
            "spec.template.spec.containers[0].env[2] (API_TOKEN): looks like a secret (its name says 'token') but is "
            "a plain value"
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
        assert len({rule.name for rule in RULES}) == len(RULES) == 9
        assert all((rule.resource_check is None) != (rule.stack_check is None) for rule in RULES)


class TestPlainSecrets:
    """Wherever a value can land in a pod, or be read by anyone who can read the object."""

    def _config_map(self, **data: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "api-env", "namespace": "shop"},
            "data": data,
        }

    def test_a_config_map_consumed_as_env_is_judged_by_key_and_value(self) -> None:
        found = evaluate([self._config_map(DB_PASSWORD="hunter2", QUEUE="orders", TOKEN="AKIAIOSFODNN7EXAMPLE")])
        secrets = [f for f in found if f.policy == "no-secret-in-plain-data"]
        assert [f.message for f in secrets] == [
            "data[DB_PASSWORD]: looks like a secret (its name says 'password')",
            "data[TOKEN]: looks like a secret (it has the form of an AWS access key id)",
        ]
        assert {f.object_ref for f in secrets} == {"ConfigMap shop/api-env"}
        assert not any("hunter2" in f.message or "AKIA" in f.message for f in found)

    def test_annotations_of_an_object_and_of_its_pods_are_judged(self) -> None:
        manifest = deployment()
        manifest["metadata"]["annotations"] = {"ci/deploy-token": "abc123"}
        manifest["spec"]["template"].setdefault("metadata", {})["annotations"] = {"x": "postgres://u:pw@db/x"}
        messages = [f.message for f in evaluate([manifest]) if f.policy == "no-secret-in-plain-data"]
        assert messages == [
            "metadata.annotations[ci/deploy-token]: looks like a secret (its name says 'token')",
            "spec.template.metadata.annotations[x]: looks like a secret (it has the form of a URL with a password)",
        ]

    def test_chart_values_are_judged_and_references_to_secrets_are_not(self) -> None:
        chart = {
            "kind": "HelmChart",
            "releaseName": "grafana",
            "namespace": "monitoring",
            "values": {
                "admin": {"existingSecret": "grafana-admin", "passwordKey": "admin-password"},
                "smtp": {"password": "hunter2"},
                "env": [{"apiKey": "x1"}],
            },
        }
        found = evaluate_charts([chart])
        assert [(f.object_ref, f.message) for f in found] == [
            ("HelmChart monitoring/grafana", "values.env[0].apiKey: looks like a secret (its name says 'api key')"),
            ("HelmChart monitoring/grafana", "values.smtp.password: looks like a secret (its name says 'password')"),
        ]

    def test_an_env_value_that_is_a_credential_is_caught_whatever_its_name(self) -> None:
        manifest = deployment()
        container_of(manifest)["env"] = [{"name": "DATABASE", "value": "postgres://app:hunter2@db/shop"}]
        (finding,) = [f for f in evaluate([manifest]) if f.policy == "no-secret-in-env-value"]
        assert "it has the form of a URL with a password" in finding.message
        assert "hunter2" not in finding.message
