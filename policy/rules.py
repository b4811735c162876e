"""Stackyard's baseline policies as pure functions over Kubernetes objects (plain dicts).

The same functions run offline on an export (``stackyard audit``) and under the real engine
(``pulumi preview --policy-pack policy``). A documented exception is an annotation on the object,
``policy.stackyard.io/skip.<policy>: <reason>``; the finding is then reported as excepted, with the
reason, instead of as a violation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .pod_security import pod_spec_of, restricted_violations
from .secrets import secret_reason

__all__ = [
    "EXCEPTION_PREFIX",
    "HIGH_AVAILABILITY_LABEL",
    "INGRESS_CONTROLLER_LABEL",
    "RULES",
    "SECRET_SENTINEL",
    "ChartCheck",
    "Finding",
    "Level",
    "Manifest",
    "ResourceCheck",
    "Rule",
    "Severity",
    "StackCheck",
    "check_default_deny",
    "check_disruption_budgets",
    "check_env_secrets",
    "check_high_availability",
    "check_image_pinned",
    "check_load_balancers",
    "check_pod_security",
    "check_requests_and_limits",
    "evaluate",
    "evaluate_charts",
    "exception_reason",
]

Manifest = Mapping[str, Any]
Level = Literal["mandatory", "advisory"]
Severity = Literal["low", "medium", "high", "critical"]

EXCEPTION_PREFIX = "policy.stackyard.io/skip."
#: A namespace label that demands high availability of its workloads.
HIGH_AVAILABILITY_LABEL = "stackyard.io/high-availability"
#: A namespace label that marks where an ingress controller (and so a LoadBalancer) may live.
INGRESS_CONTROLLER_LABEL = "stackyard.io/ingress-controller"
#: What the policy pack substitutes for a value the engine marks secret.
SECRET_SENTINEL = "<secret value>"

_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


@dataclass(frozen=True)
class Finding:
    """One object breaking one policy, or excepted from it with a reason."""

    policy: str
    level: Level
    kind: str
    namespace: str
    name: str
    message: str
    exception: str | None = None
    """The documented reason when the object is excepted; the finding then does not count."""

    @property
    def counts(self) -> bool:
        """Whether this finding fails the audit: a mandatory violation without an exception."""
        return self.level == "mandatory" and self.exception is None

    @property
    def object_ref(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


ResourceCheck = Callable[[Manifest], list[str]]
ChartCheck = Callable[[Mapping[str, Any]], list[str]]
"""A check over a chart's values (a ``HelmChart`` record offline, the Chart's inputs in the pack)."""
StackCheck = Callable[[Sequence[Manifest]], list[tuple[Manifest, str]]]


@dataclass(frozen=True)
class Rule:
    """A policy: a check over one object, or over all objects of a stack."""

    name: str
    description: str
    level: Level
    severity: Severity
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    chart_check: ChartCheck | None = None


def _meta(manifest: Manifest) -> Mapping[str, Any]:
    metadata = manifest.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _containers(manifest: Manifest) -> Iterator[tuple[str, Mapping[str, Any]]]:
    found = pod_spec_of(manifest)
    if found is None:
        return
    path, pod = found
    for list_name in ("initContainers", "containers"):
        for index, container in enumerate(pod.get(list_name) or []):
            yield f"{path}.{list_name}[{index}]", container


def check_pod_security(manifest: Manifest) -> list[str]:
    """Pods follow the Pod Security Standards ``restricted`` profile."""
    return [str(violation) for violation in restricted_violations(manifest)]


def check_requests_and_limits(manifest: Manifest) -> list[str]:
    """Every container requests and limits both CPU and memory."""
    problems = []
    for path, container in _containers(manifest):
        resources = container.get("resources") or {}
        for bound in ("requests", "limits"):
            missing = [r for r in ("cpu", "memory") if r not in (resources.get(bound) or {})]
            if missing:
                problems.append(f"{path}.resources.{bound}: no {' or '.join(missing)}")
    return problems


def check_image_pinned(manifest: Manifest) -> list[str]:
    """Images name a tag or digest, never ``latest``."""
    problems = []
    for path, container in _containers(manifest):
        image = str(container.get("image", ""))
        name, _, digest = image.partition("@")
        last = name.rsplit("/", 1)[-1]
        tag = last.partition(":")[2]
        if not digest and (not tag or tag == "latest"):
            problems.append(f"{path}.image: {image!r} is not pinned; use a version tag or a digest")
    return problems


def check_env_secrets(manifest: Manifest) -> list[str]:
    """No secret is a plain env ``value``: reference it with ``valueFrom.secretKeyRef`` or mount it."""
    problems = []
    for path, container in _containers(manifest):
        for index, variable in enumerate(container.get("env") or []):
            if "value" not in variable:
                continue
            name = str(variable.get("name", ""))
            if variable["value"] == SECRET_SENTINEL:
                problems.append(f"{path}.env[{index}] ({name}): a secret value in plain text")
            elif reason := secret_reason(name, variable["value"]):
                problems.append(f"{path}.env[{index}] ({name}): looks like a secret ({reason}) but is a plain value")
    return problems


def _check_plain_data_secrets(manifest: Manifest) -> list[str]:
    """No secret in a ConfigMap's data (env files, config files) or in an annotation, where it is plain text."""
    places: list[tuple[str, str, object]] = []
    template = ((manifest.get("spec") or {}).get("template") or {}).get("metadata") or {}
    for prefix, metadata in (("metadata", _meta(manifest)), ("spec.template.metadata", template)):
        annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
        places += [(f"{prefix}.annotations[{key}]", str(key), value) for key, value in (annotations or {}).items()]
    if manifest.get("kind") == "ConfigMap":
        places += [(f"data[{key}]", str(key), value) for key, value in (manifest.get("data") or {}).items()]
    return _judge_places(places)


