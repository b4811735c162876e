"""``stackyard envdiff``: how two environments differ in the values that matter, per app and per setting.

It reads the exports themselves (rendered or on disk), not the config, so what it compares is what
would be applied: replicas, autoscaling, images, resources, env, routes, network egress, and every
value passed to a chart or to the log shipper.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .inputs import parse_yaml
from .views import ExportView

__all__ = [
    "CLUSTER_ISSUER_ANNOTATION",
    "COMPONENT_LABEL",
    "GATEWAY_COMPONENT",
    "HIGH_AVAILABILITY_LABEL",
    "LOG_SHIPPING_CONFIG_PREFIX",
    "LOG_SHIPPING_SERVICE_KEYS",
    "NAMESPACE_NAME_LABEL",
    "NAME_LABEL",
    "POD_SECURITY_LABEL_PREFIX",
    "POD_SECURITY_MODES",
    "SettingDiff",
    "Settings",
    "diff_settings",
    "effective_settings",
]

Settings = dict[tuple[str, str], str]

# The conventions of the objects the components write, which envdiff reads back. The tooling does not
# import the components (importing components.labels loads every component and pulumi_kubernetes: about
# a second more on every command), so tests/stackyard/test_envdiff.py ties each of these to its source.
NAME_LABEL = "app.kubernetes.io/name"
"""``components.labels.NAME``: the app an object belongs to."""
COMPONENT_LABEL = "app.kubernetes.io/component"
"""``components.labels.COMPONENT``."""
GATEWAY_COMPONENT = "gateway"
"""The ``COMPONENT_LABEL`` of an AppGateway's objects, whose redirect route is the gateway's, not an app's."""
HIGH_AVAILABILITY_LABEL = "stackyard.io/high-availability"
"""``components.labels.HIGH_AVAILABILITY``, on a namespace."""
CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"
"""``components.routing.CLUSTER_ISSUER_ANNOTATION``, on an Ingress or a Gateway."""
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""``components.network_policy.NAMESPACE_NAME_LABEL``: how an egress rule selects another namespace."""
POD_SECURITY_LABEL_PREFIX = "pod-security.kubernetes.io/"
"""The prefix of ``components.PodSecurity.labels()``: ``<prefix><mode>`` is a namespace's level."""
POD_SECURITY_MODES = ("enforce", "warn", "audit")
"""The Pod Security modes envdiff shows, in this order."""
LOG_SHIPPING_CONFIG_PREFIX = "fluent-bit-config-"
"""The name of LogShipping's ConfigMap before its content hash."""
LOG_SHIPPING_SERVICE_KEYS = ("storage.max_chunks_up", "log_level")
"""The keys of LogShipping's ``service`` section that come from its args."""


@dataclass(frozen=True)
class SettingDiff:
    """One setting of one subject (an app, a chart, the log shipper) that differs."""

    subject: str
    setting: str
    left: str | None
    right: str | None


def effective_settings(view: ExportView) -> Settings:
    """(subject, setting) → value, for every setting envdiff compares."""
    settings: Settings = {}
    bodies = view.bodies()
    config_maps = {(_ns(b), _name(b)): b for b in bodies if b.get("kind") == "ConfigMap"}
    extractors: dict[str, Callable[[Mapping[str, Any]], Settings]] = {
        "Deployment": lambda body: _workload(body, config_maps),
        "StatefulSet": lambda body: _workload(body, config_maps),
        "DaemonSet": lambda body: _workload(body, config_maps),
        "HorizontalPodAutoscaler": _autoscaler,
        "Ingress": _route_settings,
        "HTTPRoute": _route_settings,
        "Gateway": _gateway,
        "NetworkPolicy": _network_policy,
        "Namespace": lambda body: _namespace(body, bodies),
        "ResourceQuota": _quota,
        "ConfigMap": _fluent_bit,
    }
    for body in bodies:
        extract = extractors.get(str(body.get("kind")))
        if extract is not None:
            settings.update(extract(body))
    for record in view.records.values():
        settings.update(_record(record))
    return settings


