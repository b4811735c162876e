"""``stackyard envdiff``: how two environments differ in the values that matter, per app and per setting.

It reads the exports themselves (rendered or on disk), not the config, so what it compares is what
would be applied: replicas, autoscaling, images, resources, env, routes, network egress, and every
value passed to a chart or to the log shipper.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from .views import ExportView

Settings = dict[tuple[str, str], str]


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
    for body in bodies:
        kind = body.get("kind")
        if kind in ("Deployment", "StatefulSet", "DaemonSet"):
            settings.update(_workload(body, config_maps))
        elif kind == "HorizontalPodAutoscaler":
            spec = body.get("spec") or {}
            target = _cpu_target(spec)
            settings[(_app(body), "autoscaling")] = (
                f"{spec.get('minReplicas', 1)}-{spec.get('maxReplicas')} at {target}% CPU"
            )
        elif kind in ("Ingress", "HTTPRoute"):
            settings[(_app(body), "route")] = _route(body)
        elif kind == "NetworkPolicy" and _labels(body).get("app.kubernetes.io/name"):
            settings[(_app(body), "egress")] = _egress(body) or "none"
        elif kind == "Namespace":
            labels = _labels(body)
            security = ",".join(
                f"{m}={labels.get(f'pod-security.kubernetes.io/{m}')}" for m in ("enforce", "warn", "audit")
            )
            settings[(f"namespace {_role(body, bodies)}", "pod security")] = security
        elif kind == "ResourceQuota":
            for key, value in sorted(((body.get("spec") or {}).get("hard") or {}).items()):
                settings[("namespace apps", f"quota {key}")] = str(value)
        elif kind == "ConfigMap" and _name(body).startswith("fluent-bit-config-"):
            settings.update(_fluent_bit(body))
    for record in view.records.values():
        if record.get("kind") != "HelmChart":
            settings[("remote files", str(record.get("file")))] = "applied"
            continue
        subject = f"chart {record.get('releaseName')}"
        settings[(subject, "version")] = f"{record.get('chart')} {record.get('version')}"
        for path, value in _flatten(record.get("values") or {}):
            settings[(subject, path)] = value
    return settings


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


def _cpu_target(spec: Mapping[str, Any]) -> str:
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        if resource.get("name") == "cpu":
            return str((resource.get("target") or {}).get("averageUtilization", "?"))
    return "?"


def _route(body: Mapping[str, Any]) -> str:
    spec = body.get("spec") or {}
    if body.get("kind") == "Ingress":
        hosts = [
            f"{rule.get('host')}{path.get('path')}"
            for rule in spec.get("rules") or []
            for path in (rule.get("http") or {}).get("paths") or []
        ]
        tls = " (tls)" if spec.get("tls") else ""
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
                namespace = ((peer.get("namespaceSelector") or {}).get("matchLabels") or {}).get(
                    "kubernetes.io/metadata.name"
                )
                pods = ",".join(
                    f"{k}={v}" for k, v in sorted(((peer.get("podSelector") or {}).get("matchLabels") or {}).items())
                )
                target = f"{namespace + '/' if namespace else ''}{pods or '*'}"
            targets.append(f"{target}:{ports}")
    return "; ".join(sorted(targets))


def _fluent_bit(body: Mapping[str, Any]) -> Settings:
    (text,) = (body.get("data") or {}).values()
    config = yaml.safe_load(text) or {}
    result: Settings = {}
    for index, output in enumerate((config.get("pipeline") or {}).get("outputs") or []):
        for key, value in sorted(output.items()):
            result[("log shipping", f"output[{index}].{key}")] = str(value)
    for key in ("storage.max_chunks_up", "log_level"):
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
    return f"app {_labels(body).get('app.kubernetes.io/name', _name(body))}"


def _labels(body: Mapping[str, Any]) -> Mapping[str, str]:
    return (body.get("metadata") or {}).get("labels") or {}


def _name(body: Mapping[str, Any]) -> str:
    return str((body.get("metadata") or {}).get("name", ""))


def _ns(body: Mapping[str, Any]) -> str:
    return str((body.get("metadata") or {}).get("namespace", ""))
