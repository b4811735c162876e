"""One application environment: its namespace, secrets and apps, in dependency order."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes

from components import App, AppNamespace, AppSecret, AppSecretArgs

from .config import EnvironmentConfig


def build_environment(config: EnvironmentConfig) -> dict[str, pulumi.Input[object]]:
    """Register every resource of the environment and return the stack outputs to export."""
    settings = config.settings
    scope = _provider_options(settings.render_dir)
    namespace = AppNamespace(settings.namespace.name, settings.namespace, opts=scope)
    inside = pulumi.ResourceOptions.merge(scope, pulumi.ResourceOptions(depends_on=[namespace]))
    secrets = [
        AppSecret(
            spec.name,
            AppSecretArgs(
                namespace=settings.namespace.name,
                name=spec.name,
                part_of=settings.namespace.part_of,
                values={key: config.secret_values[config_key] for key, config_key in spec.values.items()},
            ),
            opts=inside,
        )
        for spec in settings.secrets
    ]
    apps = [
        App(app.name, app, opts=pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(depends_on=secrets)))
        for app in settings.apps
    ]
    return {
        "namespace": namespace.namespace_name,
        "services": {
            spec.name: app.service_name
            for spec, app in zip(settings.apps, apps, strict=True)
            if app.service_name is not None
        },
    }


def _provider_options(render_dir: str) -> pulumi.ResourceOptions | None:
    """With ``renderDir`` set, the real engine writes YAML through pulumi-kubernetes instead of deploying."""
    if not render_dir:
        return None
    provider = kubernetes.Provider("render-yaml", render_yaml_to_directory=render_dir)
    return pulumi.ResourceOptions(providers=[provider])
