"""Loading the stack's configuration: raw config, then the model, then the checks, then one error.

Every ``<project>:*`` key is read once, parsed into :class:`~stacks.model.StackConfig`, and run
through every check, before any resource exists. Problems are reported together, one line each,
naming the config key path, the bad value and what is allowed; nothing raises half-way.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_origin

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from components import Problem

from .checks import stack_problems
from .errors import ConfigError
from .model import INHERITED_KEYS, StackConfig
from .secret_checks import missing_secret_keys, plain_secrets

__all__ = ["EnvironmentConfig", "load_stack_config", "parse_stack_config"]


@dataclass(frozen=True)
class EnvironmentConfig:
    """A validated stack config plus the secret values it refers to."""

    project: str
    stack: str
    settings: StackConfig
    secret_values: Mapping[str, pulumi.Output[str]]


def load_stack_config() -> EnvironmentConfig:
    """Read and validate this stack's ``<project>:*`` config; raise :class:`ConfigError` on any problem."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    raw = _project_config(project)
    settings = parse_stack_config(project, raw, _secret_config_keys(project))
    secret_values = _secret_values(project, settings)
    return EnvironmentConfig(project=project, stack=stack, settings=settings, secret_values=secret_values)


def parse_stack_config(project: str, raw: Mapping[str, str], secret_keys: Collection[str] = ()) -> StackConfig:
    """Validate raw config strings (``key`` without the project prefix) into a :class:`StackConfig`.

    ``secret_keys`` are the keys whose values are secrets (``secure:``); every other value that
    looks like a secret is refused. Raises :class:`ConfigError` with every problem found.
    """
    data, problems = _structured(raw)
    if problems:
        raise ConfigError([f"{project}:{problem}" for problem in problems])
    try:
        settings = StackConfig.model_validate(data)
    except ValidationError as error:
        problems = _model_problems(data, error.errors(include_url=False))
    else:
        problems = [
            *stack_problems(settings),
            *missing_secret_keys(project, settings, raw),
            *plain_secrets(project, data, settings, set(raw) - set(secret_keys)),
        ]
        if not problems:
            return settings
    raise ConfigError([f"{project}:{problem}" for problem in problems])


def _structured(raw: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """Each known key's value as the model takes it (structured ones parsed from YAML-as-JSON), and the
    keys that are unknown or not structured."""
    problems: list[Problem] = []
    data: dict[str, Any] = {}
    known = _aliases(StackConfig)
    referenced = _referenced_secret_keys(raw)
    for key, text in sorted(raw.items()):
        if key not in known:
            if key not in referenced:
                problems.append(_unknown_key(key, text, known))
            continue
        if known[key] is str or get_origin(known[key]) is Literal:
            data[key] = text  # a plain string in the stack file, not YAML
            continue
        try:
            data[key] = json.loads(text)
        except json.JSONDecodeError:
            problems.append(Problem(key, f"{_show(text)} is not a structured value; expected {_describe(known[key])}"))
    return data, problems


def _model_problems(data: Mapping[str, Any], details: list[ErrorDetails]) -> list[Problem]:
    """The model's errors as problems. Apps inherit the namespace, so when it is missing or wrong, that
    one problem is reported, not each app's copy of it."""
    problems = []
    namespace_missing = bool(data.get("apps")) and "namespace" not in data
    if namespace_missing:
        problems.append(Problem("namespace", "required, since the stack has apps"))
    if namespace_missing or any(detail["loc"][:1] == ("namespace",) for detail in details):
        details = [detail for detail in details if not _inherited_by_an_app(detail)]
    return problems + [_located(detail) for detail in details]


def _inherited_by_an_app(detail: ErrorDetails) -> bool:
    location = detail["loc"]
    return location[:1] == ("apps",) and len(location) == 3 and location[2] in INHERITED_KEYS


def _located(detail: ErrorDetails) -> Problem:
    location = list(detail["loc"])
    path = _path(location)
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] == "extra_forbidden":
        parent = _model_at(StackConfig, location[:-1])
        return _unknown_key(path, detail["input"], _aliases(parent) if parent is not None else {})
    if detail["type"] == "missing":
        return Problem(path, "required key is missing")
    if isinstance(detail["input"], (dict, list)):
        return Problem(path, message)
    return Problem(path, f"{_show(detail['input'])} is not allowed: {message}")


def _path(location: list[int | str]) -> str:
    text = ""
    for index, part in enumerate(location):
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += " (the key)"
        else:
            text += part if index == 0 else f".{part}"
    return text


def _unknown_key(path: str, value: object, known: Mapping[str, object]) -> Problem:
    name = path.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return Problem(path, f"unknown key (value {_show(value)}); {hint}known keys: {', '.join(sorted(known))}")


def _show(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _referenced_secret_keys(raw: Mapping[str, str]) -> set[str]:
    try:
        secrets = json.loads(raw.get("secrets", "[]"))
        return {str(key) for spec in secrets for key in spec.get("values", {}).values()}
    except (json.JSONDecodeError, AttributeError, TypeError):
        return set()  # the secrets key itself will be reported by validation


def _project_config(project: str) -> dict[str, str]:
    """Every ``<project>:*`` value as a string, keyed without the project.

    The SDK lists config keys only in the environment the CLI hands a program (``PULUMI_CONFIG``),
    through its public ``pulumi.runtime.get_config_env``; stackyard's offline renderer hands it over
    the same way (stackyard.mockrt), so this is the one way in, under both.
    """
    prefix = f"{project}:"
    return {
        key[len(prefix) :]: str(value)
        for key, value in pulumi.runtime.get_config_env().items()
        if key.startswith(prefix)
    }


def _secret_config_keys(project: str) -> set[str]:
    """The config keys (without the project) whose values are secrets (``secure:``)."""
    prefix = f"{project}:"
    return {key[len(prefix) :] for key in pulumi.runtime.get_config_secret_keys_env() if key.startswith(prefix)}


def _secret_values(project: str, settings: StackConfig) -> dict[str, pulumi.Output[str]]:
    config = pulumi.Config(project)
    keys = sorted({key for spec in settings.secrets for key in spec.values.values()})
    return {key: config.require_secret(key) for key in keys}


def _aliases(model: type[BaseModel]) -> dict[str, Any]:
    """The model's config keys (its camelCase aliases) and each field's annotation."""
    return {(info.alias or name): info.annotation for name, info in model.model_fields.items()}


def _model_at(model: type[BaseModel], location: list[int | str]) -> type[BaseModel] | None:
    """The args model found by following a validation error's location from ``model``."""
    current: Any = model
    for part in location:
        current = _unwrap(current)
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            current = _element(current)
            if isinstance(part, int):
                continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            current = _aliases(current).get(str(part))
        else:
            current = _element(current)  # a dict key: step into the value type
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``; ``Annotated[X, ...]`` → ``X``."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _element(annotation: Any) -> Any:
    """The element type of ``list[X]`` or the value type of ``dict[K, X]``."""
    arguments = typing.get_args(_unwrap(annotation))
    return arguments[-1] if arguments else None


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(_unwrap(annotation))
    if origin is list:
        return "a list (as YAML in Pulumi.<stack>.yaml)"
    return "an object (as YAML in Pulumi.<stack>.yaml)"
