"""The policy pack wraps the very same rule functions for the real engine."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.secret import Secret

from components import labels as component_labels
from policy import HIGH_AVAILABILITY_LABEL, INGRESS_CONTROLLER_LABEL, RULES
from policy.pack import plain, policies
from policy.rules import EXCEPTION_PREFIX
from tests.policy.test_rules import deployment

MANAGED = {"app.kubernetes.io/managed-by": "stackyard"}


def managed(manifest: dict[str, Any]) -> dict[str, Any]:
    manifest["metadata"]["labels"] = MANAGED
    return manifest


def run_resource_policy(name: str, manifest: dict[str, Any], resource_type: str) -> list[str]:
    (policy,) = [p for p in policies() if p.name == name]
    assert isinstance(policy, ResourceValidationPolicy)
    reported: list[str] = []
    args = SimpleNamespace(props=manifest, resource_type=resource_type, urn="urn:x", name="x")
    policy.validate(args, lambda message, _urn=None: reported.append(message))  # type: ignore[arg-type]
    return reported


class TestPolicyPack:
    def test_there_is_one_policy_per_rule_with_its_enforcement_level(self) -> None:
        pack = policies()
        assert [p.name for p in pack] == [rule.name for rule in RULES]
        assert {p.enforcement_level for p in pack} == {EnforcementLevel.MANDATORY}
        assert sum(isinstance(p, StackValidationPolicy) for p in pack) == 4

    def test_a_resource_policy_reports_what_the_rule_finds(self) -> None:
        bad = managed(deployment())
        bad["spec"]["template"]["spec"]["containers"][0]["image"] = "web:latest"
        assert run_resource_policy("image-pinned", bad, "kubernetes:apps/v1:Deployment") == [
            "spec.template.spec.containers[0].image: 'web:latest' is not pinned; use a version tag or a digest"
        ]

    def test_objects_stackyard_does_not_manage_are_not_judged(self) -> None:
        chart_child = deployment()
        chart_child["spec"]["template"]["spec"]["containers"][0]["image"] = "web:latest"
        assert run_resource_policy("image-pinned", chart_child, "kubernetes:apps/v1:Deployment") == []

    def test_documented_exceptions_hold_under_the_engine_too(self) -> None:
        bad = managed(deployment())
        bad["spec"]["template"]["spec"]["containers"][0]["image"] = "web:latest"
        bad["metadata"]["annotations"] = {f"{EXCEPTION_PREFIX}image-pinned": "a vendor image, pinned upstream"}
        assert run_resource_policy("image-pinned", bad, "kubernetes:apps/v1:Deployment") == []

    def test_a_stack_policy_sees_all_managed_resources(self) -> None:
        (policy,) = [p for p in policies() if p.name == "pod-disruption-budget"]
        assert isinstance(policy, StackValidationPolicy)
        resource = SimpleNamespace(
            props=managed(deployment()), resource_type="kubernetes:apps/v1:Deployment", urn="urn:d"
        )
        reported: list[tuple[str, str | None]] = []
        policy.validate(SimpleNamespace(resources=[resource]), lambda m, urn=None: reported.append((m, urn)))  # type: ignore[arg-type]
        assert reported == [("no PodDisruptionBudget selects its pods", "urn:d")]

    def test_secret_inputs_reach_rules_only_as_a_sentinel(self) -> None:
        assert plain({"env": [{"name": "X", "value": Secret("hunter2")}]}) == {
            "env": [{"name": "X", "value": "<secret value>"}]
        }

    def test_components_and_policies_agree_on_label_and_annotation_names(self) -> None:
        assert component_labels.HIGH_AVAILABILITY == HIGH_AVAILABILITY_LABEL
        assert component_labels.INGRESS_CONTROLLER == INGRESS_CONTROLLER_LABEL
        assert component_labels.POLICY_EXCEPTION_PREFIX == EXCEPTION_PREFIX
