"""Stackyard's reusable Pulumi components for one application environment on Kubernetes."""

from __future__ import annotations

import warnings

from ._version import __version__
from .app_monitoring import AlertOverride, AppMonitoring, AppMonitoringArgs, MonitoringOptions
from .gateway import AppGateway, AppGatewayArgs, TlsListener
from .ingress_controller import IngressController, IngressControllerArgs
from .log_shipping import LogOutput, LogShipping, LogShippingArgs
from .monitoring import (
    AlertmanagerSettings,
    Monitoring,
    MonitoringArgs,
    MonitoringWorkloads,
    PagerDutyReceiver,
    PrometheusSettings,
    Receiver,
    SlackReceiver,
    WebhookReceiver,
)
from .namespace import AppNamespace, AppNamespaceArgs, ComputeQuota, ContainerDefaults, PodSecurity, Quota
from .network_intents import compile_network_intents, network_intent_problems
from .network_policy import ApiServerAccess, EgressRule, IngressRule, Port
from .problems import Problem, ProblemsError
from .routing import AppRoute, AppRouteArgs, Route
from .secret import AppSecret, AppSecretArgs
from .workload import App, AppArgs, Autoscaling, ResourceList, Resources, SecretKeyRef

__all__ = [
    "AlertOverride",
    "AlertmanagerSettings",
    "ApiServerAccess",
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
    "MonitoringWorkloads",
    "PagerDutyReceiver",
    "PodSecurity",
    "Port",
    "Problem",
    "ProblemsError",
    "PrometheusSettings",
    "Quota",
    "Receiver",
    "ResourceList",
    "Resources",
    "Route",
    "SecretKeyRef",
    "SlackReceiver",
    "TlsListener",
    "WebhookReceiver",
    "__version__",
    "compile_network_intents",
    "network_intent_problems",
]


#: Names that were public and are kept, with a warning, until the release named: name → (replacement, removal).
#: Removing a public name without passing through here first breaks tests/golden/public-api.txt.
_DEPRECATED: dict[str, tuple[str, str]] = {}


def __getattr__(name: str) -> object:
    """Deprecated names still resolve, with a ``DeprecationWarning`` naming the replacement."""
    if name in _DEPRECATED:
        replacement, removal = _DEPRECATED[name]
        warnings.warn(
            # __name__ is the import the user wrote: stackyard_components from the wheel.
            f"{__name__}.{name} is deprecated and goes away in {removal}; use {__name__}.{replacement}",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[replacement]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
