"""Reading a Pulumi project and one stack's config the way the CLI would, without the CLI."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .inputs import CONFIG_LIMIT, InputError, load_yaml

__all__ = ["ProjectError", "StackInputs", "load_stack", "placeholder"]

#: The top-level keys of a stack settings file (Pulumi.<stack>.yaml).
_STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")

#: Types the Pulumi project file's ``config:`` schema block can declare.
_SCHEMA_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "boolean": (bool,), "array": (list,)}


class ProjectError(Exception):
    """The project folder, its project file or a stack file is missing or malformed."""


@dataclass(frozen=True)
class StackInputs:
    """What the CLI would hand the program: config strings, secret keys, and what we substituted."""

    project: str
    stack: str
    directory: Path
    main: Path
    config: dict[str, str]
    secret_keys: list[str]
    placeholders: list[str] = field(default_factory=list)
    """Config keys whose ``secure:`` value could not be decrypted and was replaced by a placeholder."""


def placeholder(key: str) -> str:
    """The clearly marked stand-in for a ``secure:`` value that cannot be decrypted offline."""
    return f"<stackyard: secure value of {key} not decrypted offline>"


def load_stack(directory: Path, stack: str, secrets: Mapping[str, str] | None = None) -> StackInputs:
    """Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` from ``directory``.

    ``secrets`` supplies plain values for ``secure:`` keys (``project:key`` → value), for callers that
    hold them (a vault, a test); they stay secret in the program and are redacted in every export.
    Keys without a value get a marked placeholder.
    """
    directory = directory.resolve()
    project_file = _find_project_file(directory)
    project_doc = _read_yaml(project_file)
    name = project_doc.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError(f"{project_file}: 'name' must be the project name")
    runtime = project_doc.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProjectError(f"{project_file}: runtime is {runtime_name!r}; only 'python' projects can be rendered")
    main = _main_file(directory, project_doc.get("main"), project_file)
    stack_file = _stack_file(directory, project_doc, stack)
    stack_doc = _read_yaml(stack_file)
    _check_stack_file_keys(stack_file, stack_doc)
    config, secret_keys, placeholders = _stack_config(name, stack_file, stack_doc.get("config") or {})
    _apply_project_defaults(name, project_file, project_doc.get("config") or {}, config)
    for key, value in (secrets or {}).items():
        if key not in secret_keys:
            raise ProjectError(f"{stack_file}: {key} is not a secure: value in this stack, so it cannot be supplied")
        config[key] = value
        placeholders.remove(key)
    return StackInputs(
        project=name,
        stack=stack,
        directory=directory,
        main=main,
        config=config,
        secret_keys=secret_keys,
        placeholders=placeholders,
    )


def _available_stacks(directory: Path) -> list[str]:
    """The stacks that have a ``Pulumi.<stack>.yaml`` beside the project file."""
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in directory.glob("Pulumi.*.yaml"))


def _find_project_file(directory: Path) -> Path:
    for candidate in ("Pulumi.yaml", "Pulumi.yml"):
        if (directory / candidate).is_file():
            return directory / candidate
    raise ProjectError(f"{directory}: no Pulumi.yaml here; pass --project with a Pulumi project folder")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = load_yaml(path, CONFIG_LIMIT)
    except InputError as error:
        raise ProjectError(str(error)) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ProjectError(f"{path}: expected a mapping at the top level")
    return document


def _main_file(directory: Path, main: object, project_file: Path) -> Path:
    base = directory / main if isinstance(main, str) else directory
    target = base / "__main__.py" if base.is_dir() else base
    if not target.is_file():
        raise ProjectError(f"{project_file}: the program {target} does not exist")
    return target


def _stack_file(directory: Path, project_doc: dict[str, Any], stack: str) -> Path:
    config_dir = project_doc.get("stackConfigDir")
    folder = directory / config_dir if isinstance(config_dir, str) else directory
    path = folder / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        stacks = _available_stacks(folder)
        raise ProjectError(f"stack {stack!r}: {path} does not exist; stacks here: {', '.join(stacks) or 'none'}")
    return path


def _check_stack_file_keys(stack_file: Path, document: dict[str, Any]) -> None:
    for key in document:
        if key not in _STACK_FILE_KEYS:
            close = difflib.get_close_matches(str(key), _STACK_FILE_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ProjectError(
                f"{stack_file}: unknown top-level key {key!r}; {hint}known keys: {', '.join(_STACK_FILE_KEYS)}"
            )


def _stack_config(project: str, stack_file: Path, raw: object) -> tuple[dict[str, str], list[str], list[str]]:
    if not isinstance(raw, dict):
        raise ProjectError(f"{stack_file}: 'config' must be a mapping of keys to values")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    placeholders: list[str] = []
    for key, value in raw.items():
        full_key = str(key) if ":" in str(key) else f"{project}:{key}"
        if _is_secure(value):
            config[full_key] = placeholder(full_key)
            secret_keys.append(full_key)
            placeholders.append(full_key)
        elif _contains_secure(value):
            raise ProjectError(
                f"{stack_file}: {full_key}: secure values nested inside a structured value are not supported "
                "offline; give each secret its own top-level key"
            )
        else:
            config[full_key] = _config_string(value)
    return config, sorted(secret_keys), sorted(placeholders)


def _apply_project_defaults(project: str, project_file: Path, schema: object, config: dict[str, str]) -> None:
    if not isinstance(schema, dict):
        raise ProjectError(f"{project_file}: 'config' must be a mapping")
    for key, declaration in schema.items():
        full_key = str(key) if ":" in str(key) else f"{project}:{key}"
        if not isinstance(declaration, dict):
            config.setdefault(full_key, _config_string(declaration))
            continue
        if "value" in declaration:
            config.setdefault(full_key, _config_string(declaration["value"]))
        elif "default" in declaration:
            config.setdefault(full_key, _config_string(declaration["default"]))
        declared = declaration.get("type")
        if declared in _SCHEMA_TYPES and full_key in config:
            _check_declared_type(full_key, declared, config[full_key])


def _check_declared_type(key: str, declared: str, text: str) -> None:
    if declared == "string":
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    if (isinstance(value, bool) and declared == "integer") or not isinstance(value, _SCHEMA_TYPES[declared]):
        raise ProjectError(f"{key}: {text!r} does not match the type {declared!r} declared in Pulumi.yaml")


def _is_secure(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _contains_secure(value: object) -> bool:
    if _is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secure(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_secure(item) for item in value)
    return False


def _config_string(value: object) -> str:
    """Config as the CLI passes it: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
