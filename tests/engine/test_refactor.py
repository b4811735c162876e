"""Refactor safety on the real engine: a move covered by aliases replaces nothing.

After ``up``, the copy of the program is edited the way a maintainer would: the App component's
type token moves to another module namespace, and its Deployment gets a new logical name. With
the aliases added in the same change, ``pulumi preview`` must plan no create, delete or replace.
The same edit without the aliases must plan replacements, or the check would prove nothing.
"""

from __future__ import annotations

from pathlib import Path

from e2e.engine import Toolchain, Workspace, workspace
from tests.engine.conftest import prepared

MOVES = {
    'TYPE_TOKEN = "stackyard:index:App"': 'TYPE_TOKEN = "stackyard:workload:App"',
    "        deployment = apps.Deployment(\n            name,\n": (
        '        deployment = apps.Deployment(\n            f"{name}-deployment",\n'
    ),
}
ALIASES = {
    "super().__init__(TYPE_TOKEN, name, None, opts)": (
        "super().__init__(TYPE_TOKEN, name, None, pulumi.ResourceOptions.merge(opts, "
        'pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="stackyard:index:App")])))'
    ),
    "pulumi.ResourceOptions(depends_on=[account, *([env_map] if env_map else [])])": (
        "pulumi.ResourceOptions(depends_on=[account, *([env_map] if env_map else [])], "
        "aliases=[pulumi.Alias(name=name)])"
    ),
}


def edit(path: Path, replacements: dict[str, str]) -> None:
    text = path.read_text()
    for old, new in replacements.items():
        assert text.count(old) == 1, f"the refactor no longer applies to {path.name}: {old!r}"
        text = text.replace(old, new)
    path.write_text(text)


def deployed_dev(ws: Workspace) -> Path:
    prepared(ws, "dev")
    ws.pulumi("up", "--yes", "--stack", "dev")
    return ws.project / "components" / "workload.py"


def test_a_move_covered_by_aliases_plans_no_create_delete_or_replace(tools: Toolchain) -> None:
    with workspace(tools) as ws:
        workload = deployed_dev(ws)
        edit(workload, {**MOVES, **ALIASES})
        summary = ws.preview_summary("dev")
    assert {operation: count for operation, count in summary.items() if operation != "same"} == {}
    assert summary["same"] > 100


def test_the_same_move_without_aliases_would_replace_the_apps(tools: Toolchain) -> None:
    with workspace(tools) as ws:
        workload = deployed_dev(ws)
        edit(workload, MOVES)
        summary = ws.preview_summary("dev")
    assert summary.get("create", 0) >= 3
    assert summary.get("delete", 0) >= 3
