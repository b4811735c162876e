"""Observability across one environment: the platform's and each app's monitoring args, derived from config."""

from __future__ import annotations

from pydantic import ValidationError

from components import AppMonitoringArgs, IngressControllerArgs, LogShippingArgs, MonitoringArgs, Problem

from .model import AppConfig, StackConfig

__all__ = [
    "app_monitoring_args",
    "app_monitoring_problems",
    "ingress_controller_args",
    "log_shipping_args",
    "monitoring_args",
    "scraped_port",
    "scraped_ports",
]


def app_monitoring_args(app: AppConfig) -> AppMonitoringArgs:
    """What Prometheus scrapes of ``app`` and which alerts it gets."""
    return AppMonitoringArgs(
        namespace=app.namespace,
        app=app.name,
        selector=app.selector,
        labels=app.labels,
        has_service=app.service,
        metrics_port_name=app.metrics_port_name,
        metrics_path=app.metrics_path,
        options=app.monitoring,
    )


def app_monitoring_problems(apps: list[AppConfig], monitoring: MonitoringArgs | None) -> list[Problem]:
    """Each app whose monitoring settings cannot apply, by key path; never raises."""
    problems = []
    for index, app in enumerate(apps):
        where = f"apps[{index}].monitoring"
        if monitoring is None:
            if "monitoring" in app.model_fields_set:
                problems.append(Problem(where, "needs stackyard:monitoring, which is not set"))
            continue
        try:
            app_monitoring_args(app)
        except ValidationError as error:
            problems += [
                Problem(where, str(detail["msg"]).removeprefix("Value error, "))
                for detail in error.errors(include_url=False)
            ]
    return problems


def log_shipping_args(settings: StackConfig) -> LogShippingArgs:
    """Fluent Bit's own metrics are scraped whenever the environment has monitoring, unless config says otherwise."""
    logging, monitoring = settings.logging, settings.monitoring
    assert logging is not None
    update: dict[str, object] = {"api_server": settings.cluster.api_server}
    if monitoring is not None:
        update["monitoring_namespace"] = monitoring.namespace
        if "service_monitor" not in logging.model_fields_set:
            update["service_monitor"] = True
    return logging.model_copy(update=update)


def ingress_controller_args(settings: StackConfig) -> IngressControllerArgs:
    """The controller's own metrics are scraped whenever the environment has monitoring, unless config says so;
    it may reach the environment's apps and the API server."""
    ingress, monitoring = settings.ingress, settings.monitoring
    assert ingress is not None
    update: dict[str, object] = {
        "api_server": settings.cluster.api_server,
        # A platform stack's controller serves every environment: the apps' own policies decide.
        "backend_namespaces": [settings.namespace.name] if settings.namespace else None,
    }
    if monitoring is not None:
        update["monitoring_namespace"] = monitoring.namespace
        if "service_monitor" not in ingress.model_fields_set:
            update["service_monitor"] = True
    return ingress.model_copy(update=update)


def scraped_port(app: AppConfig) -> int | None:
    """The pod port Prometheus scrapes on ``app``: its metrics port, or a PodMonitor's app port; else none."""
    if app.metrics_port:
        return app.metrics_port
    return None if app.service else app.port


def scraped_ports(apps: list[AppConfig]) -> set[int]:
    """The pod ports Prometheus scrapes on the apps."""
    return {port for app in apps if (port := scraped_port(app)) is not None}


def monitoring_args(settings: StackConfig) -> MonitoringArgs:
    """Prometheus may reach the apps' metrics ports (and a PodMonitor's app port), the nodes and the API server."""
    monitoring = settings.monitoring
    assert monitoring is not None
    return monitoring.model_copy(
        update={
            "scrape_ports": sorted(scraped_ports(settings.apps) | set(monitoring.scrape_ports)),
            "node_cidrs": settings.cluster.node_cidrs,
            "api_server": settings.cluster.api_server,
        }
    )
