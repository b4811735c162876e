"""Stackyard's reusable Pulumi components for one application environment on Kubernetes."""

from __future__ import annotations

from .gateway import AppGateway, AppGatewayArgs, TlsListener
from .ingress_controller import IngressController, IngressControllerArgs
from .namespace import AppNamespace, AppNamespaceArgs, ComputeQuota, ContainerDefaults, PodSecurity, Quota
from .network_policy import EgressRule, IngressRule, Port
from .routing import AppRoute, AppRouteArgs, Route
from .secret import AppSecret, AppSecretArgs
from .workload import App, AppArgs, Autoscaling, ResourceList, Resources, SecretKeyRef

__all__ = [
    "App",
    "AppArgs",
    "AppGateway",
    "AppGatewayArgs",
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
    "PodSecurity",
    "Port",
    "Quota",
    "ResourceList",
    "Resources",
    "Route",
    "SecretKeyRef",
    "TlsListener",
]
