"""A thin typed facade that publishes the main components to every Pulumi language.

Pulumi's Python component provider infers the package schema from type annotations, and it can
only read plain ``TypedDict`` shapes: no validators, unions or defaults. So each published
component here is the same Python component class with a ``TypedDict`` args facade; the facade is
validated into the component's own args model, which stays the one implementation. Inputs are
plain values (not ``Output``s) because names, labels and hashes are computed from them.

This module deliberately does not use ``from __future__ import annotations``: the schema analyzer
reads the annotations at run time and cannot resolve them from strings.
"""

from typing import NotRequired, Optional, TypedDict

import pulumi

from . import namespace, workload

__all__ = [
    "PACKAGE_NAME",
    "PUBLISHED",
    "App",
    "AppInputs",
    "AppNamespace",
    "AutoscalingInputs",
    "NamespaceInputs",
    "ResourceListInputs",
    "ResourcesInputs",
]

#: The Pulumi package name other languages add (``pulumi package add``); it prefixes every type token.
PACKAGE_NAME = "stackyard"


class ResourceListInputs(TypedDict):
    """CPU and memory as Kubernetes quantities."""

    cpu: str
    """CPU, e.g. ``250m``."""
    memory: str
    """Memory, e.g. ``256Mi``."""


class ResourcesInputs(TypedDict):
    """Container requests and limits."""

    requests: ResourceListInputs
    """What the scheduler reserves."""
    limits: ResourceListInputs
    """The ceiling."""


class AutoscalingInputs(TypedDict):
    """HorizontalPodAutoscaler bounds."""

    minReplicas: NotRequired[int]
    """Lowest replica count. Default: 2."""
    maxReplicas: NotRequired[int]
    """Highest replica count. Default: 5."""
    targetCpuUtilization: NotRequired[int]
    """Average CPU utilisation target, in percent. Default: 70."""


class AppInputs(TypedDict):
    """Inputs of the App component, as other languages see them (camelCase, plain values)."""

    namespace: str
    """The namespace the app runs in."""
    name: str
    """The app's name (a DNS-1035 label)."""
    image: str
    """The image, pinned by tag or digest; ``latest`` is rejected."""
    port: NotRequired[int]
    """The container port. Default: 8080."""
    service: NotRequired[bool]
    """Whether to create a ClusterIP Service. Default: true."""
    replicas: NotRequired[int]
    """Replicas without autoscaling. Default: 2."""
    autoscaling: NotRequired[AutoscalingInputs]
    """Autoscaling bounds. Default: no HPA."""
    resources: NotRequired[ResourcesInputs]
    """Requests and limits. Default: 100m/128Mi requested, 500m/256Mi limit."""
    env: NotRequired[dict[str, str]]
    """Plain environment variables, through a content-hashed ConfigMap. Default: none."""
    secretFiles: NotRequired[list[str]]
    """Existing Secrets to mount read-only. Default: none."""
    partOf: NotRequired[str]
    """The ``app.kubernetes.io/part-of`` label. Default: none."""


class NamespaceInputs(TypedDict):
    """Inputs of the AppNamespace component, as other languages see them."""

    name: str
    """The namespace name."""
    partOf: NotRequired[str]
    """The ``app.kubernetes.io/part-of`` label. Default: none."""
    highAvailability: NotRequired[bool]
    """Whether workloads here must run at least 2 replicas. Default: false."""


class App(workload.App):
    """A web service or worker: Deployment, Service, HPA, PDB and NetworkPolicy, Pod Security restricted."""

    deployment_name: pulumi.Output[str]
    """The Deployment's name."""
    service_name: Optional[pulumi.Output[str]]  # noqa: UP045 - read at run time by the schema analyzer
    """The Service's name, when there is one."""

    def __init__(self, name: str, args: AppInputs, opts: Optional[pulumi.ResourceOptions] = None) -> None:  # noqa: UP045
        super().__init__(name, workload.AppArgs.model_validate(dict(args)), opts)


class AppNamespace(namespace.AppNamespace):
    """A namespace with Pod Security admission (restricted), a quota, container defaults and default-deny."""

    namespace_name: pulumi.Output[str]
    """The namespace's name."""

    def __init__(self, name: str, args: NamespaceInputs, opts: Optional[pulumi.ResourceOptions] = None) -> None:  # noqa: UP045
        super().__init__(name, namespace.AppNamespaceArgs.model_validate(dict(args)), opts)


#: What the provider publishes, in schema order.
PUBLISHED: list[type[pulumi.ComponentResource]] = [App, AppNamespace]
