"""``stackyard preflight``: does a target cluster provide what a stack's export assumes?

It renders the stack offline, reads (never writes) a few facts from the cluster with the
Kubernetes client, and judges each precondition with a pure function, so the rules are tested
without a cluster and the gathering on a real API server. Each problem says what to install or
change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kubernetes import client, config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from .envdiff import CLUSTER_ISSUER_ANNOTATION

__all__ = [
    "METRICS_API_SERVICE",
    "MINIMUM_KUBERNETES",
    "Check",
    "ClusterFacts",
    "ExportFacts",
    "Status",
    "check_cluster_scoped",
    "check_crds",
    "check_version",
    "gather",
    "judge",
]

#: The oldest Kubernetes the exports support: the Gateway API v1.5 install carries a
#: ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in 1.30).
MINIMUM_KUBERNETES = (1, 30)
METRICS_API_SERVICE = "v1beta1.metrics.k8s.io"
#: Groups of custom resources that a component's own chart or manifest installs, by the record kind
#: and chart that brings them.
_CHART_CRD_GROUPS = {
    "kube-prometheus-stack": ("monitoring.coreos.com",),
    "traefik": ("traefik.io", "hub.traefik.io"),
    "gateway-helm": ("gateway.envoyproxy.io", "gateway.networking.k8s.io"),
}
_GATEWAY_API_GROUP = "gateway.networking.k8s.io"
_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "GatewayClass", "IngressClass",
                   "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "PriorityClass"}  # fmt: skip
_INSTANCE_LABEL = "app.kubernetes.io/instance"

Status = Literal["ok", "missing", "warning"]


@dataclass(frozen=True)
class Check:
    """One precondition: met or not, and what to do about it."""

    item: str
    status: Status
    detail: str


@dataclass
class ClusterFacts:
    """What preflight reads from the cluster."""

    version: tuple[int, int]
    available_api_services: set[str] = field(default_factory=set)
    crd_groups: set[str] = field(default_factory=set)
    kube_system_pod_labels: list[dict[str, str]] = field(default_factory=list)
    cluster_issuers: dict[str, bool] = field(default_factory=dict)
    """ClusterIssuer name → whether it has an HTTP-01 solver that answers through a Gateway."""
    cert_manager_gateway_api: bool | None = None
    """None without a cert-manager controller; else whether it runs with Gateway API support."""
    existing: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(kind, name) of cluster-scoped objects of the export that exist → their labels."""


