"""One application environment: namespace, platform services, secrets, apps, routes and monitoring, in order."""

from __future__ import annotations

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
)

from .config import AppConfig, EnvironmentConfig, SecretSpec, StackConfig
from .networking import resolve_apps
from .observability import app_monitoring_args, ingress_controller_args, log_shipping_args, monitoring_args

#: The name of each environment's Gateway, when routes use the Gateway API.
GATEWAY_NAME = "public"


def build_environment(config: EnvironmentConfig) -> dict[str, pulumi.Input[object]]:
    """Register every resource of the environment and return the stack outputs to export."""
    settings = config.settings
    scope = _provider_options(settings.render_dir)
    namespace = AppNamespace(settings.namespace.name, settings.namespace, opts=scope)
    inside = _after(scope, namespace)
    controller = (
        IngressController(
            settings.ingress.effective_release,
            ingress_controller_args(settings),
            opts=scope,
        )
        if settings.ingress is not None
        else None
    )
    monitoring = (
        Monitoring(settings.monitoring.release, monitoring_args(settings), opts=scope) if settings.monitoring else None
    )
    logging = (
        LogShipping(
            "fluent-bit",
            log_shipping_args(settings),
            opts=_after(scope, *([monitoring] if monitoring else [])),
        )
        if settings.logging
        else None
    )
    owners: dict[str, pulumi.Resource] = {settings.namespace.name: namespace}
    if logging is not None and settings.logging is not None:
        owners[settings.logging.namespace] = logging
    if monitoring is not None and settings.monitoring is not None:
        owners[settings.monitoring.namespace] = monitoring
    secrets = [
        _secret(config, spec, _after(scope, owners[spec.namespace or settings.namespace.name]))
        for spec in settings.secrets
    ]
    _warn_about_external_secrets(settings)
    apps = [
        App(args.name, args, opts=_after(inside, *secrets))
        for args in resolve_apps(settings.apps, settings.ingress, settings.monitoring)
    ]
    if controller is not None and settings.ingress is not None:
        _routes(settings, settings.ingress, _after(inside, controller))
    if monitoring is not None:
        for app_config, app in zip(settings.apps, apps, strict=True):
            AppMonitoring(app_config.name, app_monitoring_args(app_config), opts=_after(inside, monitoring, app))
    return {
        "namespace": namespace.namespace_name,
        "services": {
            spec.name: app.service_name
            for spec, app in zip(settings.apps, apps, strict=True)
            if app.service_name is not None
        },
        "hosts": sorted({app.route.host for app in settings.apps if app.route is not None}),
    }


def _warn_about_external_secrets(settings: StackConfig) -> None:
    """Name the Secrets apps use but this stack does not create: their pods wait until they exist."""
    created = {spec.name for spec in settings.secrets if spec.namespace in (None, settings.namespace.name)}
    for index, app in enumerate(settings.apps):
        used = {*app.secret_files, *(ref.secret for ref in app.secret_env.values())}
        for missing in sorted(used - created):
            pulumi.log.warn(
                f"stackyard:apps[{index}] ({app.name}) uses Secret {missing!r}, which stackyard:secrets does not "
                f"create; it must exist in namespace {settings.namespace.name!r} before the app's pods can start"
            )


def _secret(config: EnvironmentConfig, spec: SecretSpec, opts: pulumi.ResourceOptions) -> AppSecret:
    settings = config.settings
    return AppSecret(
        spec.name,
        AppSecretArgs(
            namespace=spec.namespace or settings.namespace.name,
            name=spec.name,
            part_of=settings.namespace.part_of,
            values={key: config.secret_values[config_key] for key, config_key in spec.values.items()},
        ),
        opts=opts,
    )


def _routes(settings: StackConfig, ingress: IngressControllerArgs, opts: pulumi.ResourceOptions) -> None:
    routed = [app for app in settings.apps if app.route is not None]
    if not routed:
        return
    if ingress.route_api == "gateway":
        gateway = AppGateway(GATEWAY_NAME, _gateway_args(settings, ingress, routed), opts=opts)
        opts = _after(opts, gateway)
    for app in routed:
        assert app.route is not None
        AppRoute(
            app.name,
            AppRouteArgs(
                namespace=settings.namespace.name,
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


def _gateway_args(settings: StackConfig, ingress: IngressControllerArgs, routed: list[AppConfig]) -> AppGatewayArgs:
    tls = {app.route.host: app.route.tls_secret for app in routed if app.route and app.route.tls_secret}
    issuers = sorted({app.route.cluster_issuer for app in routed if app.route and app.route.cluster_issuer})
    return AppGatewayArgs(
        namespace=settings.namespace.name,
        name=GATEWAY_NAME,
        gateway_class=ingress.effective_class_name,
        http_port=ingress.profile.http_port,
        https_port=ingress.profile.https_port,
        tls=[TlsListener(host=host, tls_secret=secret) for host, secret in sorted(tls.items())],
        cluster_issuer=issuers[0] if issuers else None,
        part_of=settings.namespace.part_of,
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
