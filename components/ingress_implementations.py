"""What stackyard knows about each ingress controller: its pinned chart, ports, classes and values.

Chart versions, repositories and value keys were taken from each chart's own repository and
documentation (Traefik 41.x values.yaml, Envoy Gateway v1.9 docs, ingress-nginx 4.14 values).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.policy.v1 as policy
import yaml
from pulumi_kubernetes import apiextensions

from ._kit.apis import GATEWAY_API_GROUP
from ._kit.apis import RouteApi as RouteApi  # noqa: PLC0414 - was published here
from ._kit.metadata import object_meta
from ._kit.prometheus import monitoring_object
from ._kit.resources import spread_values
from .chart import HookRequirement, PinnedChart
from .namespace import PodSecurity

__all__ = [
    "GATEWAY_API_CRDS_URL",
    "GATEWAY_API_CRDS_VERSION",
    "LEGACY_WARNING",
    "PROFILES",
    "ControllerSettings",
    "GatewayApiInstall",
    "Implementation",
    "Profile",
    "RouteApi",
    "ServiceType",
    "chart_values",
    "controller_disruption_budget",
    "controller_service_monitor",
    "envoy_gateway_certificates",
    "envoy_proxy",
    "gateway_api_crds_warning",
    "proxy_name",
    "read_gateway_api_crds",
    "traefik_pods",
]

Implementation = Literal["traefik", "envoy-gateway", "ingress-nginx"]
ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer"]

#: The Gateway API release whose standard-channel CRDs stackyard installs for Traefik, whose chart
#: stopped shipping them in 40.2.
GATEWAY_API_CRDS_VERSION = "v1.5.1"
GATEWAY_API_CRDS_URL = (
    f"https://github.com/kubernetes-sigs/gateway-api/releases/download/{GATEWAY_API_CRDS_VERSION}/standard-install.yaml"
)

_BUNDLE_VERSION = f"{GATEWAY_API_GROUP}/bundle-version"
_CHANNEL = f"{GATEWAY_API_GROUP}/channel"


#: What a Gateway API install may hold: its CRDs and the safe-upgrades admission policy and binding.
_INSTALL_KINDS = ("CustomResourceDefinition", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")


@dataclass(frozen=True)
class GatewayApiInstall:
    """A local Gateway API install file, read and checked."""

    path: str
    crds: tuple[dict[str, Any], ...]
    policies: tuple[dict[str, Any], ...]
    """The admission policy and binding, which pulumi-kubernetes' YAML support cannot scope offline."""

    @property
    def versions(self) -> frozenset[str]:
        return frozenset(str(_annotations(crd).get(_BUNDLE_VERSION, "unknown")) for crd in self.crds)

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(str(_annotations(crd).get(_CHANNEL, "unknown")) for crd in self.crds)


def _annotations(document: dict[str, Any]) -> dict[str, Any]:
    return dict((document.get("metadata") or {}).get("annotations") or {})


