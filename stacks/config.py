"""The stack's configuration: read once, validated completely, before any resource exists.

Every ``stackyard:*`` key is parsed into :class:`StackConfig`, whose parts are the components' own
args models, so there is one set of rules. Problems are reported together, one line each, naming
the config key path, the bad value and what is allowed.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_origin

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import ErrorDetails

from components import (
    ApiServerAccess,
    AppArgs,
    AppNamespaceArgs,
    IngressControllerArgs,
    LogShippingArgs,
    MonitoringArgs,
    MonitoringOptions,
    Route,
)
from components._kit.args import Args
from components.monitoring import POD_SCRAPE_PORTS
from components.validation import DnsLabel, DnsSubdomain
from policy.secrets import key_reason, value_reason

from .capacity import quota_shortfalls
from .errors import ConfigError
from .networking import check_network_intents
from .observability import check_monitoring, scraped_ports

#: Keys every app inherits from ``stackyard:namespace``.
_INHERITED = ("namespace", "partOf")


class SecretSpec(Args):
    """A Secret to create from ``secure:`` config values."""

    name: DnsSubdomain
    """The Secret's name."""
    namespace: DnsLabel | None = None
    """Where the Secret lives: the environment's namespace, or that of ``stackyard:logging`` (output
    credentials) or ``stackyard:monitoring`` (Grafana's admin). Default: the environment's namespace."""
    values: dict[str, str] = Field(min_length=1)
    """Secret key → the config key (in this project) holding its ``secure:`` value."""


class AppConfig(AppArgs):
    """An app as a stack configures it: the component's args plus how the environment exposes it."""

    route: Route | None = None
    """The app's public route (host, paths, TLS), served by ``stackyard:ingress``. Default: not routed."""
    monitoring: MonitoringOptions = MonitoringOptions()
    """Scrape interval, alert overrides and dashboard, with ``stackyard:monitoring``. Default: the
    default alerts, scraped every 30s when the app has a ``metricsPort``."""

    @field_validator("route")
    @classmethod
    def _routed_apps_have_a_service(cls, route: Route | None, info: ValidationInfo) -> Route | None:
        if route is not None and info.data.get("service") is False:
            raise ValueError("route needs the app's Service; an app with service: false cannot be routed")
        return route


class ClusterNetwork(Args):
    """What the platform namespaces' NetworkPolicies need to know of the cluster."""

    api_server: ApiServerAccess = ApiServerAccess()
    """The API server's addresses and ports. Default: any address on 443 and 6443."""
    node_cidrs: list[str] = ["0.0.0.0/0"]
    """The nodes' addresses, which Prometheus scrapes (kubelet, node exporter). Default: any
    address, on the scrape ports only."""


