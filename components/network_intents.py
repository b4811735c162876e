"""Network intents across the apps of one environment: checked, then compiled into each app's rules.

An app's ``egress`` to another app of the environment is one intent with two ends: the caller may
send, and the callee accepts. Written once, on the caller, it becomes both: the caller's egress
rule (on the callee's port unless given) and an ingress rule on the callee. Routed apps accept
traffic from the ingress controller's namespace, and apps with a metrics port from the monitoring
namespace, on that port only. Everything here is pure: it takes validated args and returns new
args, or the problems that stop it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .network_policy import EgressRule, IngressRule, Port
from .problems import Problem, ProblemsError
from .routing import Route
from .workload import AppArgs

__all__ = ["compile_network_intents", "network_intent_problems"]


def network_intent_problems(
    apps: Sequence[AppArgs], routes: Mapping[str, Route] | None = None, *, ingress_namespace: str | None = None
) -> list[Problem]:
    """Every intent or route of ``apps`` that cannot work, each with its key path (``apps[i]...``).

    ``routes`` maps an app's name to its public route; routes need ``ingress_namespace``, the
    namespace of the ingress controller that serves them. Never raises.
    """
    by_name = {app.name: app for app in apps}
    problems: list[Problem] = []
    for index, app in enumerate(apps):
        problems += _egress_problems(index, app, by_name)
        problems += [
            _missing_app(f"apps[{index}].ingress[{rule_index}]", rule.app, by_name)
            for rule_index, rule in enumerate(app.ingress)
            if rule.app is not None and rule.namespace is None and rule.app not in by_name
        ]
    problems += _route_problems(apps, routes or {}, ingress_namespace)
    return problems


def compile_network_intents(
    apps: Sequence[AppArgs],
    routes: Mapping[str, Route] | None = None,
    *,
    ingress_namespace: str | None = None,
    monitoring_namespace: str | None = None,
) -> list[AppArgs]:
    """Each app's args with the rules its environment implies added, in the order given.

    Raises :class:`~.problems.ProblemsError` with every problem
    :func:`network_intent_problems` finds. ``monitoring_namespace``, when given, may scrape each
    app's ``metricsPort``.
    """
    problems = network_intent_problems(apps, routes, ingress_namespace=ingress_namespace)
    if problems:
        raise ProblemsError(problems)
    by_name = {app.name: app for app in apps}
    implied: dict[str, list[IngressRule]] = {app.name: [] for app in apps}
    egress_of: dict[str, list[EgressRule]] = {}
    for app in apps:
        egress_of[app.name] = []
        for rule in app.egress:
            callee = by_name.get(rule.app or "") if _is_local(rule) else None
            if callee is None:
                egress_of[app.name].append(rule)
                continue
            ports = rule.ports or [Port.tcp(callee.port)]
            egress_of[app.name].append(rule.model_copy(update={"ports": ports}))
            implied[callee.name].append(IngressRule.from_app(app.name, ports=ports))
    for app in apps:
        if app.name in (routes or {}) and ingress_namespace is not None:
            implied[app.name].append(IngressRule.from_namespace(ingress_namespace, ports=[Port.tcp(app.port)]))
        if app.metrics_port is not None and monitoring_namespace is not None:
            implied[app.name].append(
                IngressRule.from_namespace(monitoring_namespace, ports=[Port.tcp(app.metrics_port)])
            )
    return [
        AppArgs.model_validate(
            {
                **app.model_dump(include=set(AppArgs.model_fields)),
                "ingress": [*app.ingress, *implied[app.name]],
                "egress": egress_of[app.name],
            }
        )
        for app in apps
    ]


def _is_local(rule: EgressRule | IngressRule) -> bool:
    """A rule naming another app of this environment (an app in another namespace is not ours to check)."""
    return rule.app is not None and rule.namespace is None


def _egress_problems(index: int, app: AppArgs, by_name: Mapping[str, AppArgs]) -> list[Problem]:
    problems = []
    for rule_index, rule in enumerate(app.egress):
        if not _is_local(rule):
            continue
        where = f"apps[{index}].egress[{rule_index}]"
        assert rule.app is not None
        target = by_name.get(rule.app)
        if target is None:
            problems.append(_missing_app(where, rule.app, by_name))
            continue
        problems += [
            Problem(
                where,
                f"port {port.port} is not a port of app {target.name!r} (it listens on {target.port}), "
                "so the rule can never match",
            )
            for port in rule.ports
            if not port.covers(target.port)
        ]
    return problems


def _route_problems(
    apps: Sequence[AppArgs], routes: Mapping[str, Route], ingress_namespace: str | None
) -> list[Problem]:
    problems = []
    claimed: dict[tuple[str, str], str] = {}
    for index, app in enumerate(apps):
        route = routes.get(app.name)
        if route is None:
            continue
        where = f"apps[{index}].route"
        if ingress_namespace is None:
            problems.append(Problem(where, "routes need an ingress controller, and none is configured"))
        for path in route.paths:
            owner = claimed.setdefault((route.host, path), app.name)
            if owner != app.name:
                problems.append(
                    Problem(where, f"host {route.host!r} path {path!r} is already claimed by app {owner!r}")
                )
    return problems


def _missing_app(where: str, name: str, by_name: Mapping[str, AppArgs]) -> Problem:
    return Problem(where, f"app {name!r} does not exist in this environment; apps: {sorted(by_name)}")
