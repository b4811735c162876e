"""Observability across one environment: each app's monitoring args, derived from its config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components import AppMonitoringArgs, IngressControllerArgs, LogShippingArgs, MonitoringArgs

if TYPE_CHECKING:
    from .config import AppConfig


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
        autoscaled=app.autoscaling is not None,
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


def log_shipping_args(logging: LogShippingArgs, monitoring: MonitoringArgs | None) -> LogShippingArgs:
    """Fluent Bit's own metrics are scraped whenever the environment has monitoring, unless config says otherwise."""
    if monitoring is None or "service_monitor" in logging.model_fields_set:
        return logging
    return logging.model_copy(update={"service_monitor": True})


def ingress_controller_args(ingress: IngressControllerArgs, monitoring: MonitoringArgs | None) -> IngressControllerArgs:
    """The controller's own metrics are scraped whenever the environment has monitoring, unless config says so."""
    if monitoring is None or "service_monitor" in ingress.model_fields_set:
        return ingress
    return ingress.model_copy(update={"service_monitor": True})


def _first_message(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        details = errors(include_url=False)
        if details:
            return str(details[0]["msg"]).removeprefix("Value error, ")
    return str(error)
