"""Parity with the provider beyond the committed stacks: generated stack shapes, every optional part
present, absent or empty, and every exported object already in the form pulumi-kubernetes writes.

Each shape is the dev stack's config with a few keys changed, written as ``Pulumi.<shape>.yaml``
into a private copy of the project and evaluated with the charts recorded (the program's own
objects, which stackyard/apitypes.py normalises; charts are expanded by Go itself). The oracle is
the chart expander's ``check`` mode, the provider's own normalisation: for every object but Secrets
(whose exported data is redacted on purpose), Go's Check of what the program registered must be
the exported object, and the exported object must come back from Check unchanged. Each shape also
asserts that it still has the part it is there to cover, so a change elsewhere cannot turn it into
a copy of another shape without failing.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackyard.chartsource import RECORD
from stackyard.expander import ExpanderError, find_expander
from stackyard.manifests import is_manifest, normalise
from stackyard.mockrt import unwrap_secret
from stackyard.render import Rendering, evaluate_stack
from tests.conftest import ROOT
from tests.stackyard.test_apitypes import go_checked

Config = dict[str, Any]

#: What the copy of the project leaves out, as tests/stackyard/conftest.py's ``project`` fixture.
_NOT_COPIED = shutil.ignore_patterns(".venv*", "out", ".git", ".*_cache", "__pycache__", "tests", "audit")

#: A placeholder ciphertext for the ``secure:`` keys a shape adds: the offline render never decrypts it.
_PLACEHOLDER = {"secure": "v1:c3RhY2t5YXJkLXNoYXBlLXBsYWNlaG9sZGVy"}

NAMESPACE = "shop-dev"


# --- editing the dev config ------------------------------------------------------------------------


def dev_config() -> Config:
    """The dev stack's ``config`` mapping, as PyYAML reads Pulumi.dev.yaml."""
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    return copy.deepcopy(document["config"])


def apps(config: Config) -> list[dict[str, Any]]:
    return config["stackyard:apps"]


def app(config: Config, name: str) -> dict[str, Any]:
    (found,) = [entry for entry in apps(config) if entry["name"] == name]
    return found


def drop_secret(config: Config, name: str) -> None:
    """Remove a ``stackyard:secrets`` entry and the ``secure:`` keys only it refers to."""
    specs = config["stackyard:secrets"]
    (spec,) = [entry for entry in specs if entry["name"] == name]
    specs.remove(spec)
    for key in spec["values"].values():
        del config[f"stackyard:{key}"]


def add_secret(config: Config, name: str, namespace: str | None, keys: list[str]) -> None:
    """A ``stackyard:secrets`` entry with one placeholder ``secure:`` config key per Secret key."""
    values = {key: f"shape{name.title().replace('-', '')}{key.title().replace('-', '')}" for key in keys}
    config["stackyard:secrets"].append(
        {"name": name, **({"namespace": namespace} if namespace else {}), "values": values}
    )
    for config_key in values.values():
        config[f"stackyard:{config_key}"] = dict(_PLACEHOLDER)


# --- looking at a rendering -------------------------------------------------------------------------


def of_kind(rendering: Rendering, kind: str) -> list[dict[str, Any]]:
    return [m.body for m in rendering.manifests if m.kind == kind]


def named(rendering: Rendering, kind: str, name: str, namespace: str = NAMESPACE) -> dict[str, Any] | None:
    """The one object of ``kind`` called ``name`` in ``namespace``, or ``None``."""
    found = [
        body
        for body in of_kind(rendering, kind)
        if body["metadata"]["name"] == name and body["metadata"].get("namespace", "") == namespace
    ]
    assert len(found) <= 1, f"{len(found)} {kind}s named {namespace}/{name}"
    return found[0] if found else None


