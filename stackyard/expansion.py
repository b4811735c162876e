"""Expanding charts and remote YAML files into the objects that ``pulumi up`` applies.

For each ``helm.v4.Chart``, ``yaml.v2.ConfigGroup`` and ``yaml.v2.ConfigFile`` the program
registers, the chart or file is found (:mod:`stackyard.chartsource`) and expanded by
``stackyard-expand`` (:mod:`stackyard.expander`) with the release name, namespace, values and
options the program passed. Each object then gets the URN the provider's component would give it,
the template it came from, and the export's form: keys sorted, Secret values redacted.

An expansion is cached by a content key (the expander's build, the chart's digest, the inputs,
and this module's recipe), with only redacted text in it, so a repeated render reads it back
instead of running Helm again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import cache_root, write_atomically
from .chartsource import ChartOptions, ChartSourceError, ChartSpec, ChartUnavailableError, Found, find_chart, find_file
from .expander import Expander, ExpanderError, find_expander
from .manifests import Manifest, Origin, SecretLeakError, dump, normalise, redacted_secret_values, with_sorted_keys
from .mockrt import Registration, unwrap_secret
from .records import CHART_TYPE, CONFIG_FILE_TYPE, CONFIG_GROUP_TYPE

__all__ = ["EXPANDED_TYPES", "Expansion", "ExpansionError", "Expansions", "child_urn", "expand_all", "type_token"]

EXPANDED_TYPES = (CHART_TYPE, CONFIG_GROUP_TYPE, CONFIG_FILE_TYPE)

#: Bump when what this module makes of the expander's answer changes (the cached form).
_RECIPE = "2"


class ExpansionError(Exception):
    """A chart or file could not be expanded: missing, not the pinned one, or refused by Helm."""


@dataclass(frozen=True)
class Expansion:
    """One chart's or remote file's objects, and how it was expanded."""

    urn: str
    manifests: list[Manifest]
    expanded: dict[str, Any]
    """What was expanded, for its record and the index: chart and version, where it was found, its
    digest, the Helm and Kubernetes versions, the hooks not applied."""


@dataclass
class Expansions:
    """The expansions of one render, and the charts left as records (``--charts auto``)."""

    by_urn: dict[str, Expansion] = field(default_factory=dict)
    recorded: dict[str, str] = field(default_factory=dict)
    """URN → why it was recorded rather than expanded."""

    def manifests(self) -> list[Manifest]:
        return [manifest for expansion in self.by_urn.values() for manifest in expansion.manifests]


def expand_all(registrations: list[Registration], options: ChartOptions, known_secrets: Collection[str]) -> Expansions:
    """Expand every chart and remote file among ``registrations``, as ``options`` say."""
    result = Expansions()
    targets = [r for r in registrations if r.type in EXPANDED_TYPES]
    if options.mode == "record" or not targets:
        return result
    try:
        expander: Expander | None = find_expander()
    except ExpanderError as error:
        if options.mode == "expand":
            raise ExpansionError(str(error)) from None
        expander = None
        missing = str(error)
    for registration in targets:
        if expander is None:
            result.recorded[registration.urn] = missing
            continue
        try:
            result.by_urn[registration.urn] = _expand_one(registration, options, expander, known_secrets)
        except ChartUnavailableError as error:
            if options.mode == "expand":
                raise ExpansionError(str(error)) from None
            result.recorded[registration.urn] = str(error)
    return result


def _expand_one(
    registration: Registration, options: ChartOptions, expander: Expander, known_secrets: Collection[str]
) -> Expansion:
    inputs = normalise(_plain(registration.inputs))
    try:
        request, found, label = _request(registration, inputs, options, expander)
        cached = _cached(expander, request, found, registration.type)
        fresh = cached is None
        if cached is None:
            cached = _expanded(expander, request, label)
    except (ChartSourceError, ExpanderError) as error:
        raise ExpansionError(f"{_what(registration, inputs)}: {error}") from None
    prefix = str(inputs.get("resourcePrefix") or registration.name)
    manifests = [
        Manifest(
            body=item["body"],
            urn=child_urn(registration.urn, item["body"], prefix),
            origin=Origin(registration.urn, item["template"]),
            text=item["text"],
        )
        for item in cached["objects"]
    ]
    # Refused before it is cached: a leaked value must not reach the cache folder either.
    _refuse_leaks(manifests, known_secrets, registration)
    if fresh:
        _store(expander, request, found, registration.type, cached)
    expanded = {
        "foundBy": found.found_by,
        "digest": found.digest,
        "objects": len(manifests),
        **expander.identity(),
        **cached["about"],
    }
    return Expansion(urn=registration.urn, manifests=manifests, expanded=expanded)


def _what(registration: Registration, inputs: Mapping[str, Any]) -> str:
    if registration.type == CHART_TYPE:
        spec = _spec(inputs)
        return f"{spec.describe()} (release {inputs.get('name') or registration.name})"
    if registration.type == CONFIG_FILE_TYPE:
        return f"remote file {inputs.get('file')}"
    return f"ConfigGroup {registration.name}"


def _spec(inputs: Mapping[str, Any]) -> ChartSpec:
    return ChartSpec(
        chart=str(inputs.get("chart") or ""),
        version=str(inputs.get("version") or ""),
        repository=str((inputs.get("repositoryOpts") or {}).get("repo") or ""),
    )


def _request(
    registration: Registration, inputs: Mapping[str, Any], options: ChartOptions, expander: Expander
) -> tuple[dict[str, Any], Found, str]:
    if registration.type == CHART_TYPE:
        spec = _spec(inputs)
        found = find_chart(spec, options, lambda wanted, folder: _pull(expander, wanted, folder))
        request = {
            "mode": "chart",
            "chart": str(found.path.resolve()),
            "release": str(inputs.get("name") or registration.name),
            "namespace": str(inputs.get("namespace") or ""),
            "values": inputs.get("values") or {},
            "skipCrds": bool(inputs.get("skipCrds", False)),
        }
        return request, found, spec.describe()
    if registration.type == CONFIG_FILE_TYPE:
        url = str(inputs.get("file") or "")
        found = find_file(url, options)
        request = {"mode": "objects", "yaml": found.path.read_text(encoding="utf-8")}
        return request, found, url
    objects = list(inputs.get("objs") or [])
    request = {"mode": "objects", "objects": objects, "yaml": str(inputs.get("yaml") or "")}
    digest = "sha256:" + hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    return request, Found(Path("."), "the program", digest), f"ConfigGroup {registration.name}"


def _pull(expander: Expander, spec: ChartSpec, folder: Path) -> Path:
    try:
        response = expander.run(
            {
                "mode": "pull",
                "chart": spec.chart,
                "version": spec.version,
                "repository": spec.repository,
                "destination": str(folder),
                "plainHttp": spec.repository.startswith("http://"),
            }
        )
    except ExpanderError as error:
        raise ChartSourceError(str(error)) from None
    return Path(str(response["saved"]))


def _expanded(expander: Expander, request: dict[str, Any], label: str) -> dict[str, Any]:
    """The expander's answer in the form that is cached: redacted bodies and their text."""
    response = expander.run(request)
    objects = []
    for item in response.get("objects") or []:
        body = with_sorted_keys(_redacted(item["object"]))
        objects.append({"template": item.get("template") or label, "body": body, "text": dump(body)})
    about: dict[str, Any] = {"hooks": response.get("hooks") or []}
    if chart := response.get("chart"):
        about.update(chart=chart["name"], version=chart["version"], appVersion=chart.get("appVersion", ""))
    return {"objects": objects, "about": about}


