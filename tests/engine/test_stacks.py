"""Every stack on the real Pulumi engine and Kubernetes provider, in render mode (renderDir).

Each stack is previewed, deployed (the provider writes YAML instead of talking to a cluster),
previewed again, and destroyed; the provider's YAML is compared with ``stackyard render``.
"""

from __future__ import annotations

import base64
from typing import Any

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


def _chart_owner(by_urn: dict[str, dict[str, Any]], urn: str) -> str | None:
    """The URN of the chart or remote file that ``urn`` descends from in the state, if any."""
    parent = by_urn[urn].get("parent")
    while parent:
        if by_urn[parent]["type"] in CHART_TYPES:
            return str(parent)
        parent = by_urn[parent].get("parent")
    return None


def _index_objects(cycle: StackCycle) -> list[dict[str, Any]]:
    """The Kubernetes objects among the files of stackyard's index (not its records or Kustomization)."""
    return [entry for entry in cycle.stackyard_index["files"] if "origin" in entry]


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

    def test_the_export_holds_every_object_the_provider_writes_the_charts_included(self, cycle: StackCycle) -> None:
        assert cycle.comparison.only_provider == []
        from_charts = [entry for entry in _index_objects(cycle) if entry["origin"]["kind"] != "program"]
        assert from_charts, "every example stack installs charts, whose objects the export holds"

    def test_each_chart_object_has_the_urn_the_engine_gives_it_under_its_chart(self, cycle: StackCycle) -> None:
        by_urn = {resource["urn"]: resource for resource in cycle.state_after_up}
        engine = {
            urn: owner
            for urn, resource in by_urn.items()
            if "kind" in (resource.get("inputs") or {}) and (owner := _chart_owner(by_urn, urn)) is not None
        }
        ours = {
            entry["urn"]: entry["origin"]["record"]
            for entry in _index_objects(cycle)
            if entry["origin"]["kind"] != "program"
        }
        assert sorted(ours) == sorted(engine)
        # Each object's record is its chart's: the one whose URN is the object's parent in the state.
        records = {record["urn"]: path for path, record in cycle.stackyard_records_by_path.items()}
        assert {urn: records.get(owner) for urn, owner in engine.items()} == ours

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