def first_difference(ours: Any, go: Any, path: str = "") -> str:
    """The first field (dotted path) where two JSON values differ, with both values."""
    if isinstance(ours, dict) and isinstance(go, dict):
        for key in sorted(set(ours) | set(go)):
            if key not in go:
                return f"{path}.{key}: ours {ours[key]!r}, Go drops it"
            if key not in ours:
                return f"{path}.{key}: ours absent, Go {go[key]!r}"
            if ours[key] != go[key]:
                return first_difference(ours[key], go[key], f"{path}.{key}")
    if isinstance(ours, list) and isinstance(go, list) and len(ours) == len(go):
        for index, (mine, theirs) in enumerate(zip(ours, go, strict=True)):
            if mine != theirs:
                return first_difference(mine, theirs, f"{path}[{index}]")
    return f"{path or '.'}: ours {ours!r}, Go {go!r}"


def registered_bodies(rendering: Rendering) -> dict[str, dict[str, Any]]:
    """The program's objects as it registered them (before the offline conversion), by URN;
    Secrets left out, since their exported data is redacted on purpose."""
    return {
        registration.urn: {key: normalise(unwrap_secret(value)[1]) for key, value in registration.inputs.items()}
        for registration in rendering.registrations
        if is_manifest(registration) and registration.inputs.get("kind") != "Secret"
    }


def registered(rendering: Rendering, kind: str, name: str) -> dict[str, Any]:
    """The one registered (not yet normalised) object of ``kind`` called ``name`` in the environment."""
    (found,) = [
        body
        for body in registered_bodies(rendering).values()
        if body["kind"] == kind and body["metadata"]["name"] == name and body["metadata"].get("namespace") == NAMESPACE
    ]
    return found


def mismatches(rendering: Rendering) -> list[str]:
    """Where the export is not the provider's written form, with the first differing field.

    Two ways, in one ``check`` request: the provider's Check of each registered object must give the
    exported object (so the offline conversion neither keeps nor drops more than Go), and each
    exported object must come back from Check unchanged (a fixed point: nothing is left to
    normalise, charts' objects included when expanded).
    """
    exported = [m for m in rendering.manifests if m.kind != "Secret"]
    by_urn = {m.urn: m for m in exported if m.origin is None}
    raw = registered_bodies(rendering)
    assert set(raw) == set(by_urn), "every registered object is exported once"
    urns = sorted(raw)
    checked = go_checked([raw[urn] for urn in urns] + [m.body for m in exported])
    from_raw, from_export = checked[: len(urns)], checked[len(urns) :]
    found = [
        f"{by_urn[urn].path} (registered): {first_difference(by_urn[urn].body, go)}"
        for urn, go in zip(urns, from_raw, strict=True)
        if by_urn[urn].body != go
    ]
    found += [
        f"{manifest.path} (exported): {first_difference(manifest.body, go)}"
        for manifest, go in zip(exported, from_export, strict=True)
        if manifest.body != go
    ]
    return found


# --- the shapes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One stack shape: how it changes the dev config, and what its rendering must then contain."""

    name: str
    edit: Callable[[Config], None]
    covers: Callable[[Rendering], None]


def nobody_may_call(config: Config) -> None:
    # A fourth app that nothing routes to, calls or scrapes, and that calls nothing: both rule lists
    # of its NetworkPolicy are empty (the provider drops ``ingress: []`` and ``egress: []``). No
    # Service, no HPA, no env ConfigMap, no secret files, default resources and replicas.
    apps(config).append(
        {"name": "batch", "component": "batch", "image": "ghcr.io/stackyard-demo/shop-batch:1.0.0", "service": False}
    )


def covers_nobody_may_call(rendering: Rendering) -> None:
    # The program registers the empty lists; the provider writes neither.
    assert registered(rendering, "NetworkPolicy", "batch")["spec"]["ingress"] == []
    assert registered(rendering, "NetworkPolicy", "batch")["spec"]["egress"] == []
    policy = named(rendering, "NetworkPolicy", "batch")
    assert policy is not None
    assert "ingress" not in policy["spec"], policy["spec"]
    assert "egress" not in policy["spec"], policy["spec"]
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    deployment = named(rendering, "Deployment", "batch")
    assert deployment is not None
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "envFrom" not in container
    assert "env" not in container
    assert named(rendering, "HorizontalPodAutoscaler", "batch") is None
    assert named(rendering, "Service", "batch") is None
    assert not [body for body in of_kind(rendering, "ConfigMap") if body["metadata"]["name"].startswith("batch-env")]
    assert named(rendering, "PodMonitor", "batch") is None
    assert named(rendering, "ServiceMonitor", "batch") is None


