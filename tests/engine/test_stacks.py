"""Every stack on the real Pulumi engine and Kubernetes provider, in render mode (renderDir).

Each stack is previewed, deployed (the provider writes YAML instead of talking to a cluster),
previewed again, and destroyed; the provider's YAML is compared with ``stackyard render``.
"""

from __future__ import annotations

import base64

import pytest

from e2e import parity
from e2e.engine import canary, secure_keys
from tests.engine.conftest import StackCycle

CHART_TYPES = ("kubernetes:helm.sh/v4:Chart", "kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup")


def _object_key(body: dict[str, object]) -> tuple[str, str, str, str]:
    metadata = body.get("metadata") or {}
    assert isinstance(metadata, dict)
    return (
        str(body.get("apiVersion")),
        str(body.get("kind")),
        str(metadata.get("namespace") or ""),
        str(metadata.get("name")),
    )


class TestRenderMode:
    def test_preview_plans_every_resource_that_up_then_holds(self, cycle: StackCycle) -> None:
        planned = cycle.preview_summary
        assert set(planned) == {"create"}, planned
        assert planned["create"] == len(cycle.state_after_up) - 1  # the default provider is not planned

    def test_the_second_preview_expects_no_changes(self, cycle: StackCycle) -> None:
        assert cycle.second_preview.returncode == 0
        assert set(cycle.second_preview_summary) == {"same"}
        assert cycle.second_preview_summary["same"] == cycle.preview_summary["create"]

    def test_every_object_the_program_registers_is_rendered_identically(self, cycle: StackCycle) -> None:
        comparison = cycle.comparison
        assert comparison.missing == []
        assert comparison.differing == {}
        assert len(cycle.stackyard_render) > 20

    def test_the_only_differences_are_the_allowed_redacted_secrets(self, cycle: StackCycle) -> None:
        comparison = cycle.comparison
        secrets = sorted(path for path, body in cycle.stackyard_render.items() if body.get("kind") == "Secret")
        assert secrets, "every example stack creates Secrets"
        assert sorted(comparison.allowed) == secrets
        assert [rule.kind for rule in parity.ALLOWED] == ["Secret"]

    def test_every_object_only_the_provider_writes_belongs_to_a_chart_or_remote_file(self, cycle: StackCycle) -> None:
        by_urn = {resource["urn"]: resource for resource in cycle.state_after_up}

        def owner(urn: str) -> str | None:
            parent = by_urn[urn].get("parent")
            while parent:
                if by_urn[parent]["type"] in CHART_TYPES:
                    return str(parent)
                parent = by_urn[parent].get("parent")
            return None

        owned = {
            _object_key(resource["inputs"]): owner(resource["urn"])
            for resource in cycle.state_after_up
            if resource["type"].startswith("kubernetes:") and "kind" in (resource.get("inputs") or {})
        }
        only_provider = [_object_key(cycle.provider_render[path]) for path in cycle.comparison.only_provider]
        assert only_provider, "the charts expand into objects"
        assert [key for key in only_provider if owned.get(key) is None] == []

    def test_destroy_leaves_an_empty_stack_and_an_empty_render_folder(self, cycle: StackCycle) -> None:
        assert cycle.destroy.returncode == 0
        assert cycle.state_after_destroy == []
        assert cycle.render_files_after_destroy == []


class TestSecrets:
    def test_secret_values_reach_only_the_providers_secrets(self, cycle: StackCycle) -> None:
        values = [canary(cycle.stack, key) for key in secure_keys(cycle.stack)]
        forms = values + [base64.b64encode(value.encode()).decode() for value in values]
        carriers = {path for path, text in cycle.provider_text.items() if any(form in text for form in forms)}
        secrets = {path for path, body in cycle.provider_render.items() if body.get("kind") == "Secret"}
        assert carriers, "in render mode the provider writes Secret values (base64 data)"
        assert carriers <= secrets

    def test_no_secret_value_reaches_stackyards_export_or_the_state(self, cycle: StackCycle) -> None:
        values = [canary(cycle.stack, key) for key in secure_keys(cycle.stack)]
        assert values
        assert [value for value in values if value in cycle.stackyard_text] == []
        assert [value for value in values if value in cycle.backend_text] == []


@pytest.mark.parametrize("step", ["preview", "up", "second_preview", "destroy"])
def test_no_step_of_any_stack_errors(cycle: StackCycle, step: str) -> None:
    result = getattr(cycle, step)
    assert result.returncode == 0
    assert "error:" not in result.stderr
