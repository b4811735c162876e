"""Monitoring: kube-prometheus-stack from its pinned chart, set up to find stackyard's objects.

Two choices shape the values:

* ``helm.v4.Chart`` drops Helm hooks, and the chart's admission-webhook certificate is made by hook
  Jobs; the operator would then wait for a Secret that never comes. The webhook only validates
  PrometheusRules at admission, which our tests already do offline against the CRD schema, so it
  is switched off (with the operator's TLS, which mounts the same Secret) rather than making
  monitoring depend on cert-manager.
* By default Prometheus selects only objects labelled with the Helm release. The
  ``*SelectorNilUsesHelmValues: false`` settings make it select every ServiceMonitor, PodMonitor,
  PrometheusRule, Probe and ScrapeConfig in every namespace instead.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import pulumi
from pydantic import AfterValidator, Field, field_validator, model_validator

from ._args import Args
from .app_monitoring import Duration
from .chart import HookRequirement, PinnedChart, check_local_chart, install_chart
from .namespace import AppNamespace, PodSecurity, platform_namespace_args
from .validation import DnsLabel, DnsSubdomain, LabelValue, Quantity
from .workload import ResourceList, Resources

TYPE_TOKEN = "stackyard:index:Monitoring"

CHART = PinnedChart(
    chart="kube-prometheus-stack",
    version="88.6.4",  # the newest 88.x confirmed in the chart repository's own release stream
    repository="https://prometheus-community.github.io/helm-charts",
    hook_requirements=(
        HookRequirement(
            "prometheusOperator.admissionWebhooks.enabled",
            False,
            "the webhook's certificate is created and patched by Helm hook Jobs",
        ),
        HookRequirement(
            "prometheusOperator.tls.enabled",
            False,
            "the operator's TLS mounts the Secret that only those hook Jobs create",
        ),
    ),
)

#: Every selector that defaults to "objects of this Helm release only".
SELECTOR_KEYS = (
    "serviceMonitorSelectorNilUsesHelmValues",
    "podMonitorSelectorNilUsesHelmValues",
    "ruleSelectorNilUsesHelmValues",
    "probeSelectorNilUsesHelmValues",
    "scrapeConfigSelectorNilUsesHelmValues",
)

_BYTE_SIZE = re.compile(r"^[0-9]+(B|KB|MB|GB|TB|PB|EB)$")


def byte_size(value: str) -> str:
    """A Prometheus byte size such as ``45GB``."""
    if not _BYTE_SIZE.match(value):
        raise ValueError("must be a Prometheus byte size such as '512MB' or '45GB' (units B, KB, MB, GB, TB, PB, EB)")
    return value


ByteSize = Annotated[str, AfterValidator(byte_size)]


class PrometheusSettings(Args):
    """The Prometheus server."""

    retention: Duration = "10d"
    """How long samples are kept. Default: 10d."""
    retention_size: ByteSize | None = None
    """The most disk the TSDB may use before old blocks are dropped, e.g. ``45GB``. Set it below the
    volume size. Default: no size limit."""
    replicas: int = Field(default=1, ge=1)
    """Prometheus replicas (each scrapes everything). Default: 1."""
    storage_size: Quantity | None = None
    """A PersistentVolumeClaim of this size per replica. Default: none, so data lives in an
    emptyDir and is lost with the pod."""
    storage_class: DnsSubdomain | None = None
    """The StorageClass of that claim. Default: the cluster's default class."""
    resources: Resources = Resources(
        requests=ResourceList(cpu="200m", memory="1Gi"), limits=ResourceList(cpu="2", memory="4Gi")
    )
    """Requests and limits of the Prometheus container. Default: 200m/1Gi requested, 2 CPU/4Gi limit."""