def read_gateway_api_crds(path: str) -> GatewayApiInstall:
    """Read a local Gateway API install file; raise ``ValueError`` unless it is one."""
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"{path!r} does not exist; give the Gateway API's standard-install.yaml")
    try:
        loaded = yaml.load_all(file.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        documents = [doc for doc in loaded if doc is not None]
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError(f"{path!r} is not a YAML file: {error}") from None
    others = sorted(
        {
            str(doc.get("kind"))
            for doc in documents
            if not isinstance(doc, dict) or doc.get("kind") not in _INSTALL_KINDS
        }
    )
    crds = tuple(
        doc
        for doc in documents
        if doc.get("kind") == "CustomResourceDefinition" and (doc.get("spec") or {}).get("group") == GATEWAY_API_GROUP
    )
    if not crds:
        raise ValueError(f"{path!r} holds no CustomResourceDefinition of {GATEWAY_API_GROUP}")
    if others or len(crds) != sum(doc.get("kind") == "CustomResourceDefinition" for doc in documents):
        raise ValueError(
            f"{path!r} holds more than the Gateway API install ({', '.join(others) or 'CRDs of other groups'}); "
            f"it may hold only {', '.join(_INSTALL_KINDS)} of {GATEWAY_API_GROUP}"
        )
    policies = tuple(doc for doc in documents if doc.get("kind") != "CustomResourceDefinition")
    return GatewayApiInstall(path=path, crds=crds, policies=policies)


def gateway_api_crds_warning(install: GatewayApiInstall) -> str | None:
    """A warning naming what differs from the pinned standard-channel release, or ``None``."""
    differences = []
    if install.versions != {GATEWAY_API_CRDS_VERSION}:
        differences.append(f"bundle version {', '.join(sorted(install.versions))} (pinned {GATEWAY_API_CRDS_VERSION})")
    if install.channels != {"standard"}:
        differences.append(f"channel {', '.join(sorted(install.channels))} (pinned standard)")
    if not differences:
        return None
    return f"Gateway API CRDs {install.path!r} differ from the pin: {'; '.join(differences)}"


LEGACY_WARNING = (
    "ingress controller 'ingress-nginx' is a legacy option: the project was retired upstream in March 2026 "
    "and gets no releases or CVE fixes. Move to 'traefik' (Ingress and Gateway API) or 'envoy-gateway'."
)


@dataclass(frozen=True)
class Profile:
    """One implementation's facts."""

    chart: PinnedChart
    default_class: str
    controller_name: str
    """The GatewayClass ``controllerName``; empty where the Gateway API is not served."""
    pod_security: PodSecurity
    serves: tuple[RouteApi, ...]
    http_port: int = 80
    """The port a Gateway's HTTP listener must use for this controller: the standard one, unless
    the controller binds its listeners to its entry points' container ports."""
    https_port: int = 443
    entry_ports: tuple[int, ...] = ()
    """The container ports that take outside traffic (its Service's targets)."""
    metrics_port: int = 0
    """The container port serving Prometheus metrics."""
    same_namespace: bool = False
    """Whether its pods talk to each other (Envoy Gateway's controller and its proxies)."""
    legacy: bool = False


@dataclass(frozen=True)
class ControllerSettings:
    """The per-environment settings that shape an implementation's chart values and objects."""

    namespace: str
    class_name: str
    route_api: RouteApi
    replicas: int
    service_type: ServiceType
    resources: dict[str, Any]
    install_gateway_api_crds: bool
    labels: dict[str, str]
    release: str = ""
    https_redirect: bool = False
    """Redirect HTTP to HTTPS at the controller's entry point (Ingress mode)."""
    crd_provider: bool = False
    """Serve the controller's own route CRDs (Traefik's IngressRoute) besides the chosen route API."""
    service_monitor: bool = False
    """Have Prometheus scrape the controller's metrics."""

    @property
    def serves_gateway(self) -> bool:
        return self.route_api == "gateway"

    def spread(self, pod_labels: dict[str, str]) -> list[dict[str, Any]]:
        """Topology spread like the apps': over nodes and zones, for two replicas or more."""
        return spread_values(pod_labels) if self.replicas >= 2 else []


#: Where a controller's pods cannot all pass ``restricted``: enforce ``baseline``, and keep
#: ``restricted`` for audit and warnings so that every deviation stays visible.
_BASELINE = PodSecurity(enforce="baseline", audit="restricted", warn="restricted")

PROFILES: dict[str, Profile] = {
    "traefik": Profile(
        chart=PinnedChart(chart="traefik", version="41.3.0", repository="https://traefik.github.io/charts"),
        default_class="traefik",
        controller_name="traefik.io/gateway-controller",
        # Traefik's Gateway listeners must use its entry points' container ports.
        http_port=8000,
        https_port=8443,
        pod_security=PodSecurity(enforce="restricted", audit="restricted", warn="restricted"),
        serves=("ingress", "gateway"),
        entry_ports=(8000, 8443),
        metrics_port=9100,
    ),
    "envoy-gateway": Profile(
        # No value routes around its certgen hook: envoy_gateway_certificates() issues the Secrets.
        chart=PinnedChart(chart="oci://docker.io/envoyproxy/gateway-helm", version="v1.9.0"),
        default_class="envoy-gateway",
        controller_name="gateway.envoyproxy.io/gatewayclass-controller",
        # Its Envoy proxy pods are created by the controller at run time, outside our values.
        pod_security=_BASELINE,
        serves=("gateway",),
        # Its Envoy proxies listen on 10080 and 10443 behind the Gateway's 80 and 443.
        entry_ports=(10080, 10443),
        metrics_port=19001,
        same_namespace=True,
    ),
    "ingress-nginx": Profile(
        chart=PinnedChart(
            chart="ingress-nginx",
            version="4.14.3",
            repository="https://kubernetes.github.io/ingress-nginx",
            hook_requirements=(
                HookRequirement(
                    "controller.admissionWebhooks.enabled",
                    False,
                    "the admission webhook's certificate is created and patched by Helm hook Jobs",
                ),
            ),
        ),
        default_class="nginx",
        controller_name="",
        pod_security=_BASELINE,
        serves=("ingress",),
        entry_ports=(80, 443),
        metrics_port=10254,
        legacy=True,
    ),
}


def chart_values(implementation: str, settings: ControllerSettings) -> dict[str, Any]:
    """The complete values stackyard passes to the implementation's chart."""
    builders = {"traefik": _traefik_values, "envoy-gateway": _envoy_gateway_values, "ingress-nginx": _nginx_values}
    return builders[implementation](settings)


def _traefik_values(settings: ControllerSettings) -> dict[str, Any]:
    seccomp = {"seccompProfile": {"type": "RuntimeDefault"}}
    values: dict[str, Any] = {
        "deployment": {"replicas": settings.replicas},
        "resources": settings.resources,
        # The budget is ours (controller_disruption_budget): the chart picks its API version by asking
        # Helm for the kind, which Helm only knows against a cluster, so offline it writes the
        # policy/v1beta1 that Kubernetes removed in 1.25.
        "podDisruptionBudget": {"enabled": False},
        "service": {"spec": {"type": settings.service_type}},
        # Only the API in use is switched on, and the IngressClass never claims to be the default.
        "ingressClass": {"enabled": not settings.serves_gateway, "name": settings.class_name, "isDefaultClass": False},
        "providers": {
            "kubernetesIngress": {"enabled": not settings.serves_gateway},
            "kubernetesGateway": {"enabled": settings.serves_gateway},
            # IngressRoutes from any namespace, for any host, would bypass the Gateway's allowedRoutes.
            "kubernetesCRD": {"enabled": settings.crd_provider},
        },
        # The GatewayClass is the component's, and each environment brings its own Gateway.
        "gateway": {"enabled": False},
        "gatewayClass": {"enabled": False},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            **seccomp,
        },
        "podSecurityContext": {"runAsGroup": 65532, "runAsNonRoot": True, "runAsUser": 65532, **seccomp},
    }
    if spread := settings.spread(traefik_pods(settings)):
        values["topologySpreadConstraints"] = spread
    if settings.https_redirect and not settings.serves_gateway:
        redirect = {"to": "websecure", "scheme": "https", "permanent": True}
        values["ports"] = {"web": {"http": {"redirections": {"entryPoint": redirect}}}}
    if settings.service_monitor:
        # A metrics Service only: the ServiceMonitor is ours (controller_service_monitor).
        values["metrics"] = {"prometheus": {"service": {"enabled": True}}}
    return values


