"""Observability across one environment: each app's monitoring args, derived from its config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components import AppMonitoringArgs, IngressControllerArgs, LogShippingArgs, MonitoringArgs

if TYPE_CHECKING:
    from .config import AppConfig, StackConfig


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


def check_monitoring(apps: list[AppConfig], monitoring: MonitoringArgs | None) -> None:
    """Raise ``ValueError`` for the first app whose monitoring settings cannot apply, naming where it is."""
    for index, app in enumerate(apps):
        if monitoring is None:
            if "monitoring" in app.model_fields_set:
                raise ValueError(f"apps[{index}].monitoring: needs stackyard:monitoring, which is not set")
            continue
        try:
            app_monitoring_args(app)
        except ValueError as error:
            raise ValueError(f"apps[{index}].monitoring: {_first_message(error)}") from None


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


def scraped_ports(apps: list[AppConfig]) -> set[int]:
    """The pod ports Prometheus scrapes on the apps: each metrics port, or a PodMonitor's app port."""
    return {app.metrics_port or app.port for app in apps if app.metrics_port or not app.service}


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


def _first_message(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        details = errors(include_url=False)
        if details:
            return str(details[0]["msg"]).removeprefix("Value error, ")
    return str(error)
