"""The environment's network-intent compiler: every problem at once, then both ends of each intent."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import components
from components import (
    AppArgs,
    EgressRule,
    IngressRule,
    Port,
    Problem,
    ProblemsError,
    Route,
    compile_network_intents,
    network_intent_problems,
)
from stackyard import mockrt
from tests.conftest import ROOT, Objects


def app(name: str, port: int = 8080, **fields: Any) -> AppArgs:
    return AppArgs(namespace="shop", name=name, image=f"ghcr.io/x/{name}:1", port=port, **fields)


class TestProblems:
    def test_two_bad_egress_targets_are_two_problems_with_their_key_paths(self) -> None:
        apps = [
            app("web", egress=[EgressRule.to_app("ghost")]),
            app("api", port=9000, egress=[EgressRule.to_app("web", ports=[Port.tcp(81)])]),
        ]
        assert network_intent_problems(apps) == [
            Problem("apps[0].egress[0]", "app 'ghost' does not exist in this environment; apps: ['api', 'web']"),
            Problem(
                "apps[1].egress[0]",
                "port 81 is not a port of app 'web' (it listens on 8080), so the rule can never match",
            ),
        ]

    def test_compiling_raises_every_problem_together(self) -> None:
        apps = [app("web", egress=[EgressRule.to_app("ghost"), EgressRule.to_app("phantom")])]
        with pytest.raises(ProblemsError) as raised:
            compile_network_intents(apps)
        assert [problem.path for problem in raised.value.problems] == ["apps[0].egress[0]", "apps[0].egress[1]"]
        assert str(raised.value).splitlines() == [
            "2 problems:",
            "  - apps[0].egress[0]: app 'ghost' does not exist in this environment; apps: ['web']",
            "  - apps[0].egress[1]: app 'phantom' does not exist in this environment; apps: ['web']",
        ]

    def test_an_ingress_rule_from_a_missing_app_is_a_problem(self) -> None:
        (problem,) = network_intent_problems([app("web", ingress=[IngressRule.from_app("ghost")])])
        assert problem.path == "apps[0].ingress[0]"

    def test_apps_of_other_namespaces_are_not_ours_to_check(self) -> None:
        apps = [app("web", egress=[EgressRule.to_app("ghost", namespace="other")])]
        assert network_intent_problems(apps) == []

    def test_a_port_range_that_covers_the_callee_is_fine(self) -> None:
        apps = [app("web", egress=[EgressRule.to_app("api", ports=[Port(port=9000, end_port=9100)])]), app("api", 9050)]
        assert network_intent_problems(apps) == []

    def test_routes_need_an_ingress_controller_on_every_routed_app(self) -> None:
        routes = {"web": Route(host="shop.example.com"), "api": Route(host="api.example.com")}
        problems = network_intent_problems([app("web"), app("api")], routes)
        assert [problem.path for problem in problems] == ["apps[0].route", "apps[1].route"]
        assert {problem.message for problem in problems} == {
            "routes need an ingress controller, and none is configured"
        }

    def test_a_host_and_path_is_claimed_once(self) -> None:
        routes = {
            "web": Route(host="shop.example.com", paths=["/", "/api"]),
            "api": Route(host="shop.example.com", paths=["/api"]),
        }
        assert network_intent_problems([app("web"), app("api")], routes, ingress_namespace="ingress") == [
            Problem("apps[1].route", "host 'shop.example.com' path '/api' is already claimed by app 'web'")
        ]


class TestCompiling:
    def test_an_egress_intent_becomes_both_ends_on_the_callees_port(self) -> None:
        web, api = compile_network_intents([app("web", egress=[EgressRule.to_app("api")]), app("api", port=9000)])
        assert web.egress == [EgressRule.to_app("api", ports=[Port.tcp(9000)])]
        assert api.ingress == [IngressRule.from_app("web", ports=[Port.tcp(9000)])]

    def test_explicit_ports_are_kept_on_both_ends(self) -> None:
        ports = [Port(port=9000, end_port=9001)]
        web, api = compile_network_intents(
            [app("web", egress=[EgressRule.to_app("api", ports=ports)]), app("api", 9000)]
        )
        assert web.egress[0].ports == ports
        assert api.ingress == [IngressRule.from_app("web", ports=ports)]

    def test_routed_apps_accept_the_controller_and_metrics_ports_accept_monitoring(self) -> None:
        (web,) = compile_network_intents(
            [app("web", metrics_port=9090)],
            {"web": Route(host="shop.example.com")},
            ingress_namespace="ingress",
            monitoring_namespace="monitoring",
        )
        assert web.ingress == [
            IngressRule.from_namespace("ingress", ports=[Port.tcp(8080)]),
            IngressRule.from_namespace("monitoring", ports=[Port.tcp(9090)]),
        ]

    def test_rules_to_cidrs_and_other_namespaces_pass_through_unchanged(self) -> None:
        rules = [EgressRule.to_cidr("10.0.0.0/24", ports=[Port.tcp(5432)]), EgressRule.to_app("mq", namespace="q")]
        (web,) = compile_network_intents([app("web", egress=rules)])
        assert web.egress == rules
        assert web.ingress == []

    def test_the_callers_args_are_not_changed_and_extra_fields_are_dropped(self) -> None:
        class RoutedApp(AppArgs):
            route: Route | None = None

        caller = RoutedApp(
            namespace="shop", name="web", image="ghcr.io/x/web:1", egress=[EgressRule.to_app("web")], route=None
        )
        (compiled,) = compile_network_intents([caller])
        assert caller.egress[0].ports == []
        assert type(compiled) is AppArgs
        assert compiled.egress[0].ports == [Port.tcp(8080)]


class TestConsumerExample:
    """examples/consumer, the published library's own example, compiles its intents through the library."""

    def test_the_workers_call_opens_the_api_to_the_worker_only(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "stackyard_components", components)
        example = ROOT / "examples" / "consumer"
        run = mockrt.evaluate(
            lambda: runpy.run_path(str(example / "__main__.py"), run_name="__main__"),
            project="orders",
            stack="dev",
            config=_stack_config(example / "Pulumi.dev.yaml"),
            secret_keys=[],
        )
        policies = {
            body["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]: body["spec"]
            for body in Objects(run).of_kind("NetworkPolicy")
            if body["spec"]["podSelector"].get("matchLabels")
        }
        on_the_api_port = [{"port": 8080, "protocol": "TCP"}]
        assert policies["orders-api"]["ingress"] == [
            {
                "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-worker"}}}],
                "ports": on_the_api_port,
            }
        ]
        assert {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"}}}],
            "ports": on_the_api_port,
        } in policies["orders-worker"]["egress"]
        assert policies["orders-worker"].get("ingress", []) == []


def _stack_config(path: Path) -> dict[str, str]:
    values = yaml.safe_load(path.read_text())["config"]
    return {key: str(value) for key, value in values.items()}