class StackConfig(Args):
    """Everything one environment is made of. Each field is one ``stackyard:<key>`` config key.

    Three shapes (docs/architecture.md, "Several environments on one cluster"): an environment
    with its own platform (the default), an environment on a shared platform
    (``platform: shared``), and a platform stack (no ``namespace`` and no ``apps``).
    """

    namespace: AppNamespaceArgs | None = None
    """The environment's namespace; its ``name`` and ``partOf`` also apply to every app. Required
    with apps; a platform stack has none."""
    platform: Literal["own", "shared"] = "own"
    """``own``: this stack installs the ingress controller, log shipping and monitoring it
    configures. ``shared``: a platform stack installs them once for the cluster; here
    ``stackyard:ingress`` and ``stackyard:monitoring`` say what that platform is (the same values as
    in the platform stack), and this stack creates only the environment's own objects: namespace,
    apps, routes, Gateway, monitors and alerts. Default: own."""
    ingress: IngressControllerArgs | None = None
    """The ingress controller and how routes are expressed (Ingress or Gateway API). Default: none;
    then no app may have a route."""
    logging: LogShippingArgs | None = None
    """Log shipping with Fluent Bit. Default: none."""
    monitoring: MonitoringArgs | None = None
    """kube-prometheus-stack, plus each app's ServiceMonitor or PodMonitor and alerts. Default: none."""
    apps: list[AppConfig] = []
    """The apps of the environment; names are unique. ``namespace`` and ``partOf`` come from
    ``stackyard:namespace``. Required with a namespace; a platform stack has none."""
    secrets: list[SecretSpec] = []
    """Secrets built from ``secure:`` config values. Default: none."""
    cluster: ClusterNetwork = ClusterNetwork()
    """The cluster's API server and node addresses, for exact egress rules in the ingress, logging
    and monitoring namespaces. Default: any address, on the right ports only."""
    render_dir: str = ""
    """When set, the real engine renders YAML into this folder instead of deploying
    (pulumi-kubernetes' ``renderYamlToDirectory``). Default: deploy."""
    not_secrets: list[str] = []
    """Key paths (as errors print them, without the project, e.g. ``apps[0].env.TOKEN_AUDIENCE``)
    whose plain values look like secrets but are not: the secret check lets them through.
    Default: none."""

    @model_validator(mode="before")
    @classmethod
    def _apps_inherit_namespace(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("apps"), list):
            return data
        namespace = data.get("namespace")
        if namespace is None and data["apps"]:
            raise ValueError("namespace: required, since the stack has apps")
        if not isinstance(namespace, dict):
            return data
        inherited = {"namespace": namespace.get("name"), "partOf": namespace.get("partOf", "")}
        apps = [
            {**inherited, **app} if isinstance(app, dict) and "namespace" not in app else app for app in data["apps"]
        ]
        return {**data, "apps": apps}

    @field_validator("apps")
    @classmethod
    def _apps_unique_and_in_the_namespace(cls, apps: list[AppConfig], info: ValidationInfo) -> list[AppConfig]:
        _check_unique("app", [app.name for app in apps])
        namespace = info.data.get("namespace")
        for app in apps:
            if namespace is not None and app.namespace != namespace.name:
                raise ValueError(
                    f"app {app.name!r} sets namespace {app.namespace!r}; apps always run in "
                    f"stackyard:namespace.name ({namespace.name!r}), so leave it out"
                )
        return apps

    @model_validator(mode="after")
    def _an_environment_or_a_platform(self) -> StackConfig:
        if self.namespace is not None and not self.apps:
            raise ValueError("apps: an environment needs at least one app (a platform stack has no namespace)")
        if self.namespace is None:
            if self.apps:
                raise ValueError("namespace: required, since the stack has apps")
            if self.platform == "shared":
                raise ValueError("platform: 'shared' is for an environment, which needs namespace and apps")
            if not (self.ingress or self.logging or self.monitoring):
                raise ValueError(
                    "namespace: required; a stack without one is a platform stack, which needs at least one "
                    "of ingress, logging and monitoring"
                )
        if self.platform == "shared" and self.logging is not None:
            raise ValueError(
                "logging: not allowed with platform: shared; the shared platform's Fluent Bit ships every "
                "namespace's logs, so configure it in the platform stack"
            )
        return self

    @model_validator(mode="after")
    def _shared_platform_scrapes_the_apps(self) -> StackConfig:
        if self.platform != "shared" or self.monitoring is None:
            return self
        allowed = {*POD_SCRAPE_PORTS, *self.monitoring.scrape_ports}
        for index, app in enumerate(self.apps):
            port = next(iter(scraped_ports([app])), None)
            if port is not None and port not in allowed:
                raise ValueError(
                    f"apps[{index}].metricsPort: {port} is not a port the shared platform's Prometheus may "
                    f"scrape; add it to monitoring.scrapePorts here and in the platform stack "
                    f"(now {sorted(allowed)})"
                )
        return self

    @model_validator(mode="after")
    def _rendering_has_a_local_gateway_api_install(self) -> StackConfig:
        ingress = self.ingress
        if (
            self.render_dir
            and ingress is not None
            and ingress.route_api == "gateway"
            and ingress.implementation == "traefik"
            and ingress.install_gateway_api_crds
            and ingress.gateway_api_crds_path is None
        ):
            raise ValueError(
                "ingress.gatewayApiCrdsPath: required with renderDir; without a cluster pulumi-kubernetes "
                "cannot render the release URL's ValidatingAdmissionPolicy, so give a local copy of the Gateway "
                "API's standard-install.yaml (or set installGatewayApiCrds: false)"
            )
        return self

    @model_validator(mode="after")
    def _network_intents_resolve(self) -> StackConfig:
        check_network_intents(self.apps, has_ingress=self.ingress is not None)
        return self

    @model_validator(mode="after")
    def _quota_fits_the_apps(self) -> StackConfig:
        if self.namespace is not None and self.namespace.quota is not None:
            shortfalls = quota_shortfalls(self.namespace.quota, self.apps)
            if shortfalls:
                raise ValueError(
                    "namespace.quota: too small for the apps at their replica maxima plus a rolling-update "
                    f"surge ({'; '.join(shortfalls)}); raise it, or lower the apps' maxima or resources"
                )
        return self

    @model_validator(mode="after")
    def _monitoring_applies(self) -> StackConfig:
        check_monitoring(self.apps, self.monitoring)
        return self

    @field_validator("secrets")
    @classmethod
    def _secrets_unique(cls, secrets: list[SecretSpec]) -> list[SecretSpec]:
        _check_unique("secret", [f"{secret.namespace or ''}/{secret.name}" for secret in secrets])
        return secrets

    @model_validator(mode="after")
    def _secrets_in_known_namespaces(self) -> StackConfig:
        platform = self.platform == "own"
        known = {
            *([self.namespace.name] if self.namespace else []),
            *([self.logging.namespace] if self.logging and platform else []),
            *([self.monitoring.namespace] if self.monitoring and platform else []),
        }
        for index, secret in enumerate(self.secrets):
            if secret.namespace is None and self.namespace is None:
                raise ValueError(f"secrets[{index}].namespace: required in a platform stack, which has no namespace")
            if secret.namespace is not None and secret.namespace not in known:
                raise ValueError(
                    f"secrets[{index}].namespace: {secret.namespace!r} is not a namespace stackyard creates; "
                    f"use one of {sorted(known)}"
                )
        return self


