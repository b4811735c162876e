"""The audit's policies are the policy pack's own, under the name it has wherever stackyard runs."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator

import pytest

import policy
from stackyard import policies


@pytest.fixture
def reloaded_afterwards() -> Iterator[None]:
    """Import ``stackyard.policies`` afresh after the test, as the repository has it."""
    try:
        yield
    finally:
        sys.modules.pop("stackyard_policy", None)
        importlib.reload(policies)


class TestPolicies:
    def test_in_the_repository_the_rules_are_the_policy_packs(self) -> None:
        assert policies.RULES is policy.RULES
        assert policies.evaluate is policy.evaluate
        assert policies.evaluate_charts is policy.evaluate_charts
        assert policies.Finding is policy.Finding

    @pytest.mark.usefixtures("reloaded_afterwards")
    def test_installed_the_wheels_package_name_is_used(self, monkeypatch: pytest.MonkeyPatch) -> None:
        installed = types.ModuleType("stackyard_policy")
        for name in ("RULES", "Finding", "evaluate", "evaluate_charts"):
            setattr(installed, name, object())
        monkeypatch.setitem(sys.modules, "stackyard_policy", installed)
        importlib.reload(policies)
        assert policies.RULES is installed.RULES
        assert policies.evaluate is installed.evaluate