def autoscaled_tls_ingress(config: Config) -> None:
    # Ingress routes with TLS and a cert-manager issuer (the controller redirects HTTP, a chart
    # value); every app autoscaled (one on the defaults, ``autoscaling: {}``), so no Deployment has
    # replicas; secret env vars beside plain ones; an explicit ingress intent from another
    # namespace's pods, and an egress block with exceptions.
    config["stackyard:ingress"]["httpsRedirect"] = True
    config["stackyard:namespace"]["quota"].update({"limitsCpu": "16", "limitsMemory": "16Gi", "pods": 40})
    for entry in apps(config):
        entry["autoscaling"] = {"minReplicas": 2, "maxReplicas": 6, "targetCpuUtilization": 65}
        entry.pop("replicas")
        if "route" in entry:
            entry["route"].update({"tlsSecret": "shop-tls", "clusterIssuer": "letsencrypt-staging"})
    app(config, "worker")["autoscaling"] = {}
    api = app(config, "api")
    api["secretEnv"] = {"DATABASE_PASSWORD": {"secret": "api-database", "key": "password"}}
    api["ingress"] = [
        {"namespace": "reporting", "podLabels": {"app.kubernetes.io/name": "reports"}, "ports": [{"port": 9000}]}
    ]
    api["egress"].append({"cidr": "10.0.0.0/8", "exceptCidrs": ["10.20.0.0/16"], "ports": [{"port": 443}]})


def covers_autoscaled_tls_ingress(rendering: Rendering) -> None:
    for name in ("frontend", "api", "worker"):
        autoscaler = named(rendering, "HorizontalPodAutoscaler", name)
        assert autoscaler is not None, name
        bounds = (autoscaler["spec"]["minReplicas"], autoscaler["spec"]["maxReplicas"])
        assert bounds == ((2, 5) if name == "worker" else (2, 6)), name
        deployment = named(rendering, "Deployment", name)
        assert deployment is not None, name
        assert "replicas" not in deployment["spec"], name
    ingresses = of_kind(rendering, "Ingress")
    assert ingresses
    assert all(body["spec"]["tls"] for body in ingresses)
    assert all("cert-manager.io/cluster-issuer" in body["metadata"]["annotations"] for body in ingresses)
    api = named(rendering, "Deployment", "api")
    assert api is not None
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "api-database", "key": "password"}
    assert container["envFrom"][0]["configMapRef"]["name"].startswith("api-env-")
    policy = named(rendering, "NetworkPolicy", "api")
    assert policy is not None
    sources = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert {"app.kubernetes.io/name": "reports"} in [peer.get("podSelector", {}).get("matchLabels") for peer in sources]
    assert any("except" in peer.get("ipBlock", {}) for rule in policy["spec"]["egress"] for peer in rule["to"])


def gateway_mixed_tls(config: Config) -> None:
    # Gateway API routes with Traefik: one host with TLS (an HTTPS listener and the redirect route),
    # one without (plain HTTP only); a route with several paths.
    config["stackyard:ingress"]["routeApi"] = "gateway"
    config["stackyard:ingress"]["httpsRedirect"] = True
    app(config, "frontend")["route"] = {"host": "shop.dev.example.com", "paths": ["/", "/static"]}
    app(config, "api")["route"] = {
        "host": "api.dev.example.com",
        "paths": ["/"],
        "tlsSecret": "api-tls",
        "clusterIssuer": "letsencrypt-staging",
    }


def covers_gateway_mixed_tls(rendering: Rendering) -> None:
    assert of_kind(rendering, "Ingress") == []
    gateway = named(rendering, "Gateway", "public")
    assert gateway is not None
    protocols = sorted(listener["protocol"] for listener in gateway["spec"]["listeners"])
    assert protocols == ["HTTP", "HTTPS"]
    assert named(rendering, "HTTPRoute", "public-https-redirect") is not None
    assert {body["metadata"]["name"] for body in of_kind(rendering, "HTTPRoute")} >= {"frontend", "api"}
    assert of_kind(rendering, "GatewayClass"), "the controller's GatewayClass"


