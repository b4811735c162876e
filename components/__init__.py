"""Stackyard's reusable Pulumi components for one application environment on Kubernetes."""

from __future__ import annotations

from .namespace import AppNamespace, AppNamespaceArgs, ComputeQuota, ContainerDefaults, PodSecurity, Quota
from .secret import AppSecret, AppSecretArgs
from .workload import App, AppArgs, Autoscaling, ResourceList, Resources, SecretKeyRef

__all__ = [
    "App",
    "AppArgs",
    "AppNamespace",
    "AppNamespaceArgs",
    "AppSecret",
    "AppSecretArgs",
    "Autoscaling",
    "ComputeQuota",
    "ContainerDefaults",
    "PodSecurity",
    "Quota",
    "ResourceList",
    "Resources",
    "SecretKeyRef",
]
