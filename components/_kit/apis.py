"""Other projects' APIs that several components write to: versions, annotations, naming contracts."""

from __future__ import annotations

from typing import Literal

__all__ = [
    "CLUSTER_ISSUER_ANNOTATION",
    "DASHBOARD_LABEL",
    "GATEWAY_API_GROUP",
    "GATEWAY_API_VERSION",
    "MONITORING_API_VERSION",
    "RouteApi",
    "listener_name",
]

#: The Prometheus Operator's kinds (ServiceMonitor, PodMonitor, PrometheusRule).
MONITORING_API_VERSION = "monitoring.coreos.com/v1"

#: The Gateway API's standard kinds (GatewayClass, Gateway, HTTPRoute).
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
GATEWAY_API_VERSION = f"{GATEWAY_API_GROUP}/v1"

#: cert-manager's annotation on an Ingress or Gateway: which ClusterIssuer issues its certificates.
CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"

#: The label Grafana's dashboard sidecar looks for on ConfigMaps: the contract between the
#: Monitoring chart's values, which set it, and AppMonitoring's dashboards, which carry it.
DASHBOARD_LABEL = "grafana_dashboard"

#: How an environment's routes are expressed: Ingress objects, or Gateway API HTTPRoutes.
RouteApi = Literal["ingress", "gateway"]


def listener_name(host: str) -> str:
    """The Gateway listener (section) serving HTTPS for a host: ``https-`` and the host with dots as dashes.

    The contract between :class:`~components.gateway.AppGateway`, which names its listeners so,
    and :class:`~components.routing.AppRoute`, whose HTTPRoute attaches to one by that name.
    """
    return "https-" + host.replace("*", "wildcard").replace(".", "-")