class MonitoringArgs(Args):
    """Inputs of :class:`Monitoring`."""

    namespace: DnsLabel = "monitoring"
    """The namespace of the monitoring stack. Default: ``monitoring``."""
    release: DnsLabel = "kube-prometheus-stack"
    """The Helm release name. Default: ``kube-prometheus-stack``."""
    prometheus: PrometheusSettings = PrometheusSettings()
    """The Prometheus server. Default: the :class:`PrometheusSettings` defaults."""
    alertmanager: bool = True
    """Whether to run Alertmanager. Default: true."""
    grafana: bool = True
    """Whether to run Grafana, with its sidecar loading dashboards from every namespace. Default: true."""
    grafana_admin_secret: DnsSubdomain | None = None
    """An existing Secret in this namespace with keys ``admin-user`` and ``admin-password`` for
    Grafana's admin. Default: none, which only ``grafana: false`` allows (the chart's built-in
    password is public)."""
    node_exporter: bool = True
    """Whether to run the node exporter DaemonSet. It needs the host's network, PID namespace and
    file system, hence the namespace's ``privileged`` enforce level. Default: true."""
    pod_security: PodSecurity | None = None
    """Pod Security levels of the namespace. Default: ``privileged`` enforce with the node exporter
    (``baseline`` without), ``restricted`` audit and warn."""
    chart_path: str | None = None
    """A local kube-prometheus-stack chart (a folder with its dependencies under ``charts/``, or a
    ``.tgz`` from ``helm package``) to install instead of the pinned repository, for clusters
    without internet access. Relative paths are from the project folder. Another version is
    installed with a warning, since the values were written for the pin. Default: the pinned
    repository."""
    part_of: LabelValue = ""
    """The ``app.kubernetes.io/part-of`` label. Default: no label."""

    @field_validator("chart_path")
    @classmethod
    def _local_chart_is_kube_prometheus_stack(cls, path: str | None) -> str | None:
        if path is not None:
            check_local_chart(path, CHART)
        return path

    @model_validator(mode="after")
    def _grafana_has_a_private_admin(self) -> MonitoringArgs:
        if self.grafana and self.grafana_admin_secret is None:
            raise ValueError(
                "grafana needs grafanaAdminSecret (a Secret with admin-user and admin-password); "
                "the chart's default admin password is public"
            )
        return self

    def effective_pod_security(self) -> PodSecurity:
        """The levels in force."""
        if self.pod_security is not None:
            return self.pod_security
        if self.node_exporter:
            return PodSecurity(enforce="privileged", audit="restricted", warn="restricted")
        return PodSecurity(enforce="baseline", audit="restricted", warn="restricted")


class Monitoring(pulumi.ComponentResource):
    """kube-prometheus-stack in its own namespace: Prometheus, and optionally Alertmanager and Grafana."""

    namespace_name: pulumi.Output[str]
    """The monitoring namespace."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        namespace = AppNamespace(
            args.namespace,
            platform_namespace_args(
                args.namespace,
                part_of=args.part_of,
                pod_security=args.effective_pod_security(),
                why_no_default_deny="Prometheus scrapes every namespace and the API server, "
                "whose addresses are cluster-specific",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        install_chart(
            f"{name}-chart",
            CHART,
            release=args.release,
            namespace=args.namespace,
            values=chart_values(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
            local_path=args.chart_path,
        )
        self.namespace_name = namespace.namespace_name
        self.register_outputs({"namespace_name": self.namespace_name})


def chart_values(args: MonitoringArgs) -> dict[str, Any]:
    """The complete values stackyard passes to kube-prometheus-stack."""
    prometheus = args.prometheus
    spec: dict[str, Any] = {
        "retention": prometheus.retention,
        "replicas": prometheus.replicas,
        "resources": prometheus.resources.as_dict(),
        **dict.fromkeys(SELECTOR_KEYS, False),
    }
    if prometheus.retention_size is not None:
        spec["retentionSize"] = prometheus.retention_size
    if prometheus.storage_size is not None:
        claim: dict[str, Any] = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": prometheus.storage_size}},
        }
        if prometheus.storage_class is not None:
            claim["storageClassName"] = prometheus.storage_class
        spec["storageSpec"] = {"volumeClaimTemplate": {"spec": claim}}
    return {
        "prometheus": {"prometheusSpec": spec},
        "alertmanager": {"enabled": args.alertmanager},
        "grafana": {
            "enabled": args.grafana,
            **(
                {
                    "admin": {
                        "existingSecret": args.grafana_admin_secret,
                        "userKey": "admin-user",
                        "passwordKey": "admin-password",
                    }
                }
                if args.grafana_admin_secret
                else {}
            ),
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": "grafana_dashboard",
                    "labelValue": "1",
                    "searchNamespace": "ALL",
                }
            },
        },
        "nodeExporter": {"enabled": args.node_exporter},
        "prometheusOperator": {"admissionWebhooks": {"enabled": False}, "tls": {"enabled": False}},
    }
