"""AppMonitoring: how Prometheus scrapes one app, the alerts it raises, and an optional dashboard.

A Service-backed app gets a ServiceMonitor; an app without a Service (a worker) gets a PodMonitor.
Either one selects exactly the app's pods by its stable selector labels and its metrics port by name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
from pydantic import AfterValidator, Field, field_validator, model_validator

from ._kit.apis import DASHBOARD_LABEL
from ._kit.args import Args
from ._kit.children import child_options
from ._kit.metadata import object_meta
from ._kit.prometheus import monitor_spec, monitoring_object, rule_groups
from ._kit.values import Duration, text_matching
from .validation import DnsLabel, LabelMap, PortName

__all__ = [
    "DASHBOARD_LABEL",
    "TYPE_TOKEN",
    "AlertName",
    "AlertOverride",
    "AppMonitoring",
    "AppMonitoringArgs",
    "MetricName",
    "MonitoringOptions",
    "Severity",
    "alert_rules",
    "metric_name",
    "pod_pattern",
]

TYPE_TOKEN = "stackyard:index:AppMonitoring"

Severity = Literal["info", "warning", "critical"]
AlertName = Literal["PodNotReady", "PodRestarting", "HighErrorRate"]

metric_name = text_matching(
    r"^[a-zA-Z_:][a-zA-Z0-9_:]*$",
    "must be a Prometheus metric name: letters, digits, '_' and ':', not starting with a digit",
)
#: A Prometheus metric name.
MetricName = Annotated[str, AfterValidator(metric_name)]


class AlertOverride(Args):
    """Changes to one default alert."""

    enabled: bool = True
    """Whether the alert exists. Default: true."""
    for_duration: Duration | None = None
    """How long the condition must hold before the alert fires. Default: the alert's own."""
    severity: Severity | None = None
    """The ``severity`` label. Default: the alert's own."""
    threshold: float | None = Field(default=None, gt=0)
    """The alert's threshold (restarts in 15 minutes; the 5xx ratio). Default: the alert's own."""


