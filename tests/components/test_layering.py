"""The import rule inside components/: a component module imports only the private kit, the
libraries beside it, and the component modules it composes; and no import cycle.

"Composes" is read from the code: the importer instantiates (or subclasses) a ComponentResource
of the imported module, or uses one of its models or types in an annotation (an args field, or a
parameter of a compiler such as a network-intent compiler). A sibling's helper, constant or
validator is not a reason to import it: whatever two components share belongs in the kit.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "components"

#: Leaf modules that hold no component, which any module of components/ may import. They import
#: only each other, so nothing can reach a component through them.
LIBRARIES = {
    "_kit": "the private kit: what several components share (a package; its modules count as one)",
    "validation": "Kubernetes value rules",
    "labels": "the recommended labels",
    "_version": "the package version",
    "fluent_bit_config": "Fluent Bit's configuration language, pure (no pulumi)",
    "chart": "pinned Helm charts, installed without hooks (pure of components; e2e/ reads its pins)",
    "problems": "what a whole-configuration check found (a key path and a message), a public value type",
}

#: Who composes whom, as the code has it today; a test keeps this map equal to the code. A new
#: module that composes others adds its line here.
COMPOSES: dict[str, set[str]] = {
    "app_monitoring": set(),
    "gateway": set(),
    # AppNamespace for its namespace, PodSecurity and ApiServerAccess as fields, and its own
    # per-implementation facts (Implementation and ServiceType are its fields' types).
    "ingress_controller": {"namespace", "network_policy", "ingress_implementations"},
    # Each implementation's Profile carries the PodSecurity its namespace needs.
    "ingress_implementations": {"namespace"},
    # AppNamespace for the logging namespace; PodSecurity and ApiServerAccess as fields.
    "log_shipping": {"namespace", "network_policy"},
    # AppNamespace for the monitoring namespace; PodSecurity and ApiServerAccess as fields.
    "monitoring": {"namespace", "network_policy"},
    "namespace": set(),
    # The environment's network-intent compiler takes AppArgs, their EgressRule/IngressRule/Port
    # and each app's Route.
    "network_intents": {"workload", "network_policy", "routing"},
    "network_policy": set(),
    # Publishes App and AppNamespace to other Pulumi languages by subclassing them.
    "provider": {"namespace", "workload"},
    "routing": set(),
    "secret": set(),
    # AppArgs.ingress and .egress are lists of IngressRule and EgressRule.
    "workload": {"network_policy"},
}


@dataclass
class Module:
    """One module of components/, as its imports and annotations show it."""

    name: str
    tree: ast.Module
    #: imported module (top-level name under components/) -> names used from it
    uses: dict[str, set[str]] = field(default_factory=dict)


def top_level(dotted: str) -> str:
    """``_kit.args`` counts as ``_kit``; a top-level module as itself."""
    return dotted.split(".", maxsplit=1)[0]


def load(path: Path) -> Module:
    relative = path.relative_to(PACKAGE).with_suffix("")
    parts = [part for part in relative.parts if part != "__init__"]
    module = Module(".".join(parts), ast.parse(path.read_text(), filename=str(path)))
    package = parts[:-1] if path.name != "__init__.py" else parts
    aliases: dict[str, str] = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[: len(package) - (node.level - 1)]
            if node.module is None:  # from . import x: x is a module
                for alias in node.names:
                    target = ".".join([*base, alias.name])
                    aliases[alias.asname or alias.name] = target
                    module.uses.setdefault(target, set())
            else:
                target = ".".join([*base, node.module])
                module.uses.setdefault(target, set()).update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            assert not any(name.split(".")[0] in ("components", "stackyard_components") for name in names), (
                f"components/{path.relative_to(PACKAGE)} imports its own package absolutely; use a relative import"
            )
    for node in ast.walk(module.tree):  # module.attribute uses, e.g. workload.App
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            module.uses[aliases[node.value.id]].add(node.attr)
    return module


MODULES = {module.name: module for module in map(load, sorted(PACKAGE.rglob("*.py")))}


def component_classes(module: Module) -> set[str]:
    return {
        node.name
        for node in ast.walk(module.tree)
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(base).endswith("ComponentResource") for base in node.bases)
    }


def annotation_names(module: Module) -> set[str]:
    annotations: list[ast.expr] = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.AnnAssign | ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef) and node.returns is not None:
            annotations.append(node.returns)
    names: set[str] = set()
    for annotation in annotations:
        for inner in ast.walk(annotation):
            if isinstance(inner, ast.Name):
                names.add(inner.id)
            elif isinstance(inner, ast.Attribute):
                names.add(inner.attr)
            elif isinstance(inner, ast.Constant) and isinstance(inner.value, str):  # a quoted annotation
                names.update(ast.unparse(n) for n in ast.walk(ast.parse(inner.value)) if isinstance(n, ast.Name))
    return names


def composes(importer: Module, target: Module) -> bool:
    """Whether ``importer`` instantiates or subclasses a component of ``target``, or uses one of its
    models or types in an annotation."""
    used = importer.uses.get(target.name, set())
    return bool(used & component_classes(target)) or bool(used & annotation_names(importer))


def component_imports(module: Module) -> set[str]:
    """The top-level modules of components/ that ``module`` imports, the kit's as one."""
    return {top_level(target) for target in module.uses} - {top_level(module.name)}