def _cache_key(expander: Expander, request: dict[str, Any], found: Found, kind: str) -> str:
    inputs = {key: value for key, value in request.items() if key not in ("chart", "yaml")}
    keyed = {"recipe": _RECIPE, "expander": expander.identity(), "kind": kind, "digest": found.digest, **inputs}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _cache_file(expander: Expander, request: dict[str, Any], found: Found, kind: str) -> Path:
    return cache_root() / "expansions" / f"{_cache_key(expander, request, found, kind)}.json"


def _cached(expander: Expander, request: dict[str, Any], found: Found, kind: str) -> dict[str, Any] | None:
    path = _cache_file(expander, request, found, kind)
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent, or unreadable: expand again and replace it
    return loaded if isinstance(loaded.get("objects"), list) and isinstance(loaded.get("about"), dict) else None


def _store(expander: Expander, request: dict[str, Any], found: Found, kind: str, expansion: dict[str, Any]) -> None:
    path = _cache_file(expander, request, found, kind)
    # A cache that cannot be written only costs the next render the expansion.
    with contextlib.suppress(OSError):
        write_atomically(path, json.dumps(expansion, separators=(",", ":")).encode("utf-8"))


def type_token(api_version: str, kind: str) -> str:
    """The Pulumi type of a Kubernetes object: ``kubernetes:core/v1:ConfigMap``."""
    group, _, version = api_version.rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{kind}"


def child_urn(parent_urn: str, body: Mapping[str, Any], prefix: str) -> str:
    """The URN the provider's component gives an object it registers: ``prefix:namespace/name``
    (or ``prefix:name``), typed under the component's own qualified type."""
    head, qualified_type, _ = parent_urn.rsplit("::", 2)
    metadata = body.get("metadata") or {}
    namespace, name = metadata.get("namespace"), metadata.get("name")
    child = f"{prefix}:{namespace}/{name}" if namespace else f"{prefix}:{name}"
    token = type_token(str(body.get("apiVersion")), str(body.get("kind")))
    return f"{head}::{qualified_type}${token}::{child}"


def _plain(value: Any) -> Any:
    """Inputs with the runtime's secret markers removed: the expander needs the values themselves."""
    secret, inner = unwrap_secret(value)
    if secret:
        return _plain(inner)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _redacted(body: dict[str, Any]) -> dict[str, Any]:
    """A chart's Secret with its values as markers (the digest of each decoded value) in ``stringData``."""
    if body.get("kind") != "Secret" or body.get("apiVersion") != "v1":
        return body
    redacted = {key: value for key, value in body.items() if key not in ("data", "stringData")}
    redacted.update(redacted_secret_values(body.get("data"), body.get("stringData")))
    return redacted


def _refuse_leaks(manifests: list[Manifest], known_secrets: Collection[str], registration: Registration) -> None:
    """A secret the program holds must not reach a chart's object outside a Secret (through values)."""
    secrets = [secret for secret in known_secrets if len(secret) >= 8]
    for manifest in manifests:
        if manifest.kind == "Secret" or manifest.text is None:
            continue
        if any(secret in manifest.text for secret in secrets):
            raise SecretLeakError(
                f"{manifest.kind} {manifest.namespace}/{manifest.name} of {registration.name}: carries a secret value "
                "of the program in plain text; pass the chart a Secret's name (an existingSecret value) instead"
            )
