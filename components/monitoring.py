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
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes.networking.v1 as networking
from pydantic import AfterValidator, Field, field_validator, model_validator

from . import labels
from ._kit.apis import DASHBOARD_LABEL
from ._kit.args import Args
from ._kit.children import after
from ._kit.policies import from_namespaces, platform_policy_spec, tcp, to_blocks, to_namespaces
from ._kit.resources import ResourceList, Resources, spread_values
from ._kit.values import Duration, SecretKeyRef, text_matching
from .chart import HookRequirement, PinnedChart, check_local_chart, install_chart
from .namespace import PodSecurity, namespace_policy, platform_namespace
from .network_policy import ApiServerAccess, to_api_server
from .validation import DnsLabel, DnsSubdomain, LabelValue, PortNumber, Quantity, quantity_value

__all__ = [
    "ALERTMANAGER_SECRETS_DIR",
    "CHART",
    "NODE_SCRAPE_PORTS",
    "POD_SCRAPE_PORTS",
    "RETENTION_SHARE",
    "SELECTOR_KEYS",
    "TYPE_TOKEN",
    "AlertmanagerSettings",
    "ByteSize",
    "Monitoring",
    "MonitoringArgs",
    "MonitoringWorkloads",
    "PagerDutyReceiver",
    "PrometheusSettings",
    "Receiver",
    "Severity",
    "SlackReceiver",
    "WebhookReceiver",
    "byte_size",
    "chart_values",
]

TYPE_TOKEN = "stackyard:index:Monitoring"

