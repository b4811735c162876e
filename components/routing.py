"""AppRoute: how outside traffic reaches an app, as an Ingress or as a Gateway API HTTPRoute.

The same :class:`Route` intent renders either way; which one is a per-environment choice.
"""

from __future__ import annotations

from typing import Annotated, Any

import pulumi
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking
from pulumi_kubernetes import apiextensions
from pydantic import AfterValidator, Field, model_validator

from ._kit.apis import CLUSTER_ISSUER_ANNOTATION, GATEWAY_API_GROUP, GATEWAY_API_VERSION, RouteApi, listener_name
from ._kit.args import Args
from ._kit.children import child_options
from ._kit.values import Hostname, repeated
from ._kit.values import hostname as hostname  # noqa: PLC0414 - was published here; tests import it
from .validation import DnsLabel, DnsSubdomain, LabelMap, PortName, PortNumber

__all__ = ["TYPE_TOKEN", "AppRoute", "AppRouteArgs", "Route", "RoutePath", "hostname"]

TYPE_TOKEN = "stackyard:index:AppRoute"


def _route_path(value: str) -> str:
    """An absolute URL path prefix."""
    if not value.startswith("/") or any(c in value for c in " ?#\t\n"):
        raise ValueError("must be an absolute path prefix such as '/' or '/api', without spaces, '?' or '#'")
    return value


RoutePath = Annotated[str, AfterValidator(_route_path)]


class Route(Args):
    """An app's public entry point: one host and the path prefixes that lead to the app."""

    host: Hostname
    """The host name, e.g. ``shop.example.com``; ``*.example.com`` is allowed."""
    paths: list[RoutePath] = Field(default=["/"], min_length=1)
    """Path prefixes routed to the app. Default: ``/``."""
    tls_secret: DnsSubdomain | None = None
    """The Secret (in the app's namespace) holding the TLS certificate for ``host``. Default: plain HTTP."""
    cluster_issuer: DnsSubdomain | None = None
    """A cert-manager ClusterIssuer that issues the certificate into ``tlsSecret``. Default: none;
    the Secret is managed some other way."""

    @model_validator(mode="after")
    def _issuer_needs_secret(self) -> Route:
        if self.cluster_issuer is not None and self.tls_secret is None:
            raise ValueError("clusterIssuer writes the certificate into tlsSecret; set tlsSecret too")
        if repeated(self.paths):
            raise ValueError(f"paths {self.paths} lists a path more than once")
        return self


class AppRouteArgs(Args):
    """Inputs of :class:`AppRoute`."""

    namespace: DnsLabel
    """The app's namespace; the route lives there too."""
    service: DnsLabel
    """The app's Service."""
    service_port: PortNumber
    """The Service's port (HTTPRoute backends name ports by number)."""
    service_port_name: PortName
    """The Service port's name (Ingress backends name it, so a renumbering cannot break the route)."""
    route: Route
    """Host, paths and TLS."""
    api: RouteApi = "ingress"
    """``ingress`` for a ``networking.k8s.io/v1`` Ingress, ``gateway`` for a Gateway API HTTPRoute.
    Default: ingress."""
    ingress_class: DnsSubdomain | None = None
    """The IngressClass, with ``api: ingress``. Default: none, which only ``api: gateway`` allows."""
    gateway: DnsLabel | None = None
    """The Gateway (in the same namespace) the HTTPRoute attaches to, with ``api: gateway``. Default: none, which only
    ``api: ingress`` allows."""
    labels: LabelMap = {}
    """Labels for the route object, usually the app's. Default: none."""

    @model_validator(mode="after")
    def _target_for_the_api(self) -> AppRouteArgs:
        if self.api == "ingress" and self.ingress_class is None:
            raise ValueError("api 'ingress' needs ingressClass")
        if self.api == "gateway" and self.gateway is None:
            raise ValueError("api 'gateway' needs gateway")
        return self


class AppRoute(pulumi.ComponentResource):
    """Routes a host and path prefixes to an app's Service, through an Ingress or an HTTPRoute."""

    def __init__(self, name: str, args: AppRouteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = child_options(self, opts)
        if args.api == "ingress":
            _ingress(name, args, child)
        else:
            _http_route(name, args, child)
        self.register_outputs({})


def _ingress(name: str, args: AppRouteArgs, opts: pulumi.ResourceOptions) -> networking.Ingress:
    route = args.route
    annotations = {CLUSTER_ISSUER_ANNOTATION: route.cluster_issuer} if route.cluster_issuer else None
    backend = networking.IngressBackendArgs(
        service=networking.IngressServiceBackendArgs(
            name=args.service, port=networking.ServiceBackendPortArgs(name=args.service_port_name)
        )
    )
    return networking.Ingress(
        name,
        metadata=meta.ObjectMetaArgs(
            name=args.service, namespace=args.namespace, labels=dict(args.labels) or None, annotations=annotations
        ),
        spec=networking.IngressSpecArgs(
            ingress_class_name=args.ingress_class,
            rules=[
                networking.IngressRuleArgs(
                    host=route.host,
                    http=networking.HTTPIngressRuleValueArgs(
                        paths=[
                            networking.HTTPIngressPathArgs(path=path, path_type="Prefix", backend=backend)
                            for path in route.paths
                        ]
                    ),
                )
            ],
            tls=[networking.IngressTLSArgs(hosts=[route.host], secret_name=route.tls_secret)]
            if route.tls_secret
            else None,
        ),
        opts=opts,
    )


def _http_route(name: str, args: AppRouteArgs, opts: pulumi.ResourceOptions) -> apiextensions.CustomResource:
    # pulumi-kubernetes has no typed classes for Gateway API kinds; the spec is built here and
    # checked in tests against the Gateway API's own CRD schema.
    parent: dict[str, Any] = {
        "group": GATEWAY_API_GROUP,
        "kind": "Gateway",
        "name": args.gateway,
        "namespace": args.namespace,
    }
    if args.route.tls_secret:
        # Only the host's HTTPS listener serves the app; the Gateway redirects plain HTTP to it.
        parent["sectionName"] = listener_name(args.route.host)
    spec: dict[str, Any] = {
        "parentRefs": [parent],
        "hostnames": [args.route.host],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": path}} for path in args.route.paths],
                "backendRefs": [{"kind": "Service", "name": args.service, "port": args.service_port}],
            }
        ],
    }
    return apiextensions.CustomResource(
        name,
        api_version=GATEWAY_API_VERSION,
        kind="HTTPRoute",
        metadata=meta.ObjectMetaArgs(name=args.service, namespace=args.namespace, labels=dict(args.labels) or None),
        spec=spec,
        opts=opts,
    )
