"""The first-party packages import one way: no module imports, directly or through others, itself.

A cycle is how a layer starts to leak (stacks/config.py once imported networking.py, which
imported config.py back). Every import counts, including those under ``TYPE_CHECKING``: a cycle
that only the type checker sees is still two modules that cannot be understood apart.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("components", "stacks", "stackyard", "policy")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def imported(module: str, path: Path) -> Iterator[str]:
    """The first-party modules ``module`` imports, resolved from absolute and relative imports."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # ``from . import labels`` depends on the submodule, not on the package's __init__.
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in MODULES else base


def graph() -> dict[str, set[str]]:
    return {
        module: {name for name in imported(module, path) if name in MODULES and name != module}
        for module, path in MODULES.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_every_package_and_their_known_imports() -> None:
    edges = graph()
    assert {module.split(".")[0] for module in edges} == set(PACKAGES)
    # Known edges, so that a resolver that found nothing would fail here rather than pass below.
    assert "stacks.model" in edges["stacks.loader"]
    assert "components.workload" in edges["components.network_intents"]
    assert "stackyard.mockrt" in edges["stackyard.render"]


def test_no_first_party_module_imports_itself_through_others() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_cycle_finder_finds_cycles(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(edges) == expected


#: Which packages each package may import. The program (stacks/, on components/ and the policies'
#: secret rules) runs under the real engine from a copy that holds no tooling, so it can never
#: import stackyard/; the library and the policies stand alone, as the wheel publishes them.
LAYERS = {
    "components": {"components"},
    "policy": {"policy"},
    "stacks": {"stacks", "components", "policy"},
    "stackyard": {"stackyard", "policy"},
}


def test_each_package_imports_only_the_layers_below_it() -> None:
    crossings = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if target.split(".")[0] not in LAYERS[module.split(".")[0]]
    )
    assert crossings == []