def traefik_pods(settings: ControllerSettings) -> dict[str, str]:
    """The labels of Traefik's pods: the chart's ``traefik.labelselector``."""
    return {
        "app.kubernetes.io/name": "traefik",
        "app.kubernetes.io/instance": f"{settings.release}-{settings.namespace}",
    }


def controller_disruption_budget(
    name: str, settings: ControllerSettings, opts: pulumi.ResourceOptions
) -> policy.PodDisruptionBudget:
    """Traefik's PodDisruptionBudget: one pod may always go, so a single replica never blocks a drain."""
    return policy.PodDisruptionBudget(
        f"{name}-pdb",
        metadata=object_meta("traefik", settings.namespace, settings.labels),
        spec=policy.PodDisruptionBudgetSpecArgs(
            max_unavailable=1, selector=meta.LabelSelectorArgs(match_labels=traefik_pods(settings))
        ),
        opts=opts,
    )


def _envoy_gateway_values(settings: ControllerSettings) -> dict[str, Any]:
    pods = {"control-plane": "envoy-gateway", "app.kubernetes.io/instance": settings.release}
    deployment: dict[str, Any] = {"replicas": settings.replicas, "envoyGateway": {"resources": settings.resources}}
    if spread := settings.spread(pods):
        deployment["pod"] = {"topologySpreadConstraints": spread}
    return {
        "deployment": deployment,
        "podDisruptionBudget": {"maxUnavailable": 1},
        # The chart's CRD subchart brings the Gateway API's experimental channel, which v1.9 requires.
        "crds": {"enabled": settings.install_gateway_api_crds},
    }


