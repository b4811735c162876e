"""Network intents across the apps of one environment: checked, then compiled into each app's rules.

An app's ``egress`` to another app of the environment is one intent with two ends: the caller may
send, and the callee accepts. Routed apps accept traffic from the ingress controller's namespace
only. Everything here is pure: it takes validated config and returns new args.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from components import AppArgs, EgressRule, IngressControllerArgs, IngressRule, MonitoringArgs, Port

if TYPE_CHECKING:
    from .config import AppConfig


def check_network_intents(apps: Sequence[AppConfig], *, has_ingress: bool) -> None:
    """Raise ``ValueError`` for the first intent or route that cannot work, naming where it is."""
    by_name = {app.name: app for app in apps}
    claimed: dict[tuple[str, str], str] = {}
    for index, app in enumerate(apps):
        for rule_index, egress in enumerate(app.egress):
            where = f"apps[{index}].egress[{rule_index}]"
            if egress.app is not None and egress.namespace is None:
                target = _existing(by_name, egress.app, where)
                for port in egress.ports:
                    if not port.covers(target.port):
                        raise ValueError(
                            f"{where}: port {port.port} is not a port of app {target.name!r} "
                            f"(it listens on {target.port}), so the rule can never match"
                        )
        for rule_index, ingress in enumerate(app.ingress):
            if ingress.app is not None and ingress.namespace is None:
                _existing(by_name, ingress.app, f"apps[{index}].ingress[{rule_index}]")
        if app.route is None:
            continue
        if not has_ingress:
            raise ValueError(f"apps[{index}].route: routes need an ingress controller; set stackyard:ingress")
        for path in app.route.paths:
            key = (app.route.host, path)
            if key in claimed:
                raise ValueError(
                    f"apps[{index}].route: host {key[0]!r} path {key[1]!r} is already claimed by app {claimed[key]!r}"
                )
            claimed[key] = app.name


def _existing(by_name: dict[str, AppConfig], name: str, where: str) -> AppConfig:
    if name not in by_name:
        raise ValueError(f"{where}: app {name!r} does not exist in this environment; apps: {sorted(by_name)}")
    return by_name[name]


def resolve_apps(
    apps: Sequence[AppConfig], ingress: IngressControllerArgs | None, monitoring: MonitoringArgs | None = None
) -> list[AppArgs]:
    """Each app's args with the environment's implied rules added, in config order."""
    by_name = {app.name: app for app in apps}
    implied: dict[str, list[IngressRule]] = {app.name: [] for app in apps}
    egress_of: dict[str, list[EgressRule]] = {}
    for app in apps:
        rules = []
        for rule in app.egress:
            if rule.app is not None and rule.namespace is None:
                target = by_name[rule.app]
                ports = rule.ports or [Port.tcp(target.port)]
                rules.append(rule.model_copy(update={"ports": ports}))
                implied[target.name].append(IngressRule.from_app(app.name, ports=ports))
            else:
                rules.append(rule)
        egress_of[app.name] = rules
    for app in apps:
        if app.route is not None and ingress is not None:
            implied[app.name].append(IngressRule.from_namespace(ingress.namespace, ports=[Port.tcp(app.port)]))
        if app.metrics_port is not None and monitoring is not None:
            implied[app.name].append(
                IngressRule.from_namespace(monitoring.namespace, ports=[Port.tcp(app.metrics_port)])
            )
    return [
        AppArgs.model_validate(
            {
                **app.model_dump(exclude={"route", "monitoring"}),
                "ingress": [*app.ingress, *implied[app.name]],
                "egress": egress_of[app.name],
            }
        )
        for app in apps
    ]
