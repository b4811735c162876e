"""The components package's public surface: ``__all__`` is complete and truthful."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil

import pulumi
from pydantic import BaseModel

import components


def public_classes_defined_in_component_modules() -> set[str]:
    names: set[str] = set()
    for module_info in pkgutil.iter_modules(components.__path__):
        # provider.py re-publishes App and AppNamespace for other languages; it is not Python API.
        if module_info.name.startswith("_") or module_info.name in ("labels", "validation", "provider"):
            continue
        module = importlib.import_module(f"components.{module_info.name}")
        if module_info.name in ("network_intents", "problems"):  # functions and value types, by their __all__
            names.update(module.__all__)
            continue
        exported = explicit_reexports(inspect.getsource(module))
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isclass(value):
                continue
            if value.__module__ != module.__name__ and name not in exported:
                continue
            if issubclass(value, (pulumi.ComponentResource, BaseModel)):
                names.add(name)
    return names


def explicit_reexports(source: str) -> set[str]:
    """Names a module imports as ``from x import Name as Name``: the typing convention for a re-export.

    Shared value types (``Resources``, ``SecretKeyRef``) live in the private kit and are published
    from the component module that always published them, this way.
    """
    return {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name
    }


class TestPublicApi:
    def test_every_name_in_all_exists(self) -> None:
        missing = [name for name in components.__all__ if not hasattr(components, name)]
        assert missing == []

    def test_all_lists_every_component_and_args_model_and_nothing_else(self) -> None:
        assert set(components.__all__) - {"__version__"} == public_classes_defined_in_component_modules()

    def test_all_is_sorted_and_without_duplicates(self) -> None:
        names = [name for name in components.__all__ if not name.startswith("__")]
        assert names == sorted(set(names))
        assert len(set(components.__all__)) == len(components.__all__)

    def test_every_component_has_a_stable_type_token(self) -> None:
        for name in components.__all__:
            value = getattr(components, name)
            if isinstance(value, type) and issubclass(value, pulumi.ComponentResource):
                module = inspect.getmodule(value)
                assert module is not None
                assert f"stackyard:index:{name}" == module.TYPE_TOKEN
