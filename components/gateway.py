"""AppGateway: an environment's Gateway API entry point, with an HTTP listener and one HTTPS listener per TLS host."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_kubernetes import apiextensions
from pydantic import model_validator

from ._kit.apis import CLUSTER_ISSUER_ANNOTATION, GATEWAY_API_GROUP, GATEWAY_API_VERSION, listener_name
from ._kit.args import Args
from ._kit.children import after, child_options, name_output
from ._kit.metadata import object_meta, standard_labels
from ._kit.values import Hostname, repeated
from .validation import DnsLabel, DnsSubdomain, LabelValue, PortNumber

__all__ = ["COMPONENT", "TYPE_TOKEN", "AppGateway", "AppGatewayArgs", "TlsListener"]

TYPE_TOKEN = "stackyard:index:AppGateway"
#: The ``app.kubernetes.io/component`` of the Gateway's objects, which belong to no app.
COMPONENT = "gateway"


class TlsListener(Args):
    """An HTTPS listener: a host and the Secret with its certificate."""

    host: Hostname
    """The host name the listener serves."""
    tls_secret: DnsSubdomain
    """The Secret, in the Gateway's namespace, holding the certificate."""


class AppGatewayArgs(Args):
    """Inputs of :class:`AppGateway`."""

    namespace: DnsLabel
    """The Gateway's namespace; only HTTPRoutes from this namespace may attach."""
    name: DnsLabel
    """The Gateway's name, which HTTPRoutes reference."""
    gateway_class: DnsSubdomain
    """The GatewayClass, i.e. which controller implements this Gateway."""
    http_port: PortNumber = 80
    """The HTTP listener's port. Some controllers (Traefik) need their entry point's port here. Default: 80."""
    https_port: PortNumber = 443
    """The HTTPS listeners' port. Default: 443."""
    tls: list[TlsListener] = []
    """One HTTPS listener per host. Default: HTTP only."""
    cluster_issuer: DnsSubdomain | None = None
    """A cert-manager ClusterIssuer to request the listeners' certificates from. Default: none."""
    part_of: LabelValue = ""
    """The ``app.kubernetes.io/part-of`` label. Default: no label."""

    @model_validator(mode="after")
    def _hosts_unique(self) -> AppGatewayArgs:
        duplicates = repeated(listener.host for listener in self.tls)
        if duplicates:
            raise ValueError(f"tls lists hosts {duplicates} more than once; one listener per host")
        return self


class AppGateway(pulumi.ComponentResource):
    """A Gateway (``gateway.networking.k8s.io/v1``) for one environment's routes."""

    gateway_name: pulumi.Output[str]
    """The Gateway's name."""

    def __init__(self, name: str, args: AppGatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        annotations = {CLUSTER_ISSUER_ANNOTATION: args.cluster_issuer} if args.cluster_issuer else None
        gateway = apiextensions.CustomResource(
            name,
            api_version=GATEWAY_API_VERSION,
            kind="Gateway",
            metadata=object_meta(args.name, args.namespace, _labels(args), annotations),
            spec={"gatewayClassName": args.gateway_class, "listeners": _listeners(args)},
            opts=child_options(self, opts),
        )
        if args.tls:
            _https_redirect(name, args, after(self, gateway))
        self.gateway_name = name_output(gateway, args.name)
        self.register_outputs({"gateway_name": self.gateway_name})


def _labels(args: AppGatewayArgs) -> dict[str, str]:
    return standard_labels(args.name, args.namespace, component=COMPONENT, part_of=args.part_of)


def _https_redirect(name: str, args: AppGatewayArgs, opts: pulumi.ResourceOptions) -> apiextensions.CustomResource:
    """Plain HTTP to a TLS host is redirected to HTTPS (301), so no TLS host is ever served in clear."""
    return apiextensions.CustomResource(
        f"{name}-https-redirect",
        api_version=GATEWAY_API_VERSION,
        kind="HTTPRoute",
        metadata=object_meta(f"{args.name}-https-redirect", args.namespace, _labels(args)),
        spec={
            "parentRefs": [
                {
                    "group": GATEWAY_API_GROUP,
                    "kind": "Gateway",
                    "name": args.name,
                    "namespace": args.namespace,
                    "sectionName": "http",
                }
            ],
            "hostnames": sorted(listener.host for listener in args.tls),
            "rules": [
                {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
            ],
        },
        opts=opts,
    )


def _listeners(args: AppGatewayArgs) -> list[dict[str, Any]]:
    same_namespace = {"namespaces": {"from": "Same"}}
    listeners: list[dict[str, Any]] = [
        {"name": "http", "port": args.http_port, "protocol": "HTTP", "allowedRoutes": same_namespace}
    ]
    for listener in sorted(args.tls, key=lambda item: item.host):
        listeners.append(
            {
                "name": listener_name(listener.host),
                "hostname": listener.host,
                "port": args.https_port,
                "protocol": "HTTPS",
                "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": listener.tls_secret}]},
                "allowedRoutes": same_namespace,
            }
        )
    return listeners