def envoy_gateway(config: Config) -> None:
    # Envoy Gateway instead of Traefik: its EnvoyProxy, cert-manager certificates and GatewayClass
    # parameters; routes on the Gateway API, without TLS.
    config["stackyard:ingress"].update({"implementation": "envoy-gateway", "routeApi": "gateway"})


def covers_envoy_gateway(rendering: Rendering) -> None:
    assert of_kind(rendering, "EnvoyProxy")
    assert of_kind(rendering, "Certificate")
    assert of_kind(rendering, "Issuer")
    (gateway_class,) = of_kind(rendering, "GatewayClass")
    assert gateway_class["spec"]["parametersRef"]["kind"] == "EnvoyProxy"
    gateway = named(rendering, "Gateway", "public")
    assert gateway is not None
    assert [listener["protocol"] for listener in gateway["spec"]["listeners"]] == ["HTTP"]
    assert of_kind(rendering, "Ingress") == []


def ingress_nginx(config: Config) -> None:
    # The legacy controller, Ingress only.
    config["stackyard:ingress"]["implementation"] = "ingress-nginx"


def covers_ingress_nginx(rendering: Rendering) -> None:
    ingresses = of_kind(rendering, "Ingress")
    assert ingresses
    assert {body["spec"]["ingressClassName"] for body in ingresses} == {"nginx"}


def bare_namespace(config: Config) -> None:
    # The namespace without quota, container defaults, default-deny or DNS policy, with its own
    # labels and annotations; an app without a NetworkPolicy; an app without env at all.
    config["stackyard:namespace"].update(
        {
            "quota": None,
            "containerDefaults": None,
            "defaultDeny": False,
            "allowDns": False,
            "labels": {"team": "checkout"},
            "annotations": {"example.com/owner": "checkout"},
        }
    )
    app(config, "worker")["networkPolicy"] = False
    app(config, "frontend")["env"] = {}


def covers_bare_namespace(rendering: Rendering) -> None:
    assert named(rendering, "ResourceQuota", "quota") is None
    assert named(rendering, "LimitRange", "container-defaults") is None
    assert named(rendering, "NetworkPolicy", "default-deny") is None
    assert named(rendering, "NetworkPolicy", "allow-dns") is None
    assert named(rendering, "NetworkPolicy", "worker") is None
    assert named(rendering, "NetworkPolicy", "frontend") is not None
    namespace = named(rendering, "Namespace", NAMESPACE, namespace="")
    assert namespace is not None
    assert namespace["metadata"]["annotations"] == {"example.com/owner": "checkout"}
    frontend = named(rendering, "Deployment", "frontend")
    assert frontend is not None
    assert "envFrom" not in frontend["spec"]["template"]["spec"]["containers"][0]


def monitoring_minimal(config: Config) -> None:
    # Monitoring without Alertmanager, Grafana or the node exporter. Per app: every alert off (an
    # empty rule list), overridden alerts and a dashboard, and an app with no metrics port at all.
    config["stackyard:monitoring"].update({"grafana": False, "nodeExporter": False})
    config["stackyard:monitoring"].pop("grafanaAdminSecret")
    drop_secret(config, "grafana-admin")
    app(config, "frontend")["monitoring"] = {
        "alerts": {"PodNotReady": {"enabled": False}, "PodRestarting": {"enabled": False}}
    }
    app(config, "api")["monitoring"].update(
        {
            "interval": "15s",
            "dashboard": True,
            "alerts": {"HighErrorRate": {"threshold": 0.1, "severity": "warning", "forDuration": "5m"}},
        }
    )
    del app(config, "worker")["metricsPort"]


