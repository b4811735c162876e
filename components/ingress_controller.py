"""IngressController: a maintained ingress controller from a pinned Helm chart, in its own namespace.

=============== ============================ =============================== ===========================
implementation  serves                       Gateway API CRDs                Pod Security (enforce)
=============== ============================ =============================== ===========================
traefik         Ingress and the Gateway API  installed by this component     restricted
(default)                                    (upstream standard channel)
envoy-gateway   the Gateway API              installed by its chart          baseline: its Envoy proxy
                                             (experimental channel, which    pods are created at run
                                             v1.9 requires); needs           time, outside our values
                                             cert-manager (see below)
ingress-nginx   Ingress only; legacy,        n/a                             baseline
                retired upstream March 2026
=============== ============================ =============================== ===========================

Only the route API in use is switched on. ``helm.v4.Chart`` drops Helm hooks; see
:mod:`components.chart` for how each chart is kept working without them.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.yaml.v2 as kubernetes_yaml
from pulumi_kubernetes import apiextensions
from pydantic import Field, model_validator

from . import labels
from ._args import Args
from .chart import install_chart
from .ingress_implementations import (
    GATEWAY_API_CRDS_URL,
    LEGACY_WARNING,
    PROFILES,
    ControllerSettings,
    Implementation,
    Profile,
    RouteApi,
    ServiceType,
    chart_values,
    envoy_gateway_certificates,
    envoy_proxy,
    proxy_name,
)
from .namespace import AppNamespace, AppNamespaceArgs, PodSecurity, platform_namespace_args
from .routing import GATEWAY_API_VERSION
from .validation import DnsLabel, LabelValue
from .workload import ResourceList, Resources

TYPE_TOKEN = "stackyard:index:IngressController"


class IngressControllerArgs(Args):
    """Inputs of :class:`IngressController`."""

    implementation: Implementation = "traefik"
    """Which controller: ``traefik``, ``envoy-gateway`` or the legacy ``ingress-nginx`` (retired
    upstream; choosing it prints a warning). Default: traefik."""
    route_api: RouteApi = "ingress"
    """How the environment's routes are expressed: ``ingress`` (Ingress objects with this
    controller's IngressClass) or ``gateway`` (HTTPRoutes on a Gateway of this controller's
    GatewayClass). Default: ingress."""
    namespace: DnsLabel = "ingress"
    """The controller's own namespace. Default: ``ingress``."""
    release: DnsLabel | None = None
    """The Helm release name. Default: the implementation's name."""
    class_name: DnsLabel | None = None
    """The IngressClass or GatewayClass name. Default: ``traefik``, ``envoy-gateway`` or ``nginx``."""
    replicas: int = Field(default=2, ge=1)
    """Controller replicas. With more than one, a PodDisruptionBudget keeps all but one available. Default: 2."""
    service_type: ServiceType = "LoadBalancer"
    """How traffic reaches the controller: ``LoadBalancer``, ``NodePort`` or ``ClusterIP``. Default: LoadBalancer."""
    resources: Resources = Resources(
        requests=ResourceList(cpu="100m", memory="128Mi"), limits=ResourceList(cpu="1", memory="512Mi")
    )
    """Requests and limits of the controller container. Default: 100m/128Mi requested, 1 CPU/512Mi limit."""
    install_gateway_api_crds: bool = True
    """With ``routeApi: gateway``, whether to install the Gateway API CRDs; when false they must
    already be in the cluster. Default: true."""
    pod_security: PodSecurity | None = None
    """Pod Security levels of the controller's namespace. Default: the implementation's (module docs)."""
    part_of: LabelValue = ""
    """The ``app.kubernetes.io/part-of`` label. Default: no label."""

    @model_validator(mode="after")
    def _implementation_serves_the_route_api(self) -> IngressControllerArgs:
        if self.route_api not in self.profile.serves:
            raise ValueError(
                f"implementation {self.implementation!r} does not serve routeApi {self.route_api!r}; "
                f"it serves {list(self.profile.serves)}"
            )
        return self

    @property
    def profile(self) -> Profile:
        """What stackyard knows about the chosen implementation."""
        return PROFILES[self.implementation]

    @property
    def effective_class_name(self) -> str:
        """The IngressClass or GatewayClass name in force."""
        return self.class_name or self.profile.default_class

    @property
    def effective_release(self) -> str:
        """The Helm release name in force."""
        return self.release or self.implementation

    def settings(self) -> ControllerSettings:
        """The values that shape the chart and the implementation's objects."""
        return ControllerSettings(
            namespace=self.namespace,
            class_name=self.effective_class_name,
            route_api=self.route_api,
            replicas=self.replicas,
            service_type=self.service_type,
            resources=self.resources.as_dict(),
            install_gateway_api_crds=self.install_gateway_api_crds,
            labels=labels.recommended_labels(
                name=self.implementation,
                instance=labels.instance_label(self.effective_release, self.namespace),
                component="ingress-controller",
                part_of=self.part_of,
            ),
        )