CHART = PinnedChart(
    chart="kube-prometheus-stack",
    version="88.5.3",  # the version the tiers verify (test data); 88.6.x is newer upstream
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
_BYTE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB", "EB")
#: The share of a Prometheus volume that blocks may fill (documented on ``retentionSize``).
RETENTION_SHARE = 0.8


def _byte_size_value(size: str) -> int:
    """Bytes in a Prometheus size: its units are powers of 1024 (``1GB`` is 1 GiB)."""
    match = _BYTE_SIZE.match(size)
    assert match is not None
    scale: int = pow(1024, _BYTE_UNITS.index(match.group(1)))
    return int(size[: match.start(1)]) * scale


def _usable_bytes(storage_size: str) -> int:
    return int(int(quantity_value(storage_size)) * RETENTION_SHARE)


def _as_byte_size(value: int) -> str:
    """The largest whole Prometheus unit at or below ``value`` bytes, e.g. 16GB."""
    for power in range(len(_BYTE_UNITS) - 1, -1, -1):
        if value >= 1024**power:
            return f"{value // 1024**power}{_BYTE_UNITS[power]}"
    return "0B"


byte_size = text_matching(
    _BYTE_SIZE.pattern, "must be a Prometheus byte size such as '512MB' or '45GB' (units B, KB, MB, GB, TB, PB, EB)"
)
#: A Prometheus byte size such as ``45GB``.
ByteSize = Annotated[str, AfterValidator(byte_size)]


class PrometheusSettings(Args):
    """The Prometheus server."""

    retention: Duration = "10d"
    """How long samples are kept. Default: 10d."""
    retention_size: ByteSize | None = None
    """The most disk the TSDB may use before old blocks are dropped, e.g. ``45GB`` (Prometheus counts
    GB as GiB). With ``storageSize`` it may be at most 80 % of the volume: compaction writes new
    blocks before it deletes the old ones, and the WAL comes on top. Default: 80 % of
    ``storageSize`` when there is one, else no size limit."""
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

    @model_validator(mode="after")
    def _retention_leaves_headroom(self) -> PrometheusSettings:
        if self.retention_size is None or self.storage_size is None:
            return self
        limit = _usable_bytes(self.storage_size)
        if _byte_size_value(self.retention_size) > limit:
            raise ValueError(
                f"retentionSize: {self.retention_size!r} leaves too little of storageSize {self.storage_size!r}: at "
                f"most {RETENTION_SHARE:.0%} of the volume ({_as_byte_size(limit)}) may hold blocks, since compaction "
                "and the WAL need the rest; lower it, or leave it out to have it derived"
            )
        return self

    def effective_retention_size(self) -> str | None:
        """The size limit in force: as given, else derived from the volume, else none."""
        if self.retention_size is not None or self.storage_size is None:
            return self.retention_size
        return _as_byte_size(_usable_bytes(self.storage_size))


#: Where the Prometheus Operator mounts each Secret named in ``alertmanagerSpec.secrets``.
ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets"
Severity = Literal["critical", "warning", "info"]


class SlackReceiver(Args):
    """Slack, through an incoming webhook whose URL is kept in a Secret."""

    api_url: SecretKeyRef
    """The Secret key holding the webhook URL (the URL is the credential)."""
    channel: str | None = Field(default=None, pattern=r"^[#@][\w.-]{1,80}$")
    """The channel, e.g. ``#shop-alerts``. Default: the webhook's own."""


class PagerDutyReceiver(Args):
    """PagerDuty Events API v2."""

    routing_key: SecretKeyRef
    """The Secret key holding the integration's routing key."""


class WebhookReceiver(Args):
    """Any HTTP endpoint that takes Alertmanager's webhook payload."""

    url: SecretKeyRef
    """The Secret key holding the URL (it often carries a token)."""


class Receiver(Args):
    """One destination of alerts: at least one of Slack, PagerDuty or a webhook."""

    name: DnsLabel
    """How routes refer to it."""
    slack: SlackReceiver | None = None
    """Post to Slack. Default: no."""
    pagerduty: PagerDutyReceiver | None = None
    """Page through PagerDuty. Default: no."""
    webhook: WebhookReceiver | None = None
    """Post to a webhook. Default: no."""

    @model_validator(mode="after")
    def _sends_somewhere(self) -> Receiver:
        if not (self.slack or self.pagerduty or self.webhook):
            raise ValueError(f"receiver {self.name!r} sends nowhere: give it slack, pagerduty or webhook")
        return self

    def secrets(self) -> list[SecretKeyRef]:
        return [
            ref
            for ref in (
                self.slack.api_url if self.slack else None,
                self.pagerduty.routing_key if self.pagerduty else None,
                self.webhook.url if self.webhook else None,
            )
            if ref is not None
        ]


class AlertmanagerSettings(Args):
    """Alertmanager: where alerts go, by severity. ``alertmanager: false`` switches it off."""

    enabled: bool = True
    """Whether to run Alertmanager. Default: true."""
    replicas: int = Field(default=1, ge=1)
    """Replicas, which gossip to deduplicate notifications; with more than one they spread over
    nodes and zones and keep a PodDisruptionBudget. Default: 1."""
    receivers: list[Receiver] = []
    """Where alerts can go; credentials come from Secrets in the monitoring namespace (create them
    from ``secure:`` config with ``stackyard:secrets``). Required when enabled. Default: none."""
    routes: dict[Severity, DnsLabel] = {}
    """Receiver by alert ``severity``, e.g. ``{critical: oncall, warning: team}``. Default: every
    severity to the default receiver."""
    default_receiver: DnsLabel | None = None
    """Where alerts without a matching route go. Default: the first receiver."""
    resources: Resources = Resources(
        requests=ResourceList(cpu="50m", memory="64Mi"), limits=ResourceList(cpu="500m", memory="256Mi")
    )
    """Requests and limits of the Alertmanager container. Default: 50m/64Mi requested, 500m/256Mi limit."""

    @model_validator(mode="before")
    @classmethod
    def _from_a_switch(cls, data: Any) -> Any:
        return {"enabled": data} if isinstance(data, bool) else data

    @model_validator(mode="after")
    def _routes_reach_a_receiver(self) -> AlertmanagerSettings:
        names = [receiver.name for receiver in self.receivers]
        if self.enabled and not names:
            raise ValueError(
                "receivers: Alertmanager is on but has no receiver, so every alert would go to the chart's "
                "'null' receiver and reach no one; add a slack, pagerduty or webhook receiver, or set "
                "alertmanager: false"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"receivers: names must be unique; got {names}")
        unknown = sorted(
            {*self.routes.values(), *([self.default_receiver] if self.default_receiver else [])} - set(names)
        )
        if unknown:
            raise ValueError(f"routes: {unknown} name no receiver; the receivers are {names}")
        return self

    def secret_names(self) -> list[str]:
        return sorted({ref.secret for receiver in self.receivers for ref in receiver.secrets()})

    def config(self) -> dict[str, Any]:
        """The Alertmanager configuration: receivers reading credentials from files, routes by severity."""
        default = self.default_receiver or self.receivers[0].name
        routes = [
            # The chart's always-firing Watchdog proves the pipeline works; it must page no one.
            {"receiver": "null", "matchers": ['alertname="Watchdog"']},
            {"receiver": "null", "matchers": ['alertname="InfoInhibitor"']},
            *(
                {"receiver": name, "matchers": [f'severity="{severity}"']}
                for severity, name in sorted(self.routes.items())
            ),
        ]
        return {
            "global": {"resolve_timeout": "5m"},
            "route": {
                "receiver": default,
                "group_by": ["namespace", "alertname"],
                "group_wait": "30s",
                "group_interval": "5m",
                "repeat_interval": "4h",
                "routes": routes,
            },
            "receivers": [{"name": "null"}, *(_receiver_config(receiver) for receiver in self.receivers)],
            "inhibit_rules": [
                {
                    "source_matchers": ['severity="critical"'],
                    "target_matchers": ['severity=~"warning|info"'],
                    "equal": ["namespace", "alertname"],
                },
                {
                    "source_matchers": ['severity="warning"'],
                    "target_matchers": ['severity="info"'],
                    "equal": ["namespace", "alertname"],
                },
            ],
            "templates": ["/etc/alertmanager/config/*.tmpl"],
        }


def _secret_file(ref: SecretKeyRef) -> str:
    return f"{ALERTMANAGER_SECRETS_DIR}/{ref.secret}/{ref.key}"


def _receiver_config(receiver: Receiver) -> dict[str, Any]:
    config: dict[str, Any] = {"name": receiver.name}
    if receiver.slack:
        slack: dict[str, Any] = {"api_url_file": _secret_file(receiver.slack.api_url), "send_resolved": True}
        if receiver.slack.channel:
            slack["channel"] = receiver.slack.channel
        config["slack_configs"] = [slack]
    if receiver.pagerduty:
        config["pagerduty_configs"] = [{"routing_key_file": _secret_file(receiver.pagerduty.routing_key)}]
    if receiver.webhook:
        config["webhook_configs"] = [{"url_file": _secret_file(receiver.webhook.url), "send_resolved": True}]
    return config


class MonitoringWorkloads(Args):
    """Requests and limits of kube-prometheus-stack's containers besides Prometheus and Alertmanager
    (which have their own settings): the chart sets none, and every pod of the export carries them."""

    operator: Resources = Resources(
        requests=ResourceList(cpu="50m", memory="64Mi"), limits=ResourceList(cpu="200m", memory="256Mi")
    )
    """The Prometheus Operator. Default: 50m/64Mi requested, 200m/256Mi limit."""
    config_reloader: Resources = Resources(
        requests=ResourceList(cpu="10m", memory="32Mi"), limits=ResourceList(cpu="100m", memory="64Mi")
    )
    """The config reloader the operator adds to every Prometheus and Alertmanager pod. Default:
    10m/32Mi requested, 100m/64Mi limit."""
    kube_state_metrics: Resources = Resources(
        requests=ResourceList(cpu="20m", memory="64Mi"), limits=ResourceList(cpu="200m", memory="256Mi")
    )
    """kube-state-metrics; its memory grows with the number of objects in the cluster. Default:
    20m/64Mi requested, 200m/256Mi limit."""
    grafana: Resources = Resources(
        requests=ResourceList(cpu="50m", memory="128Mi"), limits=ResourceList(cpu="500m", memory="512Mi")
    )
    """Grafana. Default: 50m/128Mi requested, 500m/512Mi limit."""
    grafana_sidecars: Resources = Resources(
        requests=ResourceList(cpu="10m", memory="64Mi"), limits=ResourceList(cpu="100m", memory="128Mi")
    )
    """Each of Grafana's sidecars (dashboards, datasources). Default: 10m/64Mi requested, 100m/128Mi limit."""
    node_exporter: Resources = Resources(
        requests=ResourceList(cpu="10m", memory="32Mi"), limits=ResourceList(cpu="200m", memory="64Mi")
    )
    """The node exporter, on every node. Default: 10m/32Mi requested, 200m/64Mi limit."""


class MonitoringArgs(Args):
    """Inputs of :class:`Monitoring`."""

    namespace: DnsLabel = "monitoring"
    """The namespace of the monitoring stack. Default: ``monitoring``."""
    release: DnsLabel = "kube-prometheus-stack"
    """The Helm release name. Default: ``kube-prometheus-stack``."""
    prometheus: PrometheusSettings = PrometheusSettings()
    """The Prometheus server. Default: the :class:`PrometheusSettings` defaults."""
    alertmanager: AlertmanagerSettings = AlertmanagerSettings(enabled=False)
    """Alertmanager and where it sends alerts (``true``/``false`` still switch it, a ``true``
    needing receivers). Default: off."""
    grafana: bool = True
    """Whether to run Grafana, with its sidecar loading dashboards from every namespace. Default: true."""
    grafana_admin_secret: DnsSubdomain | None = None
    """An existing Secret in this namespace with keys ``admin-user`` and ``admin-password`` for
    Grafana's admin. Default: none, which only ``grafana: false`` allows (the chart's built-in
    password is public)."""
    node_exporter: bool = True
    """Whether to run the node exporter DaemonSet. It reads the host's network, PID namespace and
    file system, which only ``privileged`` admits, so it runs in a namespace of its own
    (``nodeExporterNamespace``) and the monitoring namespace stays ``restricted``. Default: true."""
    node_exporter_namespace: DnsLabel = "node-exporter"
    """The node exporter's own namespace: Pod Security ``privileged`` enforce (``restricted`` audit
    and warn, so its host access stays visible), default-deny, and nothing else runs there.
    Default: ``node-exporter``."""
    pod_security: PodSecurity | None = None
    """Pod Security levels of the monitoring namespace. Default: ``restricted`` for enforce, audit
    and warn: every pod there (the operator, Prometheus, Alertmanager, Grafana, kube-state-metrics)
    passes it."""
    workloads: MonitoringWorkloads = MonitoringWorkloads()
    """Requests and limits of the chart's other containers. Default: the :class:`MonitoringWorkloads`
    defaults."""
    scrape_ports: list[PortNumber] = []
    """More pod ports Prometheus may reach, beyond the usual exporters': the apps' metrics ports.
    An environment's stack adds its own apps'; a platform stack lists those of the environments
    on it. Default: none."""
    node_cidrs: list[str] = ["0.0.0.0/0"]
    """The nodes' addresses, for what Prometheus scrapes on them (kubelet, node exporter...).
    Default: any address, on those ports only."""
    api_server: ApiServerAccess = ApiServerAccess()
    """Where the API server is, which the operator, kube-state-metrics, Grafana's sidecar and
    Prometheus's discovery talk to. Default: any address on 443 and 6443."""
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

    @model_validator(mode="after")
    def _node_exporter_apart(self) -> MonitoringArgs:
        if self.node_exporter and self.node_exporter_namespace == self.namespace:
            raise ValueError(
                f"nodeExporterNamespace: {self.node_exporter_namespace!r} is the monitoring namespace; the node "
                "exporter needs a privileged namespace of its own, so that the others stay restricted"
            )
        return self

    def effective_pod_security(self) -> PodSecurity:
        """The levels in force in the monitoring namespace."""
        return self.pod_security or PodSecurity(enforce="restricted", audit="restricted", warn="restricted")


class Monitoring(pulumi.ComponentResource):
    """kube-prometheus-stack in its own namespace: Prometheus, and optionally Alertmanager and Grafana."""

    namespace_name: pulumi.Output[str]
    """The monitoring namespace."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        namespace = platform_namespace(
            self, args.namespace, part_of=args.part_of, pod_security=args.effective_pod_security()
        )
        inside = after(self, namespace)
        if args.node_exporter:
            # Host access is confined here, so that the monitoring namespace enforces restricted.
            hosts = platform_namespace(
                self, args.node_exporter_namespace, part_of=args.part_of, pod_security=_HOST_ACCESS
            )
            inside = after(self, namespace, hosts)
        install_chart(
            f"{name}-chart",
            CHART,
            release=args.release,
            namespace=args.namespace,
            values=chart_values(args),
            opts=inside,
            local_path=args.chart_path,
        )
        for policy_name, spec in _network_policies(args).items():
            namespace_policy(name, args.namespace, policy_name, spec, inside)
        self.namespace_name = namespace.namespace_name
        self.register_outputs({"namespace_name": self.namespace_name})


#: The node exporter's namespace: it needs host namespaces and hostPath, which only privileged admits.
_HOST_ACCESS = PodSecurity(enforce="privileged", audit="restricted", warn="restricted")

#: Ports Prometheus scrapes on pods: kube-state-metrics, node exporter and Traefik, Fluent Bit,
#: CoreDNS, ingress-nginx and Envoy Gateway, Grafana and the operator, on top of the apps' own.
POD_SCRAPE_PORTS = (8080, 9100, 2020, 9153, 10254, 19001, 3000)
#: Ports it scrapes on nodes: the kubelet, the node exporter (host network), kube-proxy, the
#: scheduler, the controller manager and etcd's metrics.
NODE_SCRAPE_PORTS = (10250, 9100, 10249, 10259, 10257, 2381)


def _network_policies(args: MonitoringArgs) -> dict[str, networking.NetworkPolicySpecArgs]:
    """The monitoring namespace's allow-list: its pods among themselves and to the API server,
    Prometheus to its scrape targets, Alertmanager to its receivers."""
    scrape_ports = tcp(*sorted({*POD_SCRAPE_PORTS, *args.scrape_ports}))
    policies = {
        "allow-monitoring": platform_policy_spec(
            ingress=[from_namespaces([args.namespace])],
            egress=[to_namespaces([args.namespace]), to_api_server(args.api_server)],
        ),
        "allow-prometheus-scrapes": platform_policy_spec(
            egress=[
                to_namespaces([], scrape_ports),
                to_blocks(list(args.node_cidrs), tcp(*sorted(NODE_SCRAPE_PORTS))),
            ],
            pods={"app.kubernetes.io/name": "prometheus"},
        ),
    }
    if args.alertmanager.enabled:
        # Slack, PagerDuty and webhooks are HTTPS endpoints on the internet, named by host.
        policies["allow-alertmanager-receivers"] = platform_policy_spec(
            egress=[to_blocks(["0.0.0.0/0"], tcp(443))], pods={"app.kubernetes.io/name": "alertmanager"}
        )
    return policies


def _fullname(release: str) -> str:
    """The chart's ``kube-prometheus-stack.fullname``: the release, unless it lacks the chart's name."""
    return release if CHART.chart in release else f"{release}-{CHART.chart}"[:26].rstrip("-")


def _operated_labels(args: MonitoringArgs, component: str) -> dict[str, str]:
    """The labels the operator puts on the pods of the chart's Prometheus or Alertmanager."""
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": f"{_fullname(args.release)}-{component}"}


def _alertmanager_values(args: MonitoringArgs) -> dict[str, Any]:
    settings = args.alertmanager
    if not settings.enabled:
        return {"enabled": False}
    spec: dict[str, Any] = {
        "replicas": settings.replicas,
        "resources": settings.resources.as_dict(),
        # Mounted at /etc/alertmanager/secrets/<name>/<key>, where the receivers read their credentials.
        "secrets": settings.secret_names(),
    }
    if settings.replicas > 1:
        spec["topologySpreadConstraints"] = spread_values(_operated_labels(args, "alertmanager"))
    return {
        "enabled": True,
        "alertmanagerSpec": spec,
        "config": settings.config(),
        "podDisruptionBudget": {"enabled": settings.replicas > 1, "minAvailable": 1},
    }


#: Every container of the chart's own pods: no privilege escalation, no capability, a read-only
#: root file system and the runtime's seccomp profile (what restricted asks, and the node exporter
#: needs none of it either).
_LOCKED_DOWN = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}

