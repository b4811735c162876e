"""Turning registered resource inputs into Kubernetes manifests, files and names."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from .apitypes import as_provider_writes
from .mockrt import Registration, unwrap_secret

__all__ = [
    "Manifest",
    "Origin",
    "SecretLeakError",
    "dump",
    "is_manifest",
    "normalise",
    "redacted_secret_values",
    "redaction_marker",
    "secret_values",
    "to_manifest",
    "with_sorted_keys",
]

#: Registration types that are not Kubernetes objects and are never written as manifests.
_NOT_MANIFESTS = ("pulumi:providers:",)

#: The keys of a Secret that hold values.
_SECRET_VALUE_KEYS = ("data", "stringData")


class SecretLeakError(Exception):
    """A value the runtime marks secret flows into a field that would be exported in plain text."""


@dataclass(frozen=True)
class Origin:
    """Where an object that a chart or remote file brings came from."""

    record: str
    """The URN of the chart or remote file (``kubernetes:helm.sh/v4:Chart`` and the like)."""
    template: str
    """The chart template (``traefik/templates/deployment.yaml``) or the file it was rendered from."""


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object as it is exported, with where it came from."""

    body: dict[str, Any]
    urn: str
    origin: Origin | None = None
    """``None`` for an object the program registers itself."""
    text: str | None = None
    """Its YAML as exported, when already known (a cached expansion); else :func:`dump` of the body."""

    @property
    def exported_text(self) -> str:
        return self.text if self.text is not None else dump(self.body)

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.body.get("metadata", {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.body.get("metadata", {}).get("namespace", ""))

    @property
    def folder(self) -> str:
        """``0-crd`` for CustomResourceDefinitions, ``1-manifest`` for everything else."""
        return "0-crd" if self.kind == "CustomResourceDefinition" else "1-manifest"

    @property
    def file_name(self) -> str:
        """The file name pulumi-kubernetes' ``renderYamlToDirectory`` gives this object."""
        api = self.api_version.replace("/", "_").replace(":", "_")
        return f"{api}-{self.kind.lower()}-{self.namespace or 'default'}-{self.name}.yaml"

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.file_name}"


def is_manifest(registration: Registration) -> bool:
    """Whether a registration is a Kubernetes object the provider would write."""
    return (
        registration.custom
        and registration.type.startswith("kubernetes:")
        and not registration.type.startswith(_NOT_MANIFESTS)
    )


def to_manifest(registration: Registration, known_secrets: Collection[str] = ()) -> Manifest:
    """The exported form of one registration: secrets redacted, numbers restored, keys sorted, and
    each field as the provider writes it (:func:`stackyard.apitypes.as_provider_writes`).

    A value the runtime marks secret outside a Secret's data raises :class:`SecretLeakError`. The
    runtime marks the whole top-level field secret, so ``known_secrets`` (the plain values of every
    secret the program holds) is used to point at the exact field.
    """
    body: dict[str, Any] = {}
    kind = registration.inputs.get("kind")
    for key, wire_value in registration.inputs.items():
        secret, value = unwrap_secret(wire_value)
        if kind == "Secret" and key in _SECRET_VALUE_KEYS:
            continue  # redacted below, both fields at once
        if secret:
            raise SecretLeakError(_leak_message(registration, key, value, known_secrets))
        body[key] = normalise(value)
    if kind == "Secret":
        plain = {field: unwrap_secret(registration.inputs.get(field))[1] for field in _SECRET_VALUE_KEYS}
        body.update(redacted_secret_values(plain["data"], plain["stringData"]))
    return Manifest(body=with_sorted_keys(as_provider_writes(body)), urn=registration.urn)


def redacted_secret_values(data: object, string_data: object) -> dict[str, dict[str, str]]:
    """A Secret's ``data`` (base64) and ``stringData`` as one ``stringData`` of markers, each the
    digest of the plain value (``stringData`` wins a key both hold, as in the API).

    Markers are not base64, so under ``data`` the API server would refuse the object; under
    ``stringData`` the export stays a valid Secret that kubectl and GitOps tools can apply.
    """
    markers = {str(key): redaction_marker(_base64_decoded(unwrap_secret(item)[1])) for key, item in _items(data)}
    markers.update({str(key): redaction_marker(unwrap_secret(item)[1]) for key, item in _items(string_data)})
    return {"stringData": dict(sorted(markers.items()))} if markers else {}


def _items(value: object) -> list[tuple[object, object]]:
    return list(value.items()) if isinstance(value, dict) else []


def _base64_decoded(value: object) -> str:
    try:
        return base64.b64decode(str(value), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return str(value)


def secret_values(registrations: Iterable[Registration]) -> set[str]:
    """The plain values of every Secret the program registered, to recognise them elsewhere."""
    found: set[str] = set()
    for registration in registrations:
        if registration.inputs.get("kind") != "Secret":
            continue
        for key in _SECRET_VALUE_KEYS:
            data = unwrap_secret(registration.inputs.get(key))[1]
            if isinstance(data, dict):
                found.update(str(unwrap_secret(item)[1]) for item in data.values())
    return found


def _leak_message(registration: Registration, key: str, value: object, known_secrets: Collection[str]) -> str:
    metadata = unwrap_secret(registration.inputs.get("metadata"))[1] or {}
    kind = registration.inputs.get("kind", registration.type)
    identity = f"{kind} {metadata.get('namespace', '')}/{metadata.get('name', registration.name)}"
    paths = [path for path, leaf in _leaves(value, key) if isinstance(leaf, str) and leaf in known_secrets]
    where = ", ".join(paths) if paths else f"a value inside '{key}'"
    return (
        f"{identity}: {where} carries a secret value, which would be exported in plain text. Keep the "
        "secret in a Secret and reference it: an env var with valueFrom.secretKeyRef (App secretEnv) "
        "or a mounted Secret volume (App secretFiles)."
    )


def _leaves(value: object, path: str) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def redaction_marker(value: object) -> str:
    """What an auditor sees instead of a secret value: enough to tell that it changed, nothing more."""
    digest = hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:8]
    return f"<redacted sha256:{digest}>"


def normalise(value: Any) -> Any:
    """Undo the wire format: integral floats back to ints, nested secrets refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        if unwrap_secret(value)[0]:
            raise SecretLeakError("a nested value carries a secret")
        return {str(key): normalise(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def with_sorted_keys(value: Any) -> Any:
    """``value`` with every mapping's keys in sorted order, at every depth (the export's form)."""
    if isinstance(value, dict):
        return {key: with_sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [with_sorted_keys(item) for item in value]
    return value


class _Dumper(yaml.CSafeDumper):
    """PyYAML's C dumper, with multi-line strings as literal blocks so configs stay readable."""


def _represent_str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump(body: dict[str, Any]) -> str:
    """The YAML text of one object: keys sorted, block style, no aliases."""
    return yaml.dump(body, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=1000)