def components_of(module: Module) -> set[str]:
    return component_imports(module) - set(LIBRARIES)


def is_library(name: str) -> bool:
    return top_level(name) in LIBRARIES


class TestImportRule:
    def test_a_component_module_imports_only_libraries_and_what_it_composes(self) -> None:
        problems = []
        for module in MODULES.values():
            if is_library(module.name) or module.name == "":  # "" is the package's __init__, the public surface
                continue
            for target in sorted(components_of(module)):
                if not composes(module, MODULES[target]):
                    used = ", ".join(sorted(module.uses[target])) or "the module"
                    problems.append(
                        f"components/{module.name}.py imports {used} from components.{target}, which it does not "
                        f"compose (no component of it is created, no model of it is a field or parameter type): "
                        "move what they share into components/_kit/"
                    )
        assert problems == [], "\n".join(problems)

    def test_libraries_import_only_libraries(self) -> None:
        problems = [
            f"components/{module.name.replace('.', '/')}.py imports components.{target}, which is not a library: "
            f"libraries ({', '.join(sorted(LIBRARIES))}) must not reach a component"
            for module in MODULES.values()
            if is_library(module.name)
            for target in sorted(components_of(module))
        ]
        assert problems == [], "\n".join(problems)

    def test_the_map_of_who_composes_whom_is_the_codes(self) -> None:
        actual = {
            module.name: components_of(module)
            for module in MODULES.values()
            if not is_library(module.name) and module.name != ""
        }
        missing = [
            f'components/{name}.py imports {sorted(actual[name])}: add "{name}": {sorted(actual[name])} to COMPOSES'
            for name in sorted(set(actual) - set(COMPOSES))
        ]
        assert missing == [], "\n".join(missing)
        differences = [
            f"components/{name}.py composes {sorted(actual.get(name, set()))}, but COMPOSES says {sorted(allowed)}"
            for name, allowed in sorted(COMPOSES.items())
            if actual.get(name) != allowed
        ]
        assert differences == [], "\n".join(differences)

    def test_the_fluent_bit_config_language_imports_no_pulumi(self) -> None:
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(MODULES["fluent_bit_config"].tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(MODULES["fluent_bit_config"].tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0
        }
        assert not {"pulumi", "pulumi_kubernetes"} & imported

    def test_no_module_of_components_is_part_of_an_import_cycle(self) -> None:
        graph = {
            name: {target for target in module.uses if target in MODULES and target != name}
            for name, module in MODULES.items()
        }
        done: set[str] = set()

        def visit(name: str, path: list[str]) -> None:
            if name in path:
                cycle = " -> ".join([*path[path.index(name) :], name])
                raise AssertionError(f"import cycle in components/: {cycle}")
            if name in done:
                return
            for target in sorted(graph[name]):
                visit(target, [*path, name])
            done.add(name)

        for name in sorted(graph):
            visit(name, [])