class MonitoringOptions(Args):
    """What an app asks of monitoring beyond being scraped."""

    interval: Duration = "30s"
    """How often Prometheus scrapes the app. Default: 30s."""
    http_requests_metric: MetricName | None = None
    """A counter of HTTP requests with a status-code label (e.g. ``http_requests_total``); enables
    the ``HighErrorRate`` alert. Default: none."""
    status_label: str = Field(default="code", pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    """The label holding the HTTP status code on that counter. Default: ``code``."""
    alerts: dict[AlertName, AlertOverride] = {}
    """Overrides of the default alerts, by name. Default: the alerts as they are."""

    @field_validator("alerts", mode="before")
    @classmethod
    def _removed_alerts(cls, alerts: Any) -> Any:
        if isinstance(alerts, dict) and "HpaAtMaxReplicas" in alerts:
            raise ValueError(
                "HpaAtMaxReplicas is no longer an app alert: kube-prometheus-stack's KubeHpaMaxedOut fires on "
                "the same condition; configure that one through the chart's defaultRules instead"
            )
        return alerts

    dashboard: bool = False
    """Whether to ship a small Grafana dashboard ConfigMap for the Grafana sidecar. Default: false."""


class AppMonitoringArgs(Args):
    """Inputs of :class:`AppMonitoring`."""

    namespace: DnsLabel
    """The app's namespace."""
    app: DnsLabel
    """The app's name (its Deployment, Service and HPA)."""
    selector: LabelMap = Field(min_length=1)
    """The app's pod selector labels; the Service carries the same."""
    labels: LabelMap = {}
    """Labels for the monitoring objects, usually the app's. Default: none."""
    has_service: bool = True
    """Scrape through the app's Service (ServiceMonitor) or straight from its pods (PodMonitor). Default: true."""
    metrics_port_name: PortName | None = None
    """The name of the port serving metrics, on the Service or the pods. Default: none, so nothing
    is scraped and only the alerts built on kube-state-metrics apply."""
    metrics_path: str = Field(default="/metrics", pattern=r"^/\S*$")
    """The metrics path. Default: ``/metrics``."""
    options: MonitoringOptions = MonitoringOptions()
    """Scrape interval, alert overrides and dashboard. Default: the :class:`MonitoringOptions` defaults."""

    @model_validator(mode="after")
    def _error_rate_needs_scraping(self) -> AppMonitoringArgs:
        if self.options.http_requests_metric and self.metrics_port_name is None:
            raise ValueError("httpRequestsMetric comes from the app's own metrics; the app needs metricsPort")
        return self

    @model_validator(mode="after")
    def _overrides_name_existing_alerts(self) -> AppMonitoringArgs:
        available = {rule.name for rule in _default_rules(self)}
        unknown = sorted(set(self.options.alerts) - available)
        if unknown:
            raise ValueError(
                f"alerts {unknown} do not apply to this app; its alerts are {sorted(available)} "
                "(HighErrorRate needs httpRequestsMetric)"
            )
        return self


@dataclass(frozen=True)
class _Rule:
    name: str
    expr: str
    for_duration: str
    severity: str
    summary: str


def pod_pattern(app: str) -> str:
    """The names of a Deployment's pods: ``<app>-<ReplicaSet hash>-<suffix>``."""
    return f"{app}-[a-z0-9]+-[a-z0-9]+"


def _default_rules(args: AppMonitoringArgs, thresholds: Mapping[str, float] | None = None) -> list[_Rule]:
    limits = thresholds or {}
    pods = f'namespace="{args.namespace}", pod=~"{pod_pattern(args.app)}"'
    rules = [
        _Rule(
            "PodNotReady",
            # Pending (unschedulable, pulling) pods have no Ready condition yet, so the phase covers
            # them; readiness counts only for Running pods, so Evicted and finished pods stay silent.
            f'max by (namespace, pod) (kube_pod_status_phase{{{pods}, phase=~"Pending|Unknown"}}) == 1\n'
            f"or\n"
            f'(\n  max by (namespace, pod) (kube_pod_status_ready{{{pods}, condition="false"}}) == 1\n'
            f"  and on (namespace, pod)\n"
            f'  max by (namespace, pod) (kube_pod_status_phase{{{pods}, phase="Running"}}) == 1\n)',
            "15m",
            "warning",
            f"A pod of {args.app} has not been ready for 15 minutes.",
        ),
        _Rule(
            "PodRestarting",
            f"increase(kube_pod_container_status_restarts_total{{{pods}}}[15m]) > {limits.get('PodRestarting', 3):g}",
            "5m",
            "warning",
            f"A container of {args.app} keeps restarting.",
        ),
    ]
    # No alert for an HPA at its maximum: kube-prometheus-stack's KubeHpaMaxedOut is the same one.
    metric = args.options.http_requests_metric
    if metric:
        status = args.options.status_label
        rules.append(
            _Rule(
                "HighErrorRate",
                f'sum(rate({metric}{{{pods}, {status}=~"5.."}}[5m]))\n'
                f"  / sum(rate({metric}{{{pods}}}[5m])) > {limits.get('HighErrorRate', 0.05):g}",
                "10m",
                "critical",
                f"More than {limits.get('HighErrorRate', 0.05):.0%} of {args.app}'s requests fail with 5xx.",
            )
        )
    return rules


def alert_rules(args: AppMonitoringArgs) -> list[dict[str, Any]]:
    """The app's alerting rules after overrides, as PrometheusRule ``rules`` entries."""
    thresholds: dict[str, float] = {
        str(name): o.threshold for name, o in args.options.alerts.items() if o.threshold is not None
    }
    result = []
    for rule in _default_rules(args, thresholds):
        override = args.options.alerts.get(rule.name, AlertOverride())  # type: ignore[call-overload]
        if not override.enabled:
            continue
        result.append(
            {
                "alert": f"{_pascal(args.app)}{rule.name}",
                "expr": rule.expr,
                "for": override.for_duration or rule.for_duration,
                "labels": {"severity": override.severity or rule.severity, "app": args.app},
                "annotations": {"summary": rule.summary},
            }
        )
    return result


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


class AppMonitoring(pulumi.ComponentResource):
    """A ServiceMonitor or PodMonitor, a PrometheusRule with default alerts, and an optional dashboard."""

    def __init__(self, name: str, args: AppMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = child_options(self, opts)
        if args.metrics_port_name is not None:
            self._scrape(name, args, args.metrics_port_name, child)
        rules = rule_groups(f"{args.namespace}.{args.app}", alert_rules(args))
        monitoring_object(f"{name}-rules", "PrometheusRule", self._metadata(args, f"{args.app}-alerts"), rules, child)
        if args.options.dashboard:
            core.ConfigMap(
                f"{name}-dashboard",
                metadata=object_meta(f"{args.app}-dashboard", args.namespace, {**args.labels, DASHBOARD_LABEL: "1"}),
                data={f"{args.namespace}-{args.app}.json": _dashboard_json(args)},
                opts=child,
            )
        self.register_outputs({})

    def _scrape(self, name: str, args: AppMonitoringArgs, port: str, opts: pulumi.ResourceOptions) -> None:
        endpoint = {"port": port, "path": args.metrics_path, "interval": args.options.interval}
        kind, endpoints_key = (
            ("ServiceMonitor", "endpoints") if args.has_service else ("PodMonitor", "podMetricsEndpoints")
        )
        spec = monitor_spec(dict(args.selector), args.namespace, [endpoint], endpoints_key)
        monitoring_object(f"{name}-{kind.lower()}", kind, self._metadata(args, args.app), spec, opts)

    @staticmethod
    def _metadata(args: AppMonitoringArgs, name: str) -> meta.ObjectMetaArgs:
        return object_meta(name, args.namespace, dict(args.labels))


def _dashboard_json(args: AppMonitoringArgs) -> str:
    """A small dashboard: pods ready, restarts and, when known, request and 5xx rates."""
    pods = f'namespace="{args.namespace}", pod=~"{pod_pattern(args.app)}"'
    panels = [
        ("Pods ready", f'sum(kube_pod_status_ready{{{pods}, condition="true"}})'),
        ("Container restarts (1h)", f"sum(increase(kube_pod_container_status_restarts_total{{{pods}}}[1h]))"),
    ]
    metric = args.options.http_requests_metric
    if metric:
        panels.append(("Requests per second", f"sum(rate({metric}{{{pods}}}[5m]))"))
        panels.append(("5xx per second", f'sum(rate({metric}{{{pods}, {args.options.status_label}=~"5.."}}[5m]))'))
    dashboard = {
        "title": f"{args.namespace} / {args.app}",
        "uid": f"{args.namespace}-{args.app}"[:40],
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "panels": [
            {
                "id": index + 1,
                "type": "timeseries",
                "title": title,
                "gridPos": {"x": (index % 2) * 12, "y": (index // 2) * 8, "w": 12, "h": 8},
                "targets": [{"expr": expr, "refId": "A"}],
            }
            for index, (title, expr) in enumerate(panels)
        ],
    }
    return json.dumps(dashboard, indent=2, sort_keys=True)
