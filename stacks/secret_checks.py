"""Checks that the stack's secrets stay secret: set as ``secure:`` values, and none written in plain text.

They read the raw config beside the model (which keys are ``secure:``, every plain string as
written), so they run in the loader after the model validates. Like every check they return
problems, by key path, and never raise; a problem never holds the value it is about.
"""

from __future__ import annotations

import typing
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from components import Problem
from policy.secrets import key_reason, value_reason

from .model import StackConfig

__all__ = ["missing_secret_keys", "plain_secrets"]

#: Config keys that are never scanned: names of Secrets and of secret config keys, not values.
_UNSCANNED = ("secrets", "notSecrets")


def missing_secret_keys(project: str, settings: StackConfig, raw: Mapping[str, str]) -> list[Problem]:
    """Each ``secrets[].values`` entry whose config key is not set at all."""
    return [
        Problem(
            f"secrets[{index}].values.{secret_key}",
            f"config key {project}:{config_key} is not set; set it with "
            f"`pulumi config set --secret {config_key} <value>`",
        )
        for index, spec in enumerate(settings.secrets)
        for secret_key, config_key in sorted(spec.values.items())
        if config_key not in raw
    ]


def plain_secrets(
    project: str, data: Mapping[str, Any], settings: StackConfig, plain_keys: Collection[str]
) -> list[Problem]:
    """Every plain value that looks like a secret (policy.secrets), by key path; never the value."""
    allowed = set(settings.not_secrets)
    used: set[str] = set()
    advice = (
        f"a plain value lands in the export in plain text. Keep it in a Secret: set it with `pulumi config set "
        f"--secret`, create the Secret with {project}:secrets and reference it with apps[].secretEnv or "
        f"secretFiles; if it is no secret, list the key path in {project}:notSecrets"
    )
    referenced = {key for spec in settings.secrets for key in spec.values.values()}
    problems = [
        Problem(
            key,
            f"{project}:secrets uses it as a secret, but it is a plain value; set it with "
            f"`pulumi config set --secret {key} <value>`",
        )
        for key in sorted(referenced & set(plain_keys))
    ]
    for path, key, value in _string_leaves(data):
        if path in allowed:
            used.add(path)
            continue
        reason = value_reason(value) or (None if key in _SCHEMA_KEYS else key_reason(key))
        if reason is not None:
            problems.append(Problem(path, f"looks like a secret ({reason}); {advice}"))
    problems += [
        Problem(f"notSecrets[{index}]", f"{path!r} names no plain value that looks like a secret; remove it")
        for index, path in enumerate(settings.not_secrets)
        if path not in used
    ]
    return problems


def _string_leaves(data: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(key path, own key, value) of every string in the structured config, as error paths print them."""
    pending: list[tuple[str, str, Any]] = [(key, key, value) for key, value in data.items() if key not in _UNSCANNED]
    while pending:
        path, key, value = pending.pop()
        if isinstance(value, str):
            yield path, key, value
        elif isinstance(value, dict):
            pending.extend((f"{path}.{k}", str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", key, v) for i, v in enumerate(value))


def _schema_field_names(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    """The config keys every args model reachable from ``model`` declares: our names, not free-form keys."""
    seen = set() if seen is None else seen
    seen.add(model)
    names = set()
    for name, info in model.model_fields.items():
        names.add(info.alias or name)
        for nested in _models_in(info.annotation):
            if nested not in seen:
                names |= _schema_field_names(nested, seen)
    return names


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


#: Names our args models declare: a key named like a credential there (``tlsSecret``) is a schema
#: key, not a value someone typed.
_SCHEMA_KEYS = _schema_field_names(StackConfig)
