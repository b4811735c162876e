"""One application environment: namespace, platform services, secrets, apps, routes and monitoring, in order."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes

from components import (
    App,
    AppGateway,
    AppGatewayArgs,
    AppMonitoring,
    AppNamespace,
    AppRoute,
    AppRouteArgs,
    AppSecret,
    AppSecretArgs,
    IngressController,
    IngressControllerArgs,
    LogShipping,
    Monitoring,
    TlsListener,
    compile_network_intents,
)

from .loader import EnvironmentConfig
from .model import AppConfig, SecretSpec, StackConfig
from .observability import app_monitoring_args, ingress_controller_args, log_shipping_args, monitoring_args

__all__ = ["GATEWAY_NAME", "Platform", "build_environment"]

#: The name of each environment's Gateway, when routes use the Gateway API.
GATEWAY_NAME = "public"


def build_environment(config: EnvironmentConfig) -> dict[str, pulumi.Input[object]]:
    """Register every resource of the stack and return the stack outputs to export.

    The platform (ingress controller, log shipping, monitoring) is installed here unless the
    environment runs on a shared one; the environment (namespace, secrets, apps, routes, monitors)
    unless this is a platform stack.
    """
    settings = config.settings
    scope = _provider_options(settings.render_dir)
    platform = _platform(settings, scope) if settings.platform == "own" else Platform()
    namespace = AppNamespace(settings.namespace.name, settings.namespace, opts=scope) if settings.namespace else None
    owners: dict[str, pulumi.Resource] = {}
    if namespace is not None and settings.namespace is not None:
        owners[settings.namespace.name] = namespace
    if platform.logging is not None and settings.logging is not None:
        owners[settings.logging.namespace] = platform.logging
    if platform.monitoring is not None and settings.monitoring is not None:
        owners[settings.monitoring.namespace] = platform.monitoring
    secrets = [
        _secret(config, spec, _after(scope, owners[_secret_namespace(settings, spec)])) for spec in settings.secrets
    ]
    if namespace is None or settings.namespace is None:
        return _platform_outputs(settings)
    return _environment(settings, settings.namespace.name, _after(scope, namespace), platform, secrets) | {
        "namespace": namespace.namespace_name
    }


@dataclass(frozen=True)
class Platform:
    """The platform components this stack installs; none on a shared platform."""

    controller: IngressController | None = None
    monitoring: Monitoring | None = None
    logging: LogShipping | None = None


def _platform(settings: StackConfig, scope: pulumi.ResourceOptions | None) -> Platform:
    controller = (
        IngressController(settings.ingress.effective_release, ingress_controller_args(settings), opts=scope)
        if settings.ingress is not None
        else None
    )
    monitoring = (
        Monitoring(settings.monitoring.release, monitoring_args(settings), opts=scope) if settings.monitoring else None
    )
    logging = (
        LogShipping(
            "fluent-bit", log_shipping_args(settings), opts=_after(scope, *([monitoring] if monitoring else []))
        )
        if settings.logging
        else None
    )
    return Platform(controller, monitoring, logging)


def _platform_outputs(settings: StackConfig) -> dict[str, pulumi.Input[object]]:
    """What environments on this platform must repeat in their own ``stackyard:ingress`` and ``monitoring``."""
    outputs: dict[str, pulumi.Input[object]] = {}
    if settings.ingress is not None:
        outputs["ingress"] = {
            "namespace": settings.ingress.namespace,
            "className": settings.ingress.effective_class_name,
            "routeApi": settings.ingress.route_api,
        }
    if settings.monitoring is not None:
        outputs["monitoring"] = {
            "namespace": settings.monitoring.namespace,
            "scrapePorts": sorted(set(monitoring_args(settings).scrape_ports)),
        }
    if settings.logging is not None:
        outputs["logging"] = {"namespace": settings.logging.namespace}
    return outputs


def _environment(
    settings: StackConfig,
    namespace: str,
    inside: pulumi.ResourceOptions,
    platform: Platform,
    secrets: list[AppSecret],
) -> dict[str, pulumi.Input[object]]:
    """The environment's apps, routes and monitors, in its namespace."""
    _warn_about_external_secrets(settings, namespace)
    apps = [
        App(args.name, args, opts=_after(inside, *secrets))
        for args in compile_network_intents(
            settings.apps,
            settings.routes,
            ingress_namespace=settings.ingress.namespace if settings.ingress is not None else None,
            monitoring_namespace=settings.monitoring.namespace if settings.monitoring is not None else None,
        )
    ]
    if settings.ingress is not None:
        _routes(settings, namespace, settings.ingress, _after(inside, *_present(platform.controller)))
    if settings.monitoring is not None:
        for app_config, app in zip(settings.apps, apps, strict=True):
            AppMonitoring(
                app_config.name,
                app_monitoring_args(app_config),
                opts=_after(inside, *_present(platform.monitoring), app),
            )
    return {
        "services": {
            spec.name: app.service_name
            for spec, app in zip(settings.apps, apps, strict=True)
            if app.service_name is not None
        },
        "hosts": sorted({app.route.host for app in settings.apps if app.route is not None}),
    }


