"""The policy rules as a Pulumi policy pack, for ``pulumi preview --policy-pack policy``.

Each rule of :mod:`policy.rules` becomes one ``pulumi_policy`` policy that calls the very same
function on the resource's inputs. Only objects that stackyard manages are judged (label
``app.kubernetes.io/managed-by: stackyard``): the objects a Helm chart expands are the chart's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.secret import Secret

from .rules import RULES, SECRET_SENTINEL, Manifest, Rule, exception_reason

__all__ = ["CHART_TYPE", "MANAGED_BY", "plain", "policies"]

MANAGED_BY = ("app.kubernetes.io/managed-by", "stackyard")
_LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def plain(value: Any) -> Any:
    """Resource inputs as plain dicts and lists; a secret becomes a sentinel, so no rule sees its value."""
    if isinstance(value, Secret):
        return SECRET_SENTINEL
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(item) for item in value]
    return value


def _is_judged(resource_type: str, manifest: Manifest) -> bool:
    """Kubernetes objects that stackyard manages; providers, charts and chart children are not judged."""
    if not resource_type.startswith("kubernetes:") or resource_type.startswith(
        ("kubernetes:helm.sh", "kubernetes:yaml")
    ):
        return False
    labels = (manifest.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(MANAGED_BY[0]) == MANAGED_BY[1])


CHART_TYPE = "kubernetes:helm.sh/v4:Chart"


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    check, chart_check = rule.resource_check, rule.chart_check
    assert check is not None

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        manifest = plain(args.props)
        if chart_check is not None and args.resource_type == CHART_TYPE:
            # Stackyard's chart records hold what the Chart's inputs hold: the values.
            for message in chart_check(manifest):
                report_violation(message, None)
            return
        if not _is_judged(args.resource_type, manifest) or exception_reason(manifest, rule.name):
            return
        for message in check(manifest):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name, description=rule.description, enforcement_level=_LEVELS[rule.level], validate=validate
    )


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        manifests = []
        urns: dict[int, str] = {}
        for resource in args.resources:
            manifest = plain(resource.props)
            if _is_judged(resource.resource_type, manifest):
                urns[id(manifest)] = resource.urn
                manifests.append(manifest)
        for manifest, message in check(manifests):
            if not exception_reason(manifest, rule.name):
                report_violation(message, urns.get(id(manifest)))

    return StackValidationPolicy(
        name=rule.name, description=rule.description, enforcement_level=_LEVELS[rule.level], validate=validate
    )


def policies() -> list[Policy]:
    """One pulumi_policy policy per rule."""
    return [_resource_policy(rule) if rule.resource_check else _stack_policy(rule) for rule in RULES]