def _autoscaler(body: Mapping[str, Any]) -> Settings:
    spec = body.get("spec") or {}
    return {
        (
            _app(body),
            "autoscaling",
        ): f"{spec.get('minReplicas', 1)}-{spec.get('maxReplicas')} at {_cpu_target(spec)}% CPU"
    }


def _route_settings(body: Mapping[str, Any]) -> Settings:
    result = {(_app(body), "route"): _route(body)}
    issuer = _annotations(body).get(CLUSTER_ISSUER_ANNOTATION)
    if issuer:
        result[(_app(body), "certificate issuer")] = issuer
    return result


def _network_policy(body: Mapping[str, Any]) -> Settings:
    if not _labels(body).get(NAME_LABEL):
        return {}  # the namespace's own default-deny and allow-dns
    return {(_app(body), "egress"): _egress(body) or "none"}


def _namespace(body: Mapping[str, Any], bodies: list[dict[str, Any]]) -> Settings:
    labels = _labels(body)
    subject = f"namespace {_role(body, bodies)}"
    security = ",".join(f"{mode}={labels.get(POD_SECURITY_LABEL_PREFIX + mode)}" for mode in POD_SECURITY_MODES)
    return {
        (subject, "name"): _name(body),
        (subject, "pod security"): security,
        (subject, "high availability"): labels.get(HIGH_AVAILABILITY_LABEL, "false"),
    }


def _quota(body: Mapping[str, Any]) -> Settings:
    hard = (body.get("spec") or {}).get("hard") or {}
    return {("namespace apps", f"quota {key}"): str(value) for key, value in sorted(hard.items())}


def _record(record: Mapping[str, Any]) -> Settings:
    if record.get("kind") != "HelmChart":
        return {("remote files", str(record.get("file"))): "applied"}
    subject = f"chart {record.get('releaseName')}"
    result = {(subject, "version"): f"{record.get('chart')} {record.get('version')}"}
    result.update({(subject, path): value for path, value in _flatten(record.get("values") or {})})
    return result


def diff_settings(left: ExportView, right: ExportView) -> list[SettingDiff]:
    """Every setting whose value differs between the two views, sorted by subject and setting."""
    a, b = effective_settings(left), effective_settings(right)
    return [
        SettingDiff(subject, setting, a.get((subject, setting)), b.get((subject, setting)))
        for subject, setting in sorted(a.keys() | b.keys())
        if a.get((subject, setting)) != b.get((subject, setting))
    ]


def _workload(body: Mapping[str, Any], config_maps: Mapping[tuple[str, str], Mapping[str, Any]]) -> Settings:
    subject = _app(body)
    spec = body.get("spec") or {}
    result: Settings = {}
    if body.get("kind") != "DaemonSet":
        result[(subject, "replicas")] = str(spec["replicas"]) if "replicas" in spec else "set by its HPA"
    pod = (spec.get("template") or {}).get("spec") or {}
    for container in pod.get("containers") or []:
        prefix = "" if container.get("name") == _name(body) else f"{container.get('name')} "
        result[(subject, f"{prefix}image")] = str(container.get("image"))
        for bound, values in sorted((container.get("resources") or {}).items()):
            for resource, value in sorted(values.items()):
                result[(subject, f"{prefix}{bound}.{resource}")] = str(value)
        for source in container.get("envFrom") or []:
            config_map = config_maps.get((_ns(body), (source.get("configMapRef") or {}).get("name", "")))
            for key, value in sorted(((config_map or {}).get("data") or {}).items()):
                result[(subject, f"{prefix}env {key}")] = str(value)
    return result


def _gateway(body: Mapping[str, Any]) -> Settings:
    subject = f"gateway {_name(body)}"
    spec = body.get("spec") or {}
    result: Settings = {(subject, "class"): str(spec.get("gatewayClassName"))}
    seen: dict[str, int] = {}
    for listener in spec.get("listeners") or []:
        protocol = str(listener.get("protocol"))
        seen[protocol] = seen.get(protocol, -1) + 1
        refs = ",".join(ref.get("name", "") for ref in (listener.get("tls") or {}).get("certificateRefs") or [])
        host = listener.get("hostname", "*")
        result[(subject, f"listener {protocol}[{seen[protocol]}]")] = (
            f"{listener.get('protocol')} {host}:{listener.get('port')}" + (f" tls={refs}" if refs else "")
        )
    issuer = _annotations(body).get(CLUSTER_ISSUER_ANNOTATION)
    if issuer:
        result[(subject, "certificate issuer")] = issuer
    return result