def _present(*resources: pulumi.Resource | None) -> list[pulumi.Resource]:
    return [resource for resource in resources if resource is not None]


def _warn_about_external_secrets(settings: StackConfig, namespace: str) -> None:
    """Name the Secrets apps use but this stack does not create: their pods wait until they exist."""
    created = {spec.name for spec in settings.secrets if spec.namespace in (None, namespace)}
    for index, app in enumerate(settings.apps):
        used = {*app.secret_files, *(ref.secret for ref in app.secret_env.values())}
        for missing in sorted(used - created):
            pulumi.log.warn(
                f"stackyard:apps[{index}] ({app.name}) uses Secret {missing!r}, which stackyard:secrets does not "
                f"create; it must exist in namespace {namespace!r} before the app's pods can start"
            )


def _secret_namespace(settings: StackConfig, spec: SecretSpec) -> str:
    if spec.namespace is not None:
        return spec.namespace
    assert settings.namespace is not None  # a platform stack's secrets name theirs (config validation)
    return settings.namespace.name


def _secret(config: EnvironmentConfig, spec: SecretSpec, opts: pulumi.ResourceOptions) -> AppSecret:
    settings = config.settings
    return AppSecret(
        spec.name,
        AppSecretArgs(
            namespace=_secret_namespace(settings, spec),
            name=spec.name,
            part_of=settings.namespace.part_of if settings.namespace else "",
            values={key: config.secret_values[config_key] for key, config_key in spec.values.items()},
        ),
        opts=opts,
    )


def _routes(
    settings: StackConfig, namespace: str, ingress: IngressControllerArgs, opts: pulumi.ResourceOptions
) -> None:
    routed = [app for app in settings.apps if app.route is not None]
    if not routed:
        return
    if ingress.route_api == "gateway":
        gateway = AppGateway(GATEWAY_NAME, _gateway_args(settings, namespace, ingress, routed), opts=opts)
        opts = _after(opts, gateway)
    for app in routed:
        assert app.route is not None
        AppRoute(
            app.name,
            AppRouteArgs(
                namespace=namespace,
                service=app.name,
                service_port=app.service_port,
                service_port_name=app.port_name,
                route=app.route,
                api=ingress.route_api,
                ingress_class=ingress.effective_class_name if ingress.route_api == "ingress" else None,
                gateway=GATEWAY_NAME if ingress.route_api == "gateway" else None,
                labels=app.labels,
            ),
            opts=opts,
        )


def _gateway_args(
    settings: StackConfig, namespace: str, ingress: IngressControllerArgs, routed: list[AppConfig]
) -> AppGatewayArgs:
    tls = {app.route.host: app.route.tls_secret for app in routed if app.route and app.route.tls_secret}
    issuers = sorted({app.route.cluster_issuer for app in routed if app.route and app.route.cluster_issuer})
    return AppGatewayArgs(
        namespace=namespace,
        name=GATEWAY_NAME,
        gateway_class=ingress.effective_class_name,
        http_port=ingress.profile.http_port,
        https_port=ingress.profile.https_port,
        tls=[TlsListener(host=host, tls_secret=secret) for host, secret in sorted(tls.items())],
        cluster_issuer=issuers[0] if issuers else None,
        part_of=settings.namespace.part_of if settings.namespace else "",
    )


def _after(options: pulumi.ResourceOptions | None, *resources: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(depends_on=list(resources)))


def _provider_options(render_dir: str) -> pulumi.ResourceOptions | None:
    """With ``renderDir`` set, the real engine writes YAML through pulumi-kubernetes instead of deploying."""
    if not render_dir:
        return None
    # The SDK fills ``kubeconfig`` from $KUBECONFIG when it is not given, and the provider refuses any
    # kubeconfig beside renderYamlToDirectory; rendering needs no cluster, so say "none" explicitly.
    provider = kubernetes.Provider("render-yaml", render_yaml_to_directory=render_dir, kubeconfig="")
    return pulumi.ResourceOptions(providers=[provider])
