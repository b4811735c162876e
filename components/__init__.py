"""Stackyard's reusable Pulumi components for one application environment on Kubernetes."""

from __future__ import annotations

from ._version import __version__
from .app_monitoring import AlertOverride, AppMonitoring, AppMonitoringArgs, MonitoringOptions
from .gateway import AppGateway, AppGatewayArgs, TlsListener
from .ingress_controller import IngressController, IngressControllerArgs
from .log_shipping import LogOutput, LogShipping, LogShippingArgs
from .monitoring import Monitoring, MonitoringArgs, PrometheusSettings
from .namespace import AppNamespace, AppNamespaceArgs, ComputeQuota, ContainerDefaults, PodSecurity, Quota
from .network_policy import EgressRule, IngressRule, Port
from .routing import AppRoute, AppRouteArgs, Route
from .secret import AppSecret, AppSecretArgs
from .workload import App, AppArgs, Autoscaling, ResourceList, Resources, SecretKeyRef

__all__ = [
    "AlertOverride",
    "App",
    "AppArgs",
    "AppGateway",
    "AppGatewayArgs",
    "AppMonitoring",
    "AppMonitoringArgs",
    "AppNamespace",
    "AppNamespaceArgs",
    "AppRoute",
    "AppRouteArgs",
    "AppSecret",
    "AppSecretArgs",
    "Autoscaling",
    "ComputeQuota",
    "ContainerDefaults",
    "EgressRule",
    "IngressController",
    "IngressControllerArgs",
    "IngressRule",
    "LogOutput",
    "LogShipping",
    "LogShippingArgs",
    "Monitoring",
    "MonitoringArgs",
    "MonitoringOptions",
    "PodSecurity",
    "Port",
    "PrometheusSettings",
    "Quota",
    "ResourceList",
    "Resources",
    "Route",
    "SecretKeyRef",
    "TlsListener",
    "__version__",
]