def _check_unique(kind: str, names: list[str]) -> None:
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{kind} names must be unique; {duplicates} appear more than once")


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
    looks like a secret is refused.
    """
    problems: list[str] = []
    data: dict[str, Any] = {}
    known = _aliases(StackConfig)
    referenced = _referenced_secret_keys(raw)
    for key, text in sorted(raw.items()):
        if key not in known:
            if key not in referenced:
                problems.append(_unknown_key(f"{project}:{key}", text, known))
            continue
        if known[key] is str or get_origin(known[key]) is Literal:
            data[key] = text  # a plain string in the stack file, not YAML
            continue
        try:
            data[key] = json.loads(text)
        except json.JSONDecodeError:
            problems.append(
                f"{project}:{key}: {_show(text)} is not a structured value; expected {_describe(known[key])}"
            )
    if not problems:
        try:
            settings = StackConfig.model_validate(data)
        except ValidationError as error:
            details = _without_inherited_cascades(error.errors(include_url=False))
            problems.extend(_format_error(project, detail) for detail in details)
        else:
            problems.extend(_missing_secret_keys(project, settings, raw))
            problems.extend(_plain_secrets(project, data, settings, set(raw) - set(secret_keys)))
            if not problems:
                return settings
    raise ConfigError(problems)


def _plain_secrets(
    project: str, data: Mapping[str, Any], settings: StackConfig, plain_keys: Collection[str]
) -> list[str]:
    """Every plain value that looks like a secret (policy.secrets), by key path; never the value."""
    allowed = set(settings.not_secrets)
    used: set[str] = set()
    problems = []
    advice = (
        f"a plain value lands in the export in plain text. Keep it in a Secret: set it with `pulumi config set "
        f"--secret`, create the Secret with {project}:secrets and reference it with apps[].secretEnv or "
        f"secretFiles; if it is no secret, list the key path in {project}:notSecrets"
    )
    referenced = {key for spec in settings.secrets for key in spec.values.values()}
    for key in sorted(referenced & set(plain_keys)):
        problems.append(
            f"{project}:{key}: {project}:secrets uses it as a secret, but it is a plain value; set it with "
            f"`pulumi config set --secret {key} <value>`"
        )
    for path, key, value in _string_leaves(data):
        if path in allowed:
            used.add(path)
            continue
        reason = value_reason(value) or (None if key in _SCHEMA_KEYS else key_reason(key))
        if reason is not None:
            problems.append(f"{project}:{path}: looks like a secret ({reason}); {advice}")
    problems += [
        f"{project}:notSecrets[{index}]: {path!r} names no plain value that looks like a secret; remove it"
        for index, path in enumerate(settings.not_secrets)
        if path not in used
    ]
    return problems


#: Config keys that are never scanned: names of Secrets and of secret config keys, not values.
_UNSCANNED = ("secrets", "notSecrets")


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


def _secret_config_keys(project: str) -> set[str]:
    """The config keys (without the project) whose values are secrets, under the CLI or the mocks."""
    keys = {
        *runtime_config.get_config_secret_keys_env(),
        *(k for k in runtime_config.CONFIG.get() if runtime_config.is_config_secret(k)),
    }
    prefix = f"{project}:"
    return {key[len(prefix) :] for key in keys if key.startswith(prefix)}


def _without_inherited_cascades(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop errors on the namespace/partOf that apps inherit when the namespace itself is reported."""
    if not any(detail["loc"][:1] == ("namespace",) for detail in details):
        return details
    return [
        detail
        for detail in details
        if not (detail["loc"][:1] == ("apps",) and len(detail["loc"]) == 3 and detail["loc"][2] in _INHERITED)
    ]