def _check_chart_values(chart: Mapping[str, Any]) -> list[str]:
    """No secret among the values passed to a chart, which any reader of the release can see."""
    places: list[tuple[str, str, object]] = []
    pending: list[tuple[str, str, object]] = [("values", "values", chart.get("values") or {})]
    while pending:
        path, key, value = pending.pop()
        if isinstance(value, Mapping):
            pending += [(f"{path}.{k}", str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            pending += [(f"{path}[{i}]", key, v) for i, v in enumerate(value)]
        else:
            places.append((path, key, value))
    return _judge_places(sorted(places))


def _judge_places(places: Sequence[tuple[str, str, object]]) -> list[str]:
    problems = []
    for where, key, value in places:
        if value == SECRET_SENTINEL:
            problems.append(f"{where}: a secret value in plain text")
        elif reason := secret_reason(key, value):
            problems.append(f"{where}: looks like a secret ({reason})")
    return problems


def _namespaces(manifests: Sequence[Manifest]) -> dict[str, Manifest]:
    return {str(_meta(m).get("name")): m for m in manifests if m.get("kind") == "Namespace"}


def _in(manifest: Manifest) -> str:
    return str(_meta(manifest).get("namespace", ""))


def _selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(key) == value for key, value in match.items())


def _pod_labels(manifest: Manifest) -> Mapping[str, str]:
    template = (manifest.get("spec") or {}).get("template") or {}
    labels = (template.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, Mapping) else {}


def _deployments(manifests: Sequence[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m.get("kind") in ("Deployment", "StatefulSet")]


def check_high_availability(manifests: Sequence[Manifest]) -> list[tuple[Manifest, str]]:
    """In namespaces labelled for high availability, at least 2 replicas or an HPA with min >= 2."""
    namespaces = _namespaces(manifests)
    hpas = [m for m in manifests if m.get("kind") == "HorizontalPodAutoscaler"]
    problems = []
    for workload in _deployments(manifests):
        namespace = namespaces.get(_in(workload))
        if namespace is None or (_meta(namespace).get("labels") or {}).get(HIGH_AVAILABILITY_LABEL) != "true":
            continue
        name = _meta(workload).get("name")
        owners = [
            h
            for h in hpas
            if _in(h) == _in(workload) and (h.get("spec") or {}).get("scaleTargetRef", {}).get("name") == name
        ]
        if owners:
            minimum = int((owners[0].get("spec") or {}).get("minReplicas", 1))
            if minimum < 2:
                problems.append(
                    (workload, f"its HPA allows {minimum} replica; high availability needs minReplicas >= 2")
                )
        elif int((workload.get("spec") or {}).get("replicas", 1)) < 2:
            replicas = (workload.get("spec") or {}).get("replicas", 1)
            problems.append((workload, f"runs {replicas} replica without an HPA; high availability needs >= 2"))
    return problems


def check_disruption_budgets(manifests: Sequence[Manifest]) -> list[tuple[Manifest, str]]:
    """Every Deployment or StatefulSet is covered by a PodDisruptionBudget."""
    budgets = [m for m in manifests if m.get("kind") == "PodDisruptionBudget"]
    return [
        (workload, "no PodDisruptionBudget selects its pods")
        for workload in _deployments(manifests)
        if not any(
            _in(b) == _in(workload) and _selects((b.get("spec") or {}).get("selector"), _pod_labels(workload))
            for b in budgets
        )
    ]


def _denies(policy: Manifest, direction: str) -> bool:
    spec = policy.get("spec") or {}
    return (
        spec.get("podSelector") in ({}, None)
        and direction in (spec.get("policyTypes") or [])
        and not spec.get(direction.lower())
    )


def check_default_deny(manifests: Sequence[Manifest]) -> list[tuple[Manifest, str]]:
    """Every namespace denies ingress and egress by default (a policy selecting all pods, with no rules)."""
    policies = [m for m in manifests if m.get("kind") == "NetworkPolicy"]
    problems = []
    for name, namespace in sorted(_namespaces(manifests).items()):
        local = [p for p in policies if _in(p) == name]
        missing = [d for d in ("Ingress", "Egress") if not any(_denies(p, d) for p in local)]
        if missing:
            problems.append((namespace, f"no default-deny NetworkPolicy for {' and '.join(missing).lower()}"))
    return problems


def check_load_balancers(manifests: Sequence[Manifest]) -> list[tuple[Manifest, str]]:
    """Only the ingress controller's namespace may expose a LoadBalancer Service."""
    namespaces = _namespaces(manifests)
    problems = []
    for service in (m for m in manifests if m.get("kind") == "Service"):
        if (service.get("spec") or {}).get("type") != "LoadBalancer":
            continue
        namespace = namespaces.get(_in(service))
        labels = (_meta(namespace).get("labels") or {}) if namespace is not None else {}
        if labels.get(INGRESS_CONTROLLER_LABEL) != "true":
            problems.append((service, "a LoadBalancer outside the ingress controller's namespace bypasses it"))
    return problems


RULES: tuple[Rule, ...] = (
    Rule(
        "pod-security-restricted",
        "Pods meet the Pod Security Standards restricted profile.",
        "mandatory",
        "high",
        resource_check=check_pod_security,
    ),
    Rule(
        "resources-requests-limits",
        "Containers request and limit CPU and memory.",
        "mandatory",
        "medium",
        resource_check=check_requests_and_limits,
    ),
    Rule(
        "image-pinned",
        "Images are pinned by tag or digest, never latest.",
        "mandatory",
        "high",
        resource_check=check_image_pinned,
    ),
    Rule(
        "no-secret-in-env-value",
        "Secrets reach containers by reference, never as plain env values.",
        "mandatory",
        "critical",
        resource_check=check_env_secrets,
    ),
    Rule(
        "no-secret-in-plain-data",
        "No secret in ConfigMap data, annotations or chart values, where it is plain text.",
        "mandatory",
        "critical",
        resource_check=_check_plain_data_secrets,
        chart_check=_check_chart_values,
    ),
    Rule(
        "high-availability",
        "Workloads in high-availability namespaces run >= 2 replicas.",
        "mandatory",
        "high",
        stack_check=check_high_availability,
    ),
    Rule(
        "pod-disruption-budget",
        "Every Deployment and StatefulSet has a PodDisruptionBudget.",
        "mandatory",
        "medium",
        stack_check=check_disruption_budgets,
    ),
    Rule(
        "default-deny",
        "Every namespace denies ingress and egress by default.",
        "mandatory",
        "high",
        stack_check=check_default_deny,
    ),
    Rule(
        "load-balancer-only-at-ingress",
        "LoadBalancer Services only in the ingress controller's namespace.",
        "mandatory",
        "high",
        stack_check=check_load_balancers,
    ),
)


def exception_reason(manifest: Manifest, policy: str) -> str | None:
    """The documented reason this object is excepted from ``policy``, if any."""
    annotations = _meta(manifest).get("annotations") or {}
    reason = annotations.get(f"{EXCEPTION_PREFIX}{policy}")
    return str(reason) if reason else None


def evaluate_charts(charts: Sequence[Mapping[str, Any]], rules: Sequence[Rule] = RULES) -> list[Finding]:
    """Every finding of the chart checks over ``HelmChart`` records (release name and namespace)."""
    return [
        Finding(
            policy=rule.name,
            level=rule.level,
            kind="HelmChart",
            namespace=str(chart.get("namespace", "")),
            name=str(chart.get("releaseName", "")),
            message=message,
        )
        for rule in rules
        if rule.chart_check is not None
        for chart in charts
        if chart.get("kind") == "HelmChart"
        for message in rule.chart_check(chart)
    ]


def evaluate(manifests: Sequence[Manifest], rules: Sequence[Rule] = RULES) -> list[Finding]:
    """Every finding of every rule over the objects, exceptions applied."""
    findings: list[Finding] = []
    for rule in rules:
        pairs: list[tuple[Manifest, str]] = []
        if rule.resource_check is not None:
            pairs += [(m, message) for m in manifests for message in rule.resource_check(m)]
        if rule.stack_check is not None:
            pairs += rule.stack_check(manifests)
        for manifest, message in pairs:
            metadata = _meta(manifest)
            findings.append(
                Finding(
                    policy=rule.name,
                    level=rule.level,
                    kind=str(manifest.get("kind", "")),
                    namespace=str(metadata.get("namespace", "")),
                    name=str(metadata.get("name", "")),
                    message=message,
                    exception=exception_reason(manifest, rule.name),
                )
            )
    return findings
