"""The stack's configuration as a model: what each ``stackyard:*`` key holds, and its own rules.

The parts are the components' own args models, so there is one set of rules for a value wherever
it is written. Validators here look at one model only (a field, or fields of the same object);
whatever looks across the configuration (an app against the namespace's quota, an egress rule
against another app's port) is a check in :mod:`stacks.checks`, which reports every problem at
once instead of stopping at the first.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components import (
    ApiServerAccess,
    AppArgs,
    AppNamespaceArgs,
    IngressControllerArgs,
    LogShippingArgs,
    MonitoringArgs,
    MonitoringOptions,
    Route,
)
from components._kit.args import Args
from components.validation import DnsLabel, DnsSubdomain

__all__ = ["INHERITED_KEYS", "AppConfig", "ClusterNetwork", "SecretSpec", "StackConfig"]

#: Keys every app inherits from ``stackyard:namespace``.
INHERITED_KEYS = ("namespace", "partOf")


class SecretSpec(Args):
    """A Secret to create from ``secure:`` config values."""

    name: DnsSubdomain
    """The Secret's name."""
    namespace: DnsLabel | None = None
    """Where the Secret lives: the environment's namespace, or that of ``stackyard:logging`` (output
    credentials) or ``stackyard:monitoring`` (Grafana's admin). Default: the environment's namespace."""
    values: dict[str, str] = Field(min_length=1)
    """Secret key → the config key (in this project) holding its ``secure:`` value."""


class AppConfig(AppArgs):
    """An app as a stack configures it: the component's args plus how the environment exposes it."""

    route: Route | None = None
    """The app's public route (host, paths, TLS), served by ``stackyard:ingress``. Default: not routed."""
    monitoring: MonitoringOptions = MonitoringOptions()
    """Scrape interval, alert overrides and dashboard, with ``stackyard:monitoring``. Default: the
    default alerts, scraped every 30s when the app has a ``metricsPort``."""

    @field_validator("route")
    @classmethod
    def _routed_apps_have_a_service(cls, route: Route | None, info: ValidationInfo) -> Route | None:
        if route is not None and info.data.get("service") is False:
            raise ValueError("route needs the app's Service; an app with service: false cannot be routed")
        return route


class ClusterNetwork(Args):
    """What the platform namespaces' NetworkPolicies need to know of the cluster."""

    api_server: ApiServerAccess = ApiServerAccess()
    """The API server's addresses and ports. Default: any address on 443 and 6443."""
    node_cidrs: list[str] = ["0.0.0.0/0"]
    """The nodes' addresses, which Prometheus scrapes (kubelet, node exporter). Default: any
    address, on the scrape ports only."""


class StackConfig(Args):
    """Everything one environment is made of. Each field is one ``stackyard:<key>`` config key.

    Three shapes (docs/architecture.md, "Several environments on one cluster"): an environment
    with its own platform (the default), an environment on a shared platform
    (``platform: shared``), and a platform stack (no ``namespace`` and no ``apps``).
    """

    namespace: AppNamespaceArgs | None = None
    """The environment's namespace; its ``name`` and ``partOf`` also apply to every app. Required
    with apps; a platform stack has none."""
    platform: Literal["own", "shared"] = "own"
    """``own``: this stack installs the ingress controller, log shipping and monitoring it
    configures. ``shared``: a platform stack installs them once for the cluster; here
    ``stackyard:ingress`` and ``stackyard:monitoring`` say what that platform is (the same values as
    in the platform stack), and this stack creates only the environment's own objects: namespace,
    apps, routes, Gateway, monitors and alerts. Default: own."""
    ingress: IngressControllerArgs | None = None
    """The ingress controller and how routes are expressed (Ingress or Gateway API). Default: none;
    then no app may have a route."""
    logging: LogShippingArgs | None = None
    """Log shipping with Fluent Bit. Default: none."""
    monitoring: MonitoringArgs | None = None
    """kube-prometheus-stack, plus each app's ServiceMonitor or PodMonitor and alerts. Default: none."""
    apps: list[AppConfig] = []
    """The apps of the environment; names are unique. ``namespace`` and ``partOf`` come from
    ``stackyard:namespace``. Required with a namespace; a platform stack has none."""
    secrets: list[SecretSpec] = []
    """Secrets built from ``secure:`` config values. Default: none."""
    cluster: ClusterNetwork = ClusterNetwork()
    """The cluster's API server and node addresses, for exact egress rules in the ingress, logging
    and monitoring namespaces. Default: any address, on the right ports only."""
    render_dir: str = ""
    """When set, the real engine renders YAML into this folder instead of deploying
    (pulumi-kubernetes' ``renderYamlToDirectory``). Default: deploy."""
    not_secrets: list[str] = []
    """Key paths (as errors print them, without the project, e.g. ``apps[0].env.TOKEN_AUDIENCE``)
    whose plain values look like secrets but are not: the secret check lets them through.
    Default: none."""

    @property
    def routes(self) -> dict[str, Route]:
        """Each routed app's route, by app name, as the network-intent compiler takes them."""
        return {app.name: app.route for app in self.apps if app.route is not None}

    @model_validator(mode="before")
    @classmethod
    def _apps_inherit_namespace(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("apps"), list):
            return data
        namespace = data.get("namespace")
        if not isinstance(namespace, dict):
            return data  # no namespace to inherit: the loader reports it, not each app's missing key
        inherited = {"namespace": namespace.get("name"), "partOf": namespace.get("partOf", "")}
        apps = [
            {**inherited, **app} if isinstance(app, dict) and "namespace" not in app else app for app in data["apps"]
        ]
        return {**data, "apps": apps}

    @field_validator("apps")
    @classmethod
    def _apps_unique_and_in_the_namespace(cls, apps: list[AppConfig], info: ValidationInfo) -> list[AppConfig]:
        _check_unique("app", [app.name for app in apps])
        namespace = info.data.get("namespace")
        for app in apps:
            if namespace is not None and app.namespace != namespace.name:
                raise ValueError(
                    f"app {app.name!r} sets namespace {app.namespace!r}; apps always run in "
                    f"stackyard:namespace.name ({namespace.name!r}), so leave it out"
                )
        return apps

    @field_validator("secrets")
    @classmethod
    def _secrets_unique(cls, secrets: list[SecretSpec]) -> list[SecretSpec]:
        _check_unique("secret", [f"{secret.namespace or ''}/{secret.name}" for secret in secrets])
        return secrets


def _check_unique(kind: str, names: list[str]) -> None:
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{kind} names must be unique; {duplicates} appear more than once")