def _nginx_values(settings: ControllerSettings) -> dict[str, Any]:
    controller: dict[str, Any] = {
        "replicaCount": settings.replicas,
        "resources": settings.resources,
        "service": {"type": settings.service_type},
        "ingressClass": settings.class_name,
        "ingressClassResource": {"enabled": True, "name": settings.class_name, "default": False},
        "admissionWebhooks": {"enabled": False},
    }
    if spread := settings.spread(
        {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
    ):
        controller["topologySpreadConstraints"] = spread
    if settings.https_redirect:
        controller["config"] = {"ssl-redirect": "true", "force-ssl-redirect": "true"}
    if settings.service_monitor:
        # A metrics Service only: the ServiceMonitor is ours (controller_service_monitor).
        controller["metrics"] = {"enabled": True}
    if settings.replicas > 1:
        # The chart gives minAvailable precedence over maxUnavailable, and Pulumi cannot pass a null
        # to remove its default; replicas - 1 allows the same single disruption.
        controller["minAvailable"] = settings.replicas - 1
    return {"controller": controller}


def proxy_name(settings: ControllerSettings) -> str:
    """The EnvoyProxy that carries the data plane's settings."""
    return f"{settings.class_name}-proxy"


def envoy_proxy(name: str, settings: ControllerSettings, opts: pulumi.ResourceOptions) -> apiextensions.CustomResource:
    """Envoy Gateway takes the data plane's Service type and replicas from an EnvoyProxy, not from chart values."""
    return apiextensions.CustomResource(
        f"{name}-envoy-proxy",
        api_version="gateway.envoyproxy.io/v1alpha1",
        kind="EnvoyProxy",
        metadata=object_meta(proxy_name(settings), settings.namespace, settings.labels),
        spec={
            "provider": {
                "type": "Kubernetes",
                "kubernetes": {
                    "envoyService": {"type": settings.service_type},
                    "envoyDeployment": {"replicas": settings.replicas},
                },
            }
        },
        opts=opts,
    )


def _metrics_service_labels(implementation: str, settings: ControllerSettings) -> dict[str, str]:
    """The labels of the Service on which each chart serves the controller's ``metrics`` port."""
    release = settings.release
    return {
        "traefik": {
            "app.kubernetes.io/name": "traefik",
            "app.kubernetes.io/instance": f"{release}-{settings.namespace}",
            "app.kubernetes.io/component": "metrics",
        },
        "envoy-gateway": {"control-plane": "envoy-gateway", "app.kubernetes.io/instance": release},
        "ingress-nginx": {
            "app.kubernetes.io/name": "ingress-nginx",
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/component": "controller",
        },
    }[implementation]


def controller_service_monitor(
    name: str, implementation: str, settings: ControllerSettings, opts: pulumi.ResourceOptions
) -> apiextensions.CustomResource:
    """Prometheus's scrape of the controller's ``metrics`` port.

    Ours rather than the charts' own: a chart's ServiceMonitor is expanded by the provider, which in
    render mode (and in a first ``up``, before the monitoring stack's CRDs exist) cannot tell
    whether the kind is namespaced, and fails. Envoy Gateway's chart ships none at all.
    """
    return monitoring_object(
        f"{name}-servicemonitor",
        "ServiceMonitor",
        object_meta(implementation, settings.namespace, settings.labels),
        {
            "selector": {"matchLabels": _metrics_service_labels(implementation, settings)},
            "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
        },
        opts,
    )


def envoy_gateway_certificates(
    name: str, settings: ControllerSettings, opts: pulumi.ResourceOptions
) -> list[apiextensions.CustomResource]:
    """The TLS Secrets Envoy Gateway's certgen hook would create, issued by cert-manager instead.

    ``helm.v4.Chart`` drops the hook, so the controller and its proxies would wait forever for
    Secrets ``envoy-gateway``, ``envoy`` and ``envoy-rate-limit``. This follows Envoy Gateway's own
    custom-certificate guide (v1.9) and needs cert-manager in the cluster.
    """
    namespace = settings.namespace
    usages = ["digital signature", "data encipherment", "key encipherment", "content commitment"]

    def resource(logical: str, kind: str, object_name: str, spec: dict[str, Any], after: list[pulumi.Resource]) -> Any:
        return apiextensions.CustomResource(
            f"{name}-{logical}",
            api_version="cert-manager.io/v1",
            kind=kind,
            metadata=object_meta(object_name, namespace, settings.labels),
            spec=spec,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=after)),
        )

    bootstrap = resource("selfsigned-issuer", "Issuer", "eg-selfsigned", {"selfSigned": {}}, [])
    ca = resource(
        "ca-certificate",
        "Certificate",
        "envoy-gateway-ca",
        {
            "isCA": True,
            "commonName": "envoy-gateway",
            "secretName": "envoy-gateway-ca",
            "privateKey": {"algorithm": "RSA", "size": 2048},
            "issuerRef": {"name": "eg-selfsigned", "kind": "Issuer", "group": "cert-manager.io"},
        },
        [bootstrap],
    )
    issuer = resource("ca-issuer", "Issuer", "eg-issuer", {"ca": {"secretName": "envoy-gateway-ca"}}, [ca])
    controller_names = [
        "envoy-gateway",
        f"envoy-gateway.{namespace}",
        f"envoy-gateway.{namespace}.svc",
        f"envoy-gateway.{namespace}.svc.cluster.local",
    ]
    leaf_certificates = {"envoy-gateway": ("envoy-gateway", controller_names), "envoy": ("*", [f"*.{namespace}"])}
    leaf_certificates["envoy-rate-limit"] = leaf_certificates["envoy"]
    leaves = [
        resource(
            f"{secret}-certificate",
            "Certificate",
            secret,
            {
                "commonName": common_name,
                "dnsNames": dns_names,
                "secretName": secret,
                "usages": usages,
                "issuerRef": {"name": "eg-issuer", "kind": "Issuer", "group": "cert-manager.io"},
            },
            [issuer],
        )
        for secret, (common_name, dns_names) in leaf_certificates.items()
    ]
    return [bootstrap, ca, issuer, *leaves]
