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

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes.admissionregistration.v1 as admissionregistration
import pulumi_kubernetes.yaml.v2 as kubernetes_yaml
from pulumi_kubernetes import apiextensions
from pydantic import Field, ValidationInfo, field_validator, model_validator

from . import labels
from ._kit.apis import GATEWAY_API_VERSION, RouteApi
from ._kit.args import Args
from ._kit.children import after, name_output
from ._kit.metadata import object_meta, standard_labels
from ._kit.policies import from_anywhere, from_namespaces, platform_policy_spec, tcp, to_namespaces
from ._kit.resources import ResourceList, Resources
from .chart import check_local_chart, install_chart
from .ingress_implementations import (
    GATEWAY_API_CRDS_URL,
    LEGACY_WARNING,
    PROFILES,
    ControllerSettings,
    Implementation,
    Profile,
    ServiceType,
    chart_values,
    controller_disruption_budget,
    controller_service_monitor,
    envoy_gateway_certificates,
    envoy_proxy,
    gateway_api_crds_warning,
    proxy_name,
    read_gateway_api_crds,
)
from .namespace import PodSecurity, namespace_policy, platform_namespace
from .network_policy import ApiServerAccess, to_api_server
from .validation import DnsLabel, LabelValue

__all__ = ["ENVOY_GATEWAY_CRDS", "TYPE_TOKEN", "IngressController", "IngressControllerArgs"]

