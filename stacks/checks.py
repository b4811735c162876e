"""Checks across the whole stack configuration, run on the validated model.

Each check looks at one concern, returns a :class:`~components.problems.Problem` per thing that
cannot work (a key path, without the project, and a message) and never raises: the loader runs
them all and reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable

from components import Problem, network_intent_problems
from components.monitoring import POD_SCRAPE_PORTS

from .capacity import quota_shortfalls
from .model import StackConfig
from .observability import app_monitoring_problems, scraped_port

__all__ = [
    "CHECKS",
    "environment_or_platform",
    "monitoring_applies",
    "network_intents_resolve",
    "quota_fits_the_apps",
    "rendering_has_a_local_gateway_api_install",
    "secrets_in_known_namespaces",
    "shared_platform_scrapes_the_apps",
    "stack_problems",
]


def stack_problems(settings: StackConfig) -> list[Problem]:
    """Every problem every check finds, in the order of :data:`CHECKS`."""
    return [problem for check in CHECKS for problem in check(settings)]


def environment_or_platform(settings: StackConfig) -> list[Problem]:
    """An environment has a namespace and apps; a platform stack has neither, but a platform service."""
    problems = []
    if settings.namespace is not None and not settings.apps:
        problems.append(Problem("apps", "an environment needs at least one app (a platform stack has no namespace)"))
    if settings.namespace is None:
        if settings.apps:
            problems.append(Problem("namespace", "required, since the stack has apps"))
        elif settings.platform == "shared":
            problems.append(Problem("platform", "'shared' is for an environment, which needs namespace and apps"))
        elif not (settings.ingress or settings.logging or settings.monitoring):
            problems.append(
                Problem(
                    "namespace",
                    "required; a stack without one is a platform stack, which needs at least one of ingress, "
                    "logging and monitoring",
                )
            )
    if settings.platform == "shared" and settings.logging is not None:
        problems.append(
            Problem(
                "logging",
                "not allowed with platform: shared; the shared platform's Fluent Bit ships every namespace's logs, "
                "so configure it in the platform stack",
            )
        )
    return problems


def shared_platform_scrapes_the_apps(settings: StackConfig) -> list[Problem]:
    """On a shared platform, Prometheus's policy is the platform stack's: each scraped port must be in it."""
    if settings.platform != "shared" or settings.monitoring is None:
        return []
    allowed = {*POD_SCRAPE_PORTS, *settings.monitoring.scrape_ports}
    return [
        Problem(
            f"apps[{index}].metricsPort",
            f"{port} is not a port the shared platform's Prometheus may scrape; add it to monitoring.scrapePorts "
            f"here and in the platform stack (now {sorted(allowed)})",
        )
        for index, app in enumerate(settings.apps)
        if (port := scraped_port(app)) is not None and port not in allowed
    ]


def rendering_has_a_local_gateway_api_install(settings: StackConfig) -> list[Problem]:
    """Rendering offline cannot fetch the Gateway API's install from its release URL."""
    ingress = settings.ingress
    if not (
        settings.render_dir
        and ingress is not None
        and ingress.route_api == "gateway"
        and ingress.implementation == "traefik"
        and ingress.install_gateway_api_crds
        and ingress.gateway_api_crds_path is None
    ):
        return []
    return [
        Problem(
            "ingress.gatewayApiCrdsPath",
            "required with renderDir; without a cluster pulumi-kubernetes cannot render the release URL's "
            "ValidatingAdmissionPolicy, so give a local copy of the Gateway API's standard-install.yaml (or set "
            "installGatewayApiCrds: false)",
        )
    ]


def network_intents_resolve(settings: StackConfig) -> list[Problem]:
    """Every egress or ingress rule naming an app names one of ours, on its port; routes have a controller."""
    ingress_namespace = settings.ingress.namespace if settings.ingress is not None else None
    return network_intent_problems(settings.apps, settings.routes, ingress_namespace=ingress_namespace)


def quota_fits_the_apps(settings: StackConfig) -> list[Problem]:
    """The namespace's quota holds the apps at their replica maxima plus a rolling-update surge."""
    if settings.namespace is None or settings.namespace.quota is None:
        return []
    shortfalls = quota_shortfalls(settings.namespace.quota, settings.apps)
    if not shortfalls:
        return []
    return [
        Problem(
            "namespace.quota",
            f"too small for the apps at their replica maxima plus a rolling-update surge ({'; '.join(shortfalls)}); "
            "raise it, or lower the apps' maxima or resources",
        )
    ]


def monitoring_applies(settings: StackConfig) -> list[Problem]:
    """Each app's monitoring settings need ``monitoring`` and must make valid monitoring args."""
    return app_monitoring_problems(settings.apps, settings.monitoring)


def secrets_in_known_namespaces(settings: StackConfig) -> list[Problem]:
    """A Secret goes into a namespace this stack creates; in a platform stack, it names which."""
    own_platform = settings.platform == "own"
    known = {
        *([settings.namespace.name] if settings.namespace else []),
        *([settings.logging.namespace] if settings.logging and own_platform else []),
        *([settings.monitoring.namespace] if settings.monitoring and own_platform else []),
    }
    problems = []
    for index, secret in enumerate(settings.secrets):
        where = f"secrets[{index}].namespace"
        if secret.namespace is None and settings.namespace is None:
            problems.append(Problem(where, "required in a platform stack, which has no namespace"))
        elif secret.namespace is not None and secret.namespace not in known:
            problems.append(
                Problem(where, f"{secret.namespace!r} is not a namespace stackyard creates; use one of {sorted(known)}")
            )
    return problems


#: Every check, in the order their problems are reported.
CHECKS: tuple[Callable[[StackConfig], list[Problem]], ...] = (
    environment_or_platform,
    shared_platform_scrapes_the_apps,
    rendering_has_a_local_gateway_api_install,
    network_intents_resolve,
    quota_fits_the_apps,
    monitoring_applies,
    secrets_in_known_namespaces,
)
