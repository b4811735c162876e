"""The checks across a stack's config: each returns its problems by key path, none raises."""

from __future__ import annotations

from typing import Any

import pytest

from components import Problem
from stacks.checks import CHECKS, stack_problems
from stacks.loader import parse_stack_config
from stacks.model import StackConfig
from stackyard.project import load_stack
from tests.conftest import ROOT, STACKS


def settings_of(stack: str) -> StackConfig:
    inputs = load_stack(ROOT, stack)
    prefix = f"{inputs.project}:"
    raw = {key.removeprefix(prefix): value for key, value in inputs.config.items()}
    secret_keys = [key.removeprefix(prefix) for key in inputs.secret_keys]
    return parse_stack_config(inputs.project, raw, secret_keys)


def changed(settings: StackConfig, **update: Any) -> StackConfig:
    """A copy with ``update`` applied and no validation: a model the checks must still survive."""
    return settings.model_copy(update=update)


@pytest.mark.parametrize("stack", STACKS)
def test_the_example_stacks_have_no_problems(stack: str) -> None:
    assert stack_problems(settings_of(stack)) == []


def test_problems_of_several_checks_come_back_together_in_check_order() -> None:
    dev = settings_of("dev")
    secret = dev.secrets[0].model_copy(update={"namespace": "kube-system"})
    broken = changed(dev, ingress=None, platform="shared", secrets=[secret, *dev.secrets[1:]])
    assert [problem.path for problem in stack_problems(broken)] == [
        "logging",  # environment_or_platform: a shared platform ships the logs
        "apps[1].metricsPort",  # shared_platform_scrapes_the_apps: 9102 and 9090 are not scrape ports
        "apps[2].metricsPort",
        "apps[0].route",  # network_intents_resolve: no controller for the routes
        "apps[1].route",
        "secrets[0].namespace",  # secrets_in_known_namespaces
    ]


def test_every_check_returns_problems_and_never_raises_on_an_inconsistent_model() -> None:
    dev = settings_of("dev")
    nonsense = changed(dev, namespace=None, platform="shared", monitoring=None, ingress=None)
    for check in CHECKS:
        problems = check(nonsense)
        assert isinstance(problems, list)
        assert all(isinstance(problem, Problem) and problem.path for problem in problems), check.__name__
    assert {problem.path for problem in stack_problems(nonsense)} >= {
        "namespace",
        "logging",
        "apps[0].route",
        "apps[1].monitoring",
    }


def test_a_platform_stack_needs_a_platform_service() -> None:
    dev = settings_of("dev")
    empty = changed(dev, namespace=None, apps=[], secrets=[], ingress=None, logging=None, monitoring=None)
    assert stack_problems(empty) == [
        Problem(
            "namespace",
            "required; a stack without one is a platform stack, which needs at least one of ingress, logging "
            "and monitoring",
        )
    ]
