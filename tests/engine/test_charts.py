"""The charts' own objects, expanded by the real provider: what each brings, its hooks, its pods' admission."""

from __future__ import annotations

from e2e import charts
from tests.conftest import ROOT, STACKS
from tests.engine.conftest import StackCycle
from tests.golden import check_golden


def reports(cycles: dict[str, StackCycle]) -> dict[str, list[charts.ChartReport]]:
    return {stack: report(cycles[stack]) for stack in STACKS}


def report(cycle: StackCycle) -> list[charts.ChartReport]:
    return charts.report(cycle.state_after_up, cycle.provider_render, cycle.stackyard_records)


def test_every_chart_of_every_stack_brings_objects_and_is_judged(cycles: dict[str, StackCycle]) -> None:
    found = reports(cycles)
    for stack, stack_reports in found.items():
        assert [report.release for report in stack_reports] == ["kube-prometheus-stack", "traefik"], stack
        for report in stack_reports:
            assert sum(report.objects.values()) > 5, (stack, report.release)
            assert report.pods, (stack, report.release)


def test_kube_prometheus_stacks_admission_hooks_are_known_to_be_dropped(cycles: dict[str, StackCycle]) -> None:
    (monitoring, _) = report(cycles["dev"])
    hooked = {hook.template for hook in monitoring.hooks}
    assert any("admission-webhooks" in template for template in hooked), hooked


def test_traefiks_pods_are_admitted_at_restricted(cycles: dict[str, StackCycle]) -> None:
    (_, traefik) = reports(cycles)["prod"]
    assert traefik.level == "restricted"
    assert [pod for pod, problems in traefik.pods.items() if problems] == []


def test_the_chart_report_is_the_reviewed_one(cycles: dict[str, StackCycle]) -> None:
    check_golden(ROOT / "docs" / "charts.md", charts.markdown(reports(cycles)))


def test_our_controller_service_monitor_selects_the_charts_metrics_service(cycles: dict[str, StackCycle]) -> None:
    """The selector is written against the chart's templates; here the provider's render of the chart judges it."""
    objects = [body for body in cycles["prod"].provider_render.values() if isinstance(body, dict)]
    (monitor,) = [o for o in objects if o.get("kind") == "ServiceMonitor" and o["metadata"]["namespace"] == "ingress"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    selected = [
        o
        for o in objects
        if o.get("kind") == "Service"
        and o["metadata"]["namespace"] == "ingress"
        and selector.items() <= (o["metadata"].get("labels") or {}).items()
    ]
    assert [[port["name"] for port in s["spec"]["ports"]] for s in selected] == [["metrics"]]