def covers_monitoring_minimal(rendering: Rendering) -> None:
    rules = named(rendering, "PrometheusRule", "frontend-alerts")
    assert rules is not None
    assert [group["rules"] for group in rules["spec"]["groups"]] == [[]]
    assert named(rendering, "ConfigMap", "api-dashboard") is not None
    assert named(rendering, "PodMonitor", "worker") is None
    worker = named(rendering, "NetworkPolicy", "worker")
    assert worker is not None
    assert "ingress" not in worker["spec"], "nothing scrapes or calls the worker now"
    monitor = named(rendering, "ServiceMonitor", "api")
    assert monitor is not None
    assert monitor["spec"]["endpoints"][0]["interval"] == "15s"
    api_rules = named(rendering, "PrometheusRule", "api-alerts")
    assert api_rules is not None
    (high_error_rate,) = [rule for rule in api_rules["spec"]["groups"][0]["rules"] if "HighErrorRate" in rule["alert"]]
    assert (high_error_rate["for"], high_error_rate["labels"]["severity"]) == ("5m", "warning")
    assert named(rendering, "Namespace", "node-exporter", namespace="") is None
    assert named(rendering, "Secret", "grafana-admin", namespace="monitoring") is None


def alerts_and_log_outputs(config: Config) -> None:
    # Alertmanager with Slack, PagerDuty and webhook receivers routed by severity; log shipping to
    # every kind of output at once, with credentials, labels, multiline parsing and Docker logs.
    add_secret(config, "alert-receivers", "monitoring", ["slack", "pagerduty", "webhook"])
    add_secret(config, "log-credentials", "logging", ["username", "password"])
    add_secret(config, "forward-key", "logging", ["shared-key"])
    ref = {"secret": "alert-receivers"}
    config["stackyard:monitoring"]["alertmanager"] = {
        "replicas": 2,
        "receivers": [
            {"name": "chat", "slack": {"apiUrl": {**ref, "key": "slack"}}},
            {"name": "oncall", "pagerduty": {"routingKey": {**ref, "key": "pagerduty"}}},
            {"name": "hook", "webhook": {"url": {**ref, "key": "webhook"}}},
        ],
        "routes": {"critical": "oncall", "info": "hook"},
    }
    config["stackyard:logging"].update(
        {
            "outputs": [
                {"type": "stdout", "match": "kube.var.log.containers.shop*"},
                {
                    "type": "loki",
                    "host": "loki.example.com",
                    "tls": False,
                    "labels": {"env": "dev"},
                    "tenantId": "shop",
                    "credentials": "log-credentials",
                },
                {"type": "opensearch", "host": "search.example.com", "index": "shop", "tlsVerify": False},
                {"type": "elasticsearch", "host": "es.example.com", "port": 443, "credentials": "log-credentials"},
                {
                    "type": "forward",
                    "host": "fluentd.example.com",
                    "sharedKey": {"secret": "forward-key", "key": "shared-key"},
                    "totalLimitSize": "512M",
                    "retryLimit": 3,
                },
            ],
            "multilineLanguages": ["java", "python", "go", "ruby"],
            "dockerRuntime": True,
            "logLevel": "debug",
            "mergeJsonLogs": False,
        }
    )


def covers_alerts_and_log_outputs(rendering: Rendering) -> None:
    fluent_bit = named(rendering, "DaemonSet", "fluent-bit", namespace="logging")
    assert fluent_bit is not None
    env = fluent_bit["spec"]["template"]["spec"]["containers"][0].get("env", [])
    assert any("secretKeyRef" in variable.get("valueFrom", {}) for variable in env)
    volumes = fluent_bit["spec"]["template"]["spec"]["volumes"]
    assert "/var/lib/docker/containers" in [volume.get("hostPath", {}).get("path") for volume in volumes]
    (config_map,) = [
        body
        for body in of_kind(rendering, "ConfigMap")
        if body["metadata"]["namespace"] == "logging" and body["metadata"]["name"].startswith("fluent-bit-config-")
    ]
    (text,) = config_map["data"].values()
    outputs = yaml.safe_load(text)["pipeline"]["outputs"]
    assert [output["name"] for output in outputs] == ["stdout", "loki", "opensearch", "es", "forward"]
    assert named(rendering, "NetworkPolicy", "allow-alertmanager-receivers", namespace="monitoring") is not None