#: The budget of a single-replica Deployment: one pod may always go, so a node drain never waits on it.
_ONE_MAY_GO = {"maxUnavailable": 1}


def _node_exporter_values(args: MonitoringArgs) -> dict[str, Any]:
    return {
        "namespaceOverride": args.node_exporter_namespace,
        "daemonsetAnnotations": labels.policy_exception(
            "pod-security-restricted",
            "reads the node's metrics: the host's network and PID namespaces and read-only hostPath mounts of "
            "/proc, /sys and /; runs as 65534 with every capability dropped; confined to its own namespace",
        ),
        "resources": args.workloads.node_exporter.as_dict(),
        "containerSecurityContext": _LOCKED_DOWN,
    }


def _grafana_values(args: MonitoringArgs) -> dict[str, Any]:
    secret = args.grafana_admin_secret
    admin = {"admin": {"existingSecret": secret, "userKey": "admin-user", "passwordKey": "admin-password"}}
    return {
        "enabled": args.grafana,
        **(admin if secret else {}),
        "resources": args.workloads.grafana.as_dict(),
        "podDisruptionBudget": _ONE_MAY_GO,
        "sidecar": {
            "resources": args.workloads.grafana_sidecars.as_dict(),
            "dashboards": {
                "enabled": True,
                "label": DASHBOARD_LABEL,
                "labelValue": "1",
                "searchNamespace": "ALL",
            },
        },
    }