def _cpu_target(spec: Mapping[str, Any]) -> str:
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        if resource.get("name") == "cpu":
            return str((resource.get("target") or {}).get("averageUtilization", "?"))
    return "?"


def _route(body: Mapping[str, Any]) -> str:
    spec = body.get("spec") or {}
    if body.get("kind") == "Ingress":
        tls_secrets = ",".join(t.get("secretName", "") for t in spec.get("tls") or [])
        hosts = [
            f"{rule.get('host')}{path.get('path')}"
            for rule in spec.get("rules") or []
            for path in (rule.get("http") or {}).get("paths") or []
        ]
        tls = f" (tls={tls_secrets})" if tls_secrets else ""
        return ", ".join(hosts) + tls
    paths = [m["path"]["value"] for rule in spec.get("rules") or [] for m in rule.get("matches") or [] if "path" in m]
    return ", ".join(f"{host}{path}" for host in spec.get("hostnames") or [] for path in paths)


def _egress(body: Mapping[str, Any]) -> str:
    targets = []
    for rule in (body.get("spec") or {}).get("egress") or []:
        ports = ",".join(str(p.get("port")) for p in rule.get("ports") or []) or "any"
        for peer in rule.get("to") or []:
            if "ipBlock" in peer:
                target = peer["ipBlock"].get("cidr")
            else:
                namespace = ((peer.get("namespaceSelector") or {}).get("matchLabels") or {}).get(NAMESPACE_NAME_LABEL)
                pods = ",".join(
                    f"{k}={v}" for k, v in sorted(((peer.get("podSelector") or {}).get("matchLabels") or {}).items())
                )
                target = f"{namespace + '/' if namespace else ''}{pods or '*'}"
            targets.append(f"{target}:{ports}")
    return "; ".join(sorted(targets))


def _fluent_bit(body: Mapping[str, Any]) -> Settings:
    if not _name(body).startswith(LOG_SHIPPING_CONFIG_PREFIX):
        return {}
    (text,) = (body.get("data") or {}).values()
    config = parse_yaml(text, f"ConfigMap {_name(body)}") or {}
    result: Settings = {}
    for index, output in enumerate((config.get("pipeline") or {}).get("outputs") or []):
        for key, value in sorted(output.items()):
            result[("log shipping", f"output[{index}].{key}")] = str(value)
    for key in LOG_SHIPPING_SERVICE_KEYS:
        if key in (config.get("service") or {}):
            result[("log shipping", key)] = str(config["service"][key])
    return result


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict) and value:
        for key, item in sorted(value.items()):
            yield from _flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, str):
        yield path, value
    else:
        yield path, json.dumps(value, sort_keys=True)


def _role(body: Mapping[str, Any], bodies: list[dict[str, Any]]) -> str:
    name = _name(body)
    holds_apps = any(b.get("kind") == "Deployment" and _ns(b) == name for b in bodies)
    return "apps" if holds_apps else name


def _app(body: Mapping[str, Any]) -> str:
    labels = _labels(body)
    # The Gateway's own objects (its redirect route) belong to the gateway, not to an app.
    kind = "gateway" if labels.get(COMPONENT_LABEL) == GATEWAY_COMPONENT else "app"
    return f"{kind} {labels.get(NAME_LABEL, _name(body))}"


def _annotations(body: Mapping[str, Any]) -> Mapping[str, str]:
    return (body.get("metadata") or {}).get("annotations") or {}


def _labels(body: Mapping[str, Any]) -> Mapping[str, str]:
    return (body.get("metadata") or {}).get("labels") or {}


def _name(body: Mapping[str, Any]) -> str:
    return str((body.get("metadata") or {}).get("name", ""))


def _ns(body: Mapping[str, Any]) -> str:
    return str((body.get("metadata") or {}).get("namespace", ""))