TYPE_TOKEN = "stackyard:index:IngressController"
#: Where a gateway-helm chart folder keeps Envoy Gateway's own CRDs (its ``crds`` subchart).
ENVOY_GATEWAY_CRDS = "charts/crds/crds/generated"


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
    """Controller replicas. A PodDisruptionBudget lets one of them go at a time (with one replica, a
    drain never waits on it). Default: 2."""
    service_type: ServiceType = "LoadBalancer"
    """How traffic reaches the controller: ``LoadBalancer``, ``NodePort`` or ``ClusterIP``. Default: LoadBalancer."""
    resources: Resources = Resources(
        requests=ResourceList(cpu="100m", memory="128Mi"), limits=ResourceList(cpu="1", memory="512Mi")
    )
    """Requests and limits of the controller container. Default: 100m/128Mi requested, 1 CPU/512Mi limit."""
    install_gateway_api_crds: bool = True
    """With ``routeApi: gateway``, whether to install the Gateway API CRDs; when false they must
    already be in the cluster. Default: true."""
    gateway_api_crds_path: str | None = None
    """A local copy of the Gateway API's ``standard-install.yaml`` to install instead of the pinned
    release URL, for clusters without internet access. Relative paths are from the project folder.
    It must hold Gateway API CRDs; a bundle version or channel other than the pin's is installed
    with a warning naming the difference. Default: the pinned release URL."""
    chart_path: str | None = None
    """A local chart (a folder, or a ``.tgz`` from ``helm package``) to install instead of the
    pinned repository, for clusters without internet access. Relative paths are from the project
    folder. It must be the implementation's chart; another version is installed with a warning,
    since the values were written for the pin. Default: the pinned repository."""
    envoy_gateway_crds_path: str | None = None
    """envoy-gateway with ``installGatewayApiCrds: false``: a folder (or file) of Envoy Gateway's own
    CRDs (``EnvoyProxy`` and the rest), which its chart installs only together with the Gateway
    API's. Default: the chart folder's ``charts/crds/crds/generated`` when ``chartPath`` is a folder."""
    https_redirect: bool = True
    """With ``routeApi: ingress``, redirect every HTTP request to HTTPS at the controller (a 308).
    The Gateway API mode redirects per TLS host with a route instead. Turn it off where no route
    has TLS. Default: true."""
    crd_provider: bool = False
    """Also serve the controller's own route resources (Traefik's ``IngressRoute``). Off, because
    any namespace could then publish routes for any hostname, bypassing the Gateway's
    ``allowedRoutes`` and the IngressClass. Default: false."""
    service_monitor: bool = False
    """Have Prometheus scrape the controller's own metrics (a ServiceMonitor); the stacks turn it
    on with ``stackyard:monitoring``. Default: false."""
    monitoring_namespace: DnsLabel = "monitoring"
    """Where Prometheus runs, which alone may reach the metrics port (with ``serviceMonitor``).
    Default: ``monitoring``, the Monitoring component's."""
    backend_namespaces: list[DnsLabel] | None = None
    """The namespaces of the apps routed through the controller: its pods may open connections
    there only (each app's own policy narrows them to its port). An empty list allows none.
    Default: every namespace, leaving the choice to the apps' own policies."""
    api_server: ApiServerAccess = ApiServerAccess()
    """Where the API server is, which the controller watches. Default: any address on 443 and 6443."""
    pod_security: PodSecurity | None = None
    """Pod Security levels of the controller's namespace. Default: the implementation's (module docs)."""
    part_of: LabelValue = ""
    """The ``app.kubernetes.io/part-of`` label. Default: no label."""

    @field_validator("chart_path")
    @classmethod
    def _local_chart_is_the_implementations(cls, path: str | None, info: ValidationInfo) -> str | None:
        implementation = info.data.get("implementation")
        if path is not None and implementation in PROFILES:
            check_local_chart(path, PROFILES[implementation].chart)
        return path

    @field_validator("gateway_api_crds_path")
    @classmethod
    def _local_crds_are_gateway_api_crds(cls, path: str | None) -> str | None:
        if path is not None:
            read_gateway_api_crds(path)
        return path

    @model_validator(mode="after")
    def _implementation_serves_the_route_api(self) -> IngressControllerArgs:
        if self.route_api not in self.profile.serves:
            raise ValueError(
                f"implementation {self.implementation!r} does not serve routeApi {self.route_api!r}; "
                f"it serves {list(self.profile.serves)}"
            )
        return self

    @model_validator(mode="after")
    def _envoy_gateway_gets_its_crds(self) -> IngressControllerArgs:
        """Every combination of the CRD settings works for envoy-gateway, or is refused here."""
        if self.implementation != "envoy-gateway":
            if self.envoy_gateway_crds_path is not None:
                raise ValueError("envoyGatewayCrdsPath: applies to implementation 'envoy-gateway' only")
            return self
        if self.install_gateway_api_crds and self.gateway_api_crds_path is not None:
            raise ValueError(
                "gatewayApiCrdsPath: envoy-gateway's chart installs the Gateway API's experimental channel, which "
                "Envoy Gateway v1.9 needs, not a standard install; leave gatewayApiCrdsPath out, or set "
                "installGatewayApiCrds: false and install the Gateway API CRDs yourself"
            )
        if not self.install_gateway_api_crds and self.envoy_gateway_crds_source() is None:
            raise ValueError(
                "envoyGatewayCrdsPath: with installGatewayApiCrds: false the chart installs no CRD, Envoy Gateway's "
                "own (EnvoyProxy) included; give envoyGatewayCrdsPath, or chartPath as a chart folder"
            )
        if self.envoy_gateway_crds_path is not None and not Path(self.envoy_gateway_crds_path).exists():
            raise ValueError(f"envoyGatewayCrdsPath: {self.envoy_gateway_crds_path!r} does not exist")
        return self

    def envoy_gateway_crds_source(self) -> str | None:
        """Where Envoy Gateway's own CRDs come from when its chart does not install them."""
        if self.envoy_gateway_crds_path is not None:
            return self.envoy_gateway_crds_path
        if self.chart_path is not None and (generated := Path(self.chart_path) / ENVOY_GATEWAY_CRDS).is_dir():
            return str(generated)
        return None

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
            release=self.effective_release,
            https_redirect=self.https_redirect,
            crd_provider=self.crd_provider,
            service_monitor=self.service_monitor,
            labels=standard_labels(
                self.implementation,
                self.namespace,
                instance_of=self.effective_release,
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
        namespace = platform_namespace(
            self,
            args.namespace,
            part_of=args.part_of,
            pod_security=args.pod_security or profile.pod_security,
            extra_labels={labels.INGRESS_CONTROLLER: "true"},
        )
        prerequisites: list[pulumi.Resource] = [namespace]
        if settings.serves_gateway and args.install_gateway_api_crds and args.implementation == "traefik":
            prerequisites.append(self._gateway_api_crds(name, args.gateway_api_crds_path))
        if args.implementation == "envoy-gateway":
            prerequisites += envoy_gateway_certificates(name, settings, after(self, namespace))
            if not args.install_gateway_api_crds:
                prerequisites.append(self._envoy_gateway_crds(name, args))
        chart = install_chart(
            f"{name}-chart",
            profile.chart,
            release=args.effective_release,
            namespace=args.namespace,
            values=chart_values(args.implementation, settings),
            opts=after(self, *prerequisites),
            local_path=args.chart_path,
        )
        # The class is the GatewayClass, or the IngressClass inside the chart.
        route_class = self._gateway_class(name, args, settings, chart) if settings.serves_gateway else chart
        if settings.service_monitor:
            controller_service_monitor(name, args.implementation, settings, after(self, chart))
        if args.implementation == "traefik":
            controller_disruption_budget(name, settings, after(self, namespace))
        self._network_policies(name, args, after(self, namespace))
        self.namespace_name = namespace.namespace_name
        self.class_name = name_output(route_class, settings.class_name)
        self.register_outputs({"namespace_name": self.namespace_name, "class_name": self.class_name})

    def _network_policies(self, name: str, args: IngressControllerArgs, opts: pulumi.ResourceOptions) -> None:
        """The controller namespace's allow-list, on top of its default-deny and DNS."""
        profile = args.profile
        ingress = [from_anywhere(tcp(*profile.entry_ports))]
        if args.service_monitor:
            ingress.append(from_namespaces([args.monitoring_namespace], tcp(profile.metrics_port)))
        egress = [to_api_server(args.api_server)]
        if args.backend_namespaces is None:
            egress.append(to_namespaces([]))
        elif args.backend_namespaces:
            egress.append(to_namespaces(list(args.backend_namespaces)))
        if profile.same_namespace:
            ingress.append(from_namespaces([args.namespace]))
            egress.append(to_namespaces([args.namespace]))
        spec = platform_policy_spec(ingress=ingress, egress=egress)
        namespace_policy(name, args.namespace, "allow-controller", spec, opts)

    def _envoy_gateway_crds(self, name: str, args: IngressControllerArgs) -> pulumi.Resource:
        """Envoy Gateway's own CRDs, when its chart installs none (``installGatewayApiCrds: false``)."""
        source = args.envoy_gateway_crds_source()
        assert source is not None  # the args were validated
        folder = Path(source)
        files = sorted(str(path) for path in folder.glob("*.yaml")) if folder.is_dir() else [source]
        return kubernetes_yaml.ConfigGroup(
            f"{name}-envoy-gateway-crds", files=files, opts=pulumi.ResourceOptions(parent=self)
        )

    def _gateway_api_crds(self, name: str, local_path: str | None) -> pulumi.Resource:
        """The Gateway API's standard install: from its release URL, or from a local copy.

        A local copy is split: its CRDs go through a ConfigGroup, and its admission policy and
        binding are registered as typed resources. pulumi-kubernetes' YAML support has to ask the
        API server whether a ValidatingAdmissionPolicy is namespaced (its built-in table lacks
        the kind), so without a cluster (renderYamlToDirectory) the whole file would fail.
        """
        crds_name, child = f"{name}-gateway-api-crds", pulumi.ResourceOptions(parent=self)
        if local_path is None:
            return kubernetes_yaml.ConfigFile(crds_name, file=GATEWAY_API_CRDS_URL, opts=child)
        install = read_gateway_api_crds(local_path)
        if warning := gateway_api_crds_warning(install):
            pulumi.log.warn(warning, resource=self)
        crds = kubernetes_yaml.ConfigGroup(crds_name, objs=list(install.crds), opts=child)
        after_crds = after(self, crds)
        for policy in install.policies:
            logical = f"{name}-{policy['metadata']['name']}"
            if policy["kind"] == "ValidatingAdmissionPolicyBinding":
                admissionregistration.ValidatingAdmissionPolicyBinding(
                    logical, metadata=policy["metadata"], spec=policy["spec"], opts=after_crds
                )
            else:
                admissionregistration.ValidatingAdmissionPolicy(
                    logical, metadata=policy["metadata"], spec=policy["spec"], opts=after_crds
                )
        return crds

    def _gateway_class(
        self, name: str, args: IngressControllerArgs, settings: ControllerSettings, chart: pulumi.Resource
    ) -> pulumi.Resource:
        spec: dict[str, Any] = {"controllerName": args.profile.controller_name}
        dependencies = [chart]
        if args.implementation == "envoy-gateway":
            dependencies.append(envoy_proxy(name, settings, after(self, chart)))
            spec["parametersRef"] = {
                "group": "gateway.envoyproxy.io",
                "kind": "EnvoyProxy",
                "name": proxy_name(settings),
                "namespace": settings.namespace,
            }
        return apiextensions.CustomResource(
            f"{name}-gateway-class",
            api_version=GATEWAY_API_VERSION,
            kind="GatewayClass",
            metadata=object_meta(settings.class_name, None, settings.labels),
            spec=spec,
            opts=after(self, *dependencies),
        )