def _missing_secret_keys(project: str, settings: StackConfig, raw: Mapping[str, str]) -> list[str]:
    return [
        f"{project}:secrets[{index}].values.{secret_key}: config key {project}:{config_key} is not set; "
        f"set it with `pulumi config set --secret {config_key} <value>`"
        for index, spec in enumerate(settings.secrets)
        for secret_key, config_key in sorted(spec.values.items())
        if config_key not in raw
    ]


def _project_config(project: str) -> dict[str, str]:
    # The SDK offers no public way to list config keys. The CLI passes them in PULUMI_CONFIG and the
    # mock runtime in a context variable; read both, as pulumi.Config itself does.
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{project}:"
    return {key[len(prefix) :]: str(value) for key, value in merged.items() if key.startswith(prefix)}


def _referenced_secret_keys(raw: Mapping[str, str]) -> set[str]:
    try:
        secrets = json.loads(raw.get("secrets", "[]"))
        return {str(key) for spec in secrets for key in spec.get("values", {}).values()}
    except (json.JSONDecodeError, AttributeError, TypeError):
        return set()  # the secrets key itself will be reported by validation


def _secret_values(project: str, settings: StackConfig) -> dict[str, pulumi.Output[str]]:
    config = pulumi.Config(project)
    keys = sorted({key for spec in settings.secrets for key in spec.values.values()})
    return {key: config.require_secret(key) for key in keys}


#: A message from a whole-config check that starts with the key path it is about.
_LOCATED_MESSAGE = re.compile(r"^(?P<path>[A-Za-z]+(?:\[\d+\])*(?:\.[A-Za-z]+(?:\[\d+\])*)*): (?P<rest>.*)$", re.DOTALL)


def _format_error(project: str, detail: ErrorDetails) -> str:
    location = list(detail["loc"])
    path = _path(project, location)
    located = _LOCATED_MESSAGE.match(detail["msg"].removeprefix("Value error, ")) if not location else None
    if located:
        return f"{project}:{located['path']}: {located['rest']}"
    if detail["type"] == "extra_forbidden":
        parent = _model_at(StackConfig, location[:-1])
        known = _aliases(parent) if parent is not None else {}
        return _unknown_key(path, detail["input"], known)
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] == "missing":
        return f"{path}: required key is missing"
    if isinstance(detail["input"], (dict, list)):
        return f"{path}: {message}"
    return f"{path}: {_show(detail['input'])} is not allowed: {message}"


def _path(project: str, location: list[int | str]) -> str:
    text = f"{project}:"
    for index, part in enumerate(location):
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += " (the key)"
        else:
            text += part if index == 0 else f".{part}"
    return text


def _unknown_key(path: str, value: object, known: Mapping[str, object]) -> str:
    name = path.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{path}: unknown key (value {_show(value)}); {hint}known keys: {', '.join(sorted(known))}"


def _show(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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


_SCHEMA_KEYS = _schema_field_names(StackConfig)