def chart_values(args: MonitoringArgs) -> dict[str, Any]:
    """The complete values stackyard passes to kube-prometheus-stack."""
    prometheus = args.prometheus
    spec: dict[str, Any] = {
        "retention": prometheus.retention,
        "replicas": prometheus.replicas,
        "resources": prometheus.resources.as_dict(),
        **dict.fromkeys(SELECTOR_KEYS, False),
    }
    if (size := prometheus.effective_retention_size()) is not None:
        spec["retentionSize"] = size
    if prometheus.replicas > 1:
        spec["topologySpreadConstraints"] = spread_values(_operated_labels(args, "prometheus"))
    if prometheus.storage_size is not None:
        claim: dict[str, Any] = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": prometheus.storage_size}},
        }
        if prometheus.storage_class is not None:
            claim["storageClassName"] = prometheus.storage_class
        spec["storageSpec"] = {"volumeClaimTemplate": {"spec": claim}}
    workloads = args.workloads
    return {
        "prometheus": {
            "prometheusSpec": spec,
            "podDisruptionBudget": {"enabled": prometheus.replicas > 1, "minAvailable": 1},
        },
        "alertmanager": _alertmanager_values(args),
        "grafana": _grafana_values(args),
        "kube-state-metrics": {
            "resources": workloads.kube_state_metrics.as_dict(),
            "podDisruptionBudget": _ONE_MAY_GO,
        },
        "nodeExporter": {"enabled": args.node_exporter},
        "prometheus-node-exporter": _node_exporter_values(args),
        "prometheusOperator": {
            "admissionWebhooks": {"enabled": False},
            "tls": {"enabled": False},
            "resources": workloads.operator.as_dict(),
            # The chart's budget template keeps its default minAvailable: 1, which would block every
            # drain of the single operator pod; 0 lets it go, as maxUnavailable: 1 does for the others.
            "podDisruptionBudget": {"enabled": True, "minAvailable": 0},
            "prometheusConfigReloader": {"resources": workloads.config_reloader.as_dict()},
        },
    }