def no_platform(config: Config) -> None:
    # No ingress controller, log shipping or monitoring: no routes, no monitors, and apps whose
    # policies carry only what the apps say of each other (the frontend: nobody may call it).
    for key in ("stackyard:ingress", "stackyard:logging", "stackyard:monitoring"):
        del config[key]
    drop_secret(config, "grafana-admin")
    for entry in apps(config):
        entry.pop("route", None)
        entry.pop("monitoring", None)


def covers_no_platform(rendering: Rendering) -> None:
    for kind in ("Ingress", "PrometheusRule", "ServiceMonitor", "PodMonitor", "DaemonSet"):
        assert of_kind(rendering, kind) == [], kind
    assert registered(rendering, "NetworkPolicy", "frontend")["spec"]["ingress"] == []
    frontend = named(rendering, "NetworkPolicy", "frontend")
    assert frontend is not None
    assert "ingress" not in frontend["spec"]
    assert frontend["spec"]["egress"]
    api = named(rendering, "NetworkPolicy", "api")
    assert api is not None
    assert len(api["spec"]["ingress"]) == 2
    assert {m.body["metadata"].get("namespace") for m in rendering.manifests} == {NAMESPACE, None}


def shared_platform(config: Config) -> None:
    # An environment on a shared platform: only the environment's own objects (namespace, apps,
    # routes, monitors), the platform's namespaces and charts belong to another stack.
    config["stackyard:platform"] = "shared"
    drop_secret(config, "grafana-admin")
    config["stackyard:monitoring"].pop("grafanaAdminSecret")
    config["stackyard:monitoring"].update({"grafana": False, "scrapePorts": [9090, 9102]})
    del config["stackyard:logging"]


def covers_shared_platform(rendering: Rendering) -> None:
    assert rendering.records == []
    assert named(rendering, "Namespace", "monitoring", namespace="") is None
    assert of_kind(rendering, "Ingress")
    assert of_kind(rendering, "PrometheusRule")


def loose_quantities(config: Config) -> None:
    # Quantities as people write them, not as Kubernetes prints them: the provider writes each in
    # canonical form (0.25 -> 250m, 1024Mi -> 1Gi, 1000m -> 1), in containers, quota, limit range
    # and the platform's workloads alike.
    config["stackyard:namespace"]["quota"].update({"requestsCpu": "2000m", "limitsMemory": "8192Mi"})
    config["stackyard:namespace"]["containerDefaults"] = {"defaultRequestCpu": "0.1", "maxMemory": "4096Mi"}
    app(config, "frontend")["resources"] = {
        "requests": {"cpu": "0.05", "memory": "0.0625Gi"},
        "limits": {"cpu": "250m", "memory": "131072Ki"},
    }
    app(config, "api")["resources"]["limits"] = {"cpu": "0.5", "memory": "0.25Gi"}
    config["stackyard:ingress"]["resources"]["limits"] = {"cpu": "0.5", "memory": "0.25Gi"}
    config["stackyard:monitoring"]["prometheus"]["resources"]["limits"] = {"cpu": "1000m", "memory": "1024Mi"}
    config["stackyard:logging"]["resources"] = {
        "requests": {"cpu": "0.05", "memory": "65536Ki"},
        "limits": {"cpu": "0.5", "memory": "0.375Gi"},
    }


