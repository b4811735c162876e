"""One public surface: every module says what it exports in ``__all__``, and says all of it.

A name without a leading underscore is a promise to whoever imports it. So each module's
``__all__`` lists exactly its public top-level names (those it defines, and those it re-exports
as ``from x import Name as Name``); a helper nobody else may use starts with an underscore. Each
package's own namespace holds exactly its ``__all__``, besides its submodules.
"""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("components", "stacks", "stackyard", "policy")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}
#: Scripts run as programs, not imported: they export nothing.
SCRIPTS = {"policy.__main__"}


def public_top_level_names(tree: ast.Module) -> set[str]:
    """Names the module defines at the top level, or re-exports on purpose (``import x as x``)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif (isinstance(node, ast.ImportFrom) and not node.level) or isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names if alias.asname == alias.name)
    return {name for name in names if not name.startswith("_")}


def imported_names(tree: ast.Module) -> set[str]:
    """Every name the module imports (also under ``try``), under the name it binds."""
    return {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }


def declared_all(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id == "__all__" for target in targets):
                assert node.value is not None
                value = ast.literal_eval(node.value)
                assert isinstance(value, list)
                return [str(name) for name in value]
    return None


@pytest.mark.parametrize("module", sorted(set(SOURCES) - SCRIPTS))
def test_every_module_declares_exactly_its_public_names(module: str) -> None:
    tree = ast.parse(SOURCES[module].read_text())
    declared = declared_all(tree)
    public = public_top_level_names(tree)
    if SOURCES[module].name == "__init__.py":
        assert declared is not None, f"{module} has no __all__"
        return  # a package's __all__ names what it imports from its modules: checked below
    if not public and not declared:
        return
    assert declared is not None, f"{module} has no __all__; its public names are {sorted(public)}"
    assert len(declared) == len(set(declared)), f"{module}.__all__ lists a name twice"
    unlisted = public - set(declared)
    assert not unlisted, f"{module}: public but not in __all__ (list it, or prefix it with _): {sorted(unlisted)}"
    # A module may also publish what it imports (a re-export), but only what it has.
    unknown = set(declared) - public - imported_names(tree)
    assert not unknown, f"{module}.__all__ names what it neither defines nor imports: {sorted(unknown)}"


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_namespace_holds_exactly_its_all(package: str) -> None:
    imported = importlib.import_module(package)
    public = {
        name
        for name, value in vars(imported).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert public == {name for name in imported.__all__ if not name.startswith("__")}


def test_the_rule_sees_definitions_reexports_and_skips_private_names() -> None:
    tree = ast.parse(
        "from x import A as A\nfrom x import B\nimport os\nC = 1\n_D = 2\ndef e(): ...\nclass F: ...\ndef _g(): ...\n"
    )
    assert public_top_level_names(tree) == {"A", "C", "e", "F"}