@dataclass(frozen=True)
class ExportFacts:
    """What preflight needs to know about the stack's export."""

    objects: list[dict[str, Any]]
    records: list[dict[str, Any]]

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") in kinds]

    def cluster_scoped(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") in _CLUSTER_SCOPED]

    def installed_groups(self) -> set[str]:
        """Custom resource groups that the stack's own charts and files install: the CRDs in a complete
        export, and what its chart and file records are known to bring when they were not expanded."""
        groups = {str(o["spec"]["group"]) for o in self.objects if o.get("kind") == "CustomResourceDefinition"}
        for record in self.records:
            if record.get("kind") == "HelmChart":
                name = Path(str(record.get("chart"))).name.removesuffix(".tgz").split("/")[-1]
                groups.update(group for chart, found in _CHART_CRD_GROUPS.items() if chart in name for group in found)
            elif record.get("kind") in ("ConfigFile", "ConfigGroup"):
                groups.add(_GATEWAY_API_GROUP)
        return groups


def check_version(facts: ClusterFacts, minimum: tuple[int, int] = MINIMUM_KUBERNETES) -> Check:
    found = ".".join(map(str, facts.version))
    wanted = ".".join(map(str, minimum))
    if facts.version >= minimum:
        return Check("Kubernetes version", "ok", f"{found} (at least {wanted})")
    return Check(
        "Kubernetes version",
        "missing",
        f"{found}; upgrade to {wanted} or newer (the Gateway API install's admission policy)",
    )


def _check_metrics_api(facts: ClusterFacts, export: ExportFacts) -> Check | None:
    if not export.of_kind("HorizontalPodAutoscaler"):
        return None
    if METRICS_API_SERVICE in facts.available_api_services:
        return Check("resource metrics API", "ok", f"{METRICS_API_SERVICE} is available")
    return Check(
        "resource metrics API",
        "missing",
        f"{METRICS_API_SERVICE} is not available, so the HPAs never scale: install metrics-server "
        "(or another provider of the resource metrics API)",
    )


def _check_certificates(facts: ClusterFacts, export: ExportFacts) -> Check | None:
    annotations = (((o.get("metadata") or {}).get("annotations") or {}) for o in export.of_kind("Gateway", "Ingress"))
    issuers = sorted(
        {str(found[CLUSTER_ISSUER_ANNOTATION]) for found in annotations if found.get(CLUSTER_ISSUER_ANNOTATION)}
    )
    if not issuers:
        return None
    if facts.cert_manager_gateway_api is None:
        return Check(
            "cert-manager", "missing", f"routes use TLS from ClusterIssuer {', '.join(issuers)}: install cert-manager"
        )
    problems = []
    if export.of_kind("Gateway") and not facts.cert_manager_gateway_api:
        problems.append("run cert-manager with Gateway API support (--enable-gateway-api)")
    for issuer in issuers:
        if issuer not in facts.cluster_issuers:
            problems.append(f"create ClusterIssuer {issuer}")
        elif export.of_kind("Gateway") and not facts.cluster_issuers[issuer]:
            problems.append(
                f"give ClusterIssuer {issuer} an HTTP-01 solver with gatewayHTTPRoute (through the Gateway)"
            )
    if problems:
        return Check("cert-manager", "missing", "; ".join(problems))
    return Check("cert-manager", "ok", f"ClusterIssuer {', '.join(issuers)} ready to solve through the Gateway")


def check_crds(facts: ClusterFacts, export: ExportFacts) -> Check:
    groups = {str(o["apiVersion"]).rpartition("/")[0] for o in export.objects if "." in str(o.get("apiVersion"))}
    custom = {g for g in groups if not g.endswith(".k8s.io") or g == _GATEWAY_API_GROUP}
    needed = sorted(custom - export.installed_groups() - facts.crd_groups)
    if needed:
        return Check(
            "CRDs", "missing", f"install the CRDs of {', '.join(needed)}: the stack uses them and does not install them"
        )
    return Check("CRDs", "ok", "every custom resource's CRD is installed or comes with the stack")


def _check_dns(facts: ClusterFacts, export: ExportFacts) -> Check | None:
    selectors = [
        peer.get("podSelector", {}).get("matchLabels", {})
        for policy in export.of_kind("NetworkPolicy")
        if policy["metadata"]["name"] == "allow-dns"
        for rule in policy["spec"].get("egress", [])
        for peer in rule.get("to", [])
        if peer.get("podSelector")
    ]
    if not selectors:
        return None
    wanted = selectors[0]
    if any(all(labels.get(k) == v for k, v in wanted.items()) for labels in facts.kube_system_pod_labels):
        return Check("DNS pod labels", "ok", f"kube-system has DNS pods labelled {_labels(wanted)}")
    return Check(
        "DNS pod labels",
        "missing",
        f"no pod in kube-system is labelled {_labels(wanted)}, so allow-dns admits no DNS server: label the DNS "
        "pods so, or add their addresses with stackyard:namespace.dnsCacheCidrs",
    )


def check_cluster_scoped(facts: ClusterFacts, export: ExportFacts) -> Check:
    clashes = []
    for obj in export.cluster_scoped():
        key = (str(obj["kind"]), str(obj["metadata"]["name"]))
        if key not in facts.existing:
            continue
        theirs = facts.existing[key].get(_INSTANCE_LABEL)
        ours = (obj["metadata"].get("labels") or {}).get(_INSTANCE_LABEL)
        owner = f"instance {theirs!r}" if theirs else "no stackyard labels"
        if theirs != ours:
            clashes.append(f"{key[0]} {key[1]} ({owner})")
    if clashes:
        return Check(
            "cluster-scoped objects",
            "warning",
            f"already present and not this environment's: {', '.join(clashes)}; another environment or install "
            "owns them, and up would fail or take them over",
        )
    return Check("cluster-scoped objects", "ok", "none of the export's cluster-scoped objects belongs to someone else")


def _labels(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def judge(facts: ClusterFacts, export: ExportFacts, minimum: tuple[int, int] = MINIMUM_KUBERNETES) -> list[Check]:
    """Every precondition of the export, judged against the cluster's facts."""
    checks: Iterable[Check | None] = (
        check_version(facts, minimum),
        _check_metrics_api(facts, export),
        _check_certificates(facts, export),
        check_crds(facts, export),
        _check_dns(facts, export),
        check_cluster_scoped(facts, export),
    )
    return [check for check in checks if check is not None]


def gather(kubeconfig: str | None, export: ExportFacts) -> ClusterFacts:
    """Read the facts from the cluster; read-only (get and list calls only)."""
    api = config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    version = client.VersionApi(api).get_code()
    facts = ClusterFacts(version=(int(version.major), int("".join(c for c in version.minor if c.isdigit()))))
    for service in client.ApiregistrationV1Api(api).list_api_service().items:
        conditions = {c.type: c.status for c in (service.status.conditions or [])} if service.status else {}
        if conditions.get("Available") == "True" and service.metadata is not None:
            facts.available_api_services.add(str(service.metadata.name))
    facts.crd_groups = {
        crd.spec.group for crd in client.ApiextensionsV1Api(api).list_custom_resource_definition().items
    }
    pods = client.CoreV1Api(api).list_namespaced_pod("kube-system").items
    facts.kube_system_pod_labels = [dict(pod.metadata.labels or {}) for pod in pods if pod.metadata is not None]
    if "cert-manager.io" in facts.crd_groups:
        objects = client.CustomObjectsApi(api)
        listed: dict[str, Any] = objects.list_cluster_custom_object("cert-manager.io", "v1", "clusterissuers")  # type: ignore[assignment]
        issuers = listed.get("items", [])
        facts.cluster_issuers = {
            str(i["metadata"]["name"]): any(
                "gatewayHTTPRoute" in (solver.get("http01") or {})
                for solver in ((i.get("spec") or {}).get("acme") or {}).get("solvers", [])
            )
            for i in issuers
        }
    deployments = (
        client.AppsV1Api(api)
        .list_deployment_for_all_namespaces(
            label_selector="app.kubernetes.io/name=cert-manager,app.kubernetes.io/component=controller"
        )
        .items
    )
    if deployments:
        arguments = [
            arg
            for d in deployments
            if d.spec is not None and d.spec.template.spec is not None
            for c in d.spec.template.spec.containers
            for arg in (c.args or [])
        ]
        facts.cert_manager_gateway_api = any(arg.startswith("--enable-gateway-api") for arg in arguments)
    resources = DynamicClient(api).resources  # type: ignore[no-untyped-call]
    for obj in export.cluster_scoped():
        kind, name = str(obj["kind"]), str(obj["metadata"]["name"])
        try:
            found = resources.get(api_version=str(obj["apiVersion"]), kind=kind).get(name=name)
        except (NotFoundError, ResourceNotFoundError):
            continue  # the object, or its kind altogether, is not in the cluster
        facts.existing[(kind, name)] = dict(found.to_dict().get("metadata", {}).get("labels") or {})
    return facts