def covers_loose_quantities(rendering: Rendering) -> None:
    frontend = registered(rendering, "Deployment", "frontend")
    assert frontend["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "0.05"
    exported = named(rendering, "Deployment", "frontend")
    assert exported is not None
    assert exported["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "250m", "memory": "128Mi"},
    }
    quota = named(rendering, "ResourceQuota", "quota")
    assert quota is not None
    assert quota["spec"]["hard"]["requests.cpu"] == "2"
    assert quota["spec"]["hard"]["limits.memory"] == "8Gi"
    fluent_bit = named(rendering, "DaemonSet", "fluent-bit", namespace="logging")
    assert fluent_bit is not None
    assert fluent_bit["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "384Mi"


def platform_stack(config: Config) -> None:
    # A platform stack: no namespace and no apps, only the ingress controller, log shipping and
    # monitoring, with the cluster's exact API server and node addresses in their egress rules.
    del config["stackyard:namespace"], config["stackyard:apps"]
    drop_secret(config, "api-database")
    config["stackyard:cluster"] = {
        "apiServer": {"cidrs": ["10.0.0.10/32"], "ports": [6443]},
        "nodeCidrs": ["10.1.0.0/16"],
    }


def covers_platform_stack(rendering: Rendering) -> None:
    assert named(rendering, "Namespace", NAMESPACE, namespace="") is None
    assert not [m for m in rendering.manifests if m.namespace == NAMESPACE]
    blocks = [
        peer["ipBlock"]["cidr"]
        for body in of_kind(rendering, "NetworkPolicy")
        for rule in body["spec"].get("egress", [])
        for peer in rule.get("to", [])
        if "ipBlock" in peer
    ]
    assert "10.0.0.10/32" in blocks
    assert "10.1.0.0/16" in blocks
    assert "0.0.0.0/0" not in blocks


NOBODY_MAY_CALL = Shape("nobody-may-call", nobody_may_call, covers_nobody_may_call)

SHAPES = [
    NOBODY_MAY_CALL,
    Shape("autoscaled-tls-ingress", autoscaled_tls_ingress, covers_autoscaled_tls_ingress),
    Shape("gateway-mixed-tls", gateway_mixed_tls, covers_gateway_mixed_tls),
    Shape("envoy-gateway", envoy_gateway, covers_envoy_gateway),
    Shape("ingress-nginx", ingress_nginx, covers_ingress_nginx),
    Shape("bare-namespace", bare_namespace, covers_bare_namespace),
    Shape("monitoring-minimal", monitoring_minimal, covers_monitoring_minimal),
    Shape("alerts-and-log-outputs", alerts_and_log_outputs, covers_alerts_and_log_outputs),
    Shape("no-platform", no_platform, covers_no_platform),
    Shape("shared-platform", shared_platform, covers_shared_platform),
    Shape("platform-stack", platform_stack, covers_platform_stack),
    Shape("loose-quantities", loose_quantities, covers_loose_quantities),
]


# --- the test ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shapes_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One private copy of the project for every shape's stack file (each shape writes its own)."""
    try:
        find_expander()
    except ExpanderError as error:
        pytest.skip(f"the oracle is the chart expander's check mode: {error}")
    copy_dir = tmp_path_factory.mktemp("shapes") / "project"
    shutil.copytree(ROOT, copy_dir, ignore=_NOT_COPIED)
    return copy_dir


def render_shape(project: Path, shape: Shape) -> Rendering:
    config = dev_config()
    shape.edit(config)
    stack_file = project / f"Pulumi.{shape.name}.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False), encoding="utf-8")
    return evaluate_stack(project, shape.name, charts=RECORD)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.name)
def test_every_exported_object_is_as_the_provider_writes_it(shapes_project: Path, shape: Shape) -> None:
    rendering = render_shape(shapes_project, shape)
    shape.covers(rendering)
    assert len(registered_bodies(rendering)) > 10, "the shape exports the program's objects"
    assert mismatches(rendering) == []


def test_a_difference_from_the_provider_is_reported_with_its_field(shapes_project: Path) -> None:
    """The comparison itself: an export that kept the registered ``egress: []`` and ``ingress: []``
    is reported both ways, at the first field Go drops."""
    rendering = render_shape(shapes_project, NOBODY_MAY_CALL)
    raw = registered(rendering, "NetworkPolicy", "batch")
    (target,) = [m for m in rendering.manifests if m.kind == "NetworkPolicy" and m.name == "batch"]
    tampered = [dataclasses.replace(m, body=raw) if m is target else m for m in rendering.manifests]
    assert mismatches(dataclasses.replace(rendering, manifests=tampered)) == [
        f"{target.path} (registered): .spec.egress: ours [], Go drops it",
        f"{target.path} (exported): .spec.egress: ours [], Go drops it",
    ]