class IngressController(pulumi.ComponentResource):
    """The controller's namespace, its pinned chart, and what routes attach to (IngressClass or GatewayClass)."""

    namespace_name: pulumi.Output[str]
    """The controller's namespace."""
    class_name: pulumi.Output[str]
    """The IngressClass or GatewayClass that routes use."""

    def __init__(self, name: str, args: IngressControllerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        profile, settings = args.profile, args.settings()
        if profile.legacy:
            pulumi.log.warn(LEGACY_WARNING, resource=self)
        namespace = AppNamespace(
            args.namespace, _namespace_args(args, profile), opts=pulumi.ResourceOptions(parent=self)
        )
        prerequisites: list[pulumi.Resource] = [namespace]
        if settings.serves_gateway and args.install_gateway_api_crds and args.implementation == "traefik":
            prerequisites.append(
                kubernetes_yaml.ConfigFile(
                    f"{name}-gateway-api-crds", file=GATEWAY_API_CRDS_URL, opts=pulumi.ResourceOptions(parent=self)
                )
            )
        if args.implementation == "envoy-gateway":
            prerequisites += envoy_gateway_certificates(
                name, settings, pulumi.ResourceOptions(parent=self, depends_on=[namespace])
            )
        chart = install_chart(
            f"{name}-chart",
            profile.chart,
            release=args.effective_release,
            namespace=args.namespace,
            values=chart_values(args.implementation, settings),
            opts=pulumi.ResourceOptions(parent=self, depends_on=prerequisites),
        )
        if settings.serves_gateway:
            self._gateway_class(name, args, settings, chart)
        self.namespace_name = namespace.namespace_name
        self.class_name = pulumi.Output.from_input(settings.class_name)
        self.register_outputs({"namespace_name": self.namespace_name, "class_name": self.class_name})

    def _gateway_class(
        self, name: str, args: IngressControllerArgs, settings: ControllerSettings, chart: pulumi.Resource
    ) -> None:
        spec: dict[str, Any] = {"controllerName": args.profile.controller_name}
        dependencies = [chart]
        if args.implementation == "envoy-gateway":
            dependencies.append(envoy_proxy(name, settings, pulumi.ResourceOptions(parent=self, depends_on=[chart])))
            spec["parametersRef"] = {
                "group": "gateway.envoyproxy.io",
                "kind": "EnvoyProxy",
                "name": proxy_name(settings),
                "namespace": settings.namespace,
            }
        apiextensions.CustomResource(
            f"{name}-gateway-class",
            api_version=GATEWAY_API_VERSION,
            kind="GatewayClass",
            metadata=meta.ObjectMetaArgs(name=settings.class_name, labels=settings.labels),
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=dependencies),
        )


def _namespace_args(args: IngressControllerArgs, profile: Profile) -> AppNamespaceArgs:
    return platform_namespace_args(
        args.namespace,
        part_of=args.part_of,
        pod_security=args.pod_security or profile.pod_security,
        labels={labels.INGRESS_CONTROLLER: "true"},
        why_no_default_deny="the controller's pods need the API server and the outside world, "
        "whose addresses are cluster-specific",
    )
