"""Every namespace of a stack denies by default, and the platform's own traffic still flows.

The rendered NetworkPolicies are evaluated with the API's semantics (tests/netpol.py) for the
connections the platform needs (and some it must not make). kwok runs no CNI, so the cluster tier
cannot enforce policies; this is where their meaning is tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from components import Monitoring, MonitoringArgs
from stackyard.manifests import Manifest
from stackyard.render import Rendering, evaluate_stack
from tests.conftest import ROOT, STACKS, complete_charts, run_program
from tests.netpol import Endpoint, Network, Outside, Pod

INTERNET = Outside("203.0.113.7")
API_SERVER = Outside("10.0.0.1")
NODE = Outside("192.0.2.10")
DNS = Pod("kube-system", {"k8s-app": "kube-dns"})
PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
ALERTMANAGER = Pod("monitoring", {"app.kubernetes.io/name": "alertmanager"})
GRAFANA = Pod("monitoring", {"app.kubernetes.io/name": "grafana"})
TRAEFIK = Pod("ingress", {"app.kubernetes.io/name": "traefik"})
STRANGER = Pod("someone-else", {"app": "curious"})


def network(rendering: Rendering) -> Network:
    policies = [m.body for m in rendering.manifests if m.kind == "NetworkPolicy"]
    namespaces = {m.name: m.body["metadata"].get("labels", {}) for m in rendering.manifests if m.kind == "Namespace"}
    return Network(policies, namespaces)


def workload_pod(rendering: Rendering, kind: str, name: str) -> Pod:
    (body,) = [m.body for m in rendering.manifests if m.kind == kind and m.name == name]
    return Pod(body["metadata"]["namespace"], body["spec"]["template"]["metadata"]["labels"])


def app_namespace(rendering: Rendering) -> str:
    (name,) = [m.name for m in rendering.manifests if m.kind == "Namespace" and m.name.startswith("shop-")]
    return name


def metrics_port(rendering: Rendering, app: str) -> int:
    """The app's metrics port: its own ``metrics`` port, or its only port when it serves metrics there."""
    (body,) = [m.body for m in rendering.manifests if m.kind == "Deployment" and m.name == app]
    ports = {p["name"]: p["containerPort"] for p in body["spec"]["template"]["spec"]["containers"][0]["ports"]}
    if "metrics" in ports:
        return int(ports["metrics"])
    (only,) = ports.values()
    return int(only)


@pytest.mark.parametrize("stack", STACKS)
class TestEveryNamespaceIsClosed:
    def test_each_namespace_has_default_deny_both_ways_and_dns(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        rendering = rendered[stack]
        namespaces = {m.name for m in rendering.manifests if m.kind == "Namespace"}
        assert {"ingress", "logging", "monitoring"} <= namespaces
        net = network(rendering)
        for namespace in namespaces:
            nobody = Pod(namespace, {"app.kubernetes.io/name": "not-a-known-pod"})
            # Not 443: without the cluster's API server addresses, platform pods may use 443 anywhere.
            assert not net.allows(nobody, INTERNET, 5432), namespace
            assert not net.allows(STRANGER, nobody, 8080), namespace
            assert net.allows(nobody, DNS, 53, "UDP"), namespace

    def test_a_pod_of_another_namespace_reaches_no_platform_port(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        net = network(rendered[stack])
        fluent_bit = workload_pod(rendered[stack], "DaemonSet", "fluent-bit")
        assert not net.allows(STRANGER, fluent_bit, 2020)
        assert not net.allows(STRANGER, PROMETHEUS, 9090)
        assert not net.allows(STRANGER, GRAFANA, 3000)
        assert not net.allows(STRANGER, TRAEFIK, 9100)


@pytest.mark.parametrize("stack", STACKS)
class TestThePlatformStillWorks:
    def test_the_internet_reaches_the_controller_on_its_entry_ports_only(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        net = network(rendered[stack])
        assert net.allows(INTERNET, TRAEFIK, 8000)
        assert net.allows(INTERNET, TRAEFIK, 8443)
        assert not net.allows(INTERNET, TRAEFIK, 9100)
        assert not net.allows(INTERNET, TRAEFIK, 8080)  # Traefik's dashboard/API port

    def test_the_controller_reaches_routed_apps_and_the_api_server_but_not_the_rest(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        rendering, net = rendered[stack], network(rendered[stack])
        frontend = workload_pod(rendering, "Deployment", "frontend")
        worker = workload_pod(rendering, "Deployment", "worker")
        assert net.allows(TRAEFIK, frontend, 8080)
        assert net.allows(TRAEFIK, API_SERVER, 443)
        assert not net.allows(TRAEFIK, worker, 9090)  # the worker has no route
        assert not net.allows(TRAEFIK, PROMETHEUS, 9090)

    def test_prometheus_scrapes_apps_the_shipper_the_controller_and_nodes(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        rendering, net = rendered[stack], network(rendered[stack])
        fluent_bit = workload_pod(rendering, "DaemonSet", "fluent-bit")
        for app in ("frontend", "api", "worker"):
            assert net.allows(PROMETHEUS, workload_pod(rendering, "Deployment", app), metrics_port(rendering, app)), app
        assert net.allows(PROMETHEUS, fluent_bit, 2020)
        assert net.allows(PROMETHEUS, TRAEFIK, 9100)
        assert net.allows(PROMETHEUS, NODE, 10250)  # the kubelet
        assert net.allows(PROMETHEUS, ALERTMANAGER, 9093)
        assert not net.allows(GRAFANA, workload_pod(rendering, "Deployment", "frontend"), 8080)

    def test_fluent_bit_reaches_the_api_server_and_its_backend_only(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        rendering, net = rendered[stack], network(rendered[stack])
        fluent_bit = workload_pod(rendering, "DaemonSet", "fluent-bit")
        assert net.allows(fluent_bit, API_SERVER, 443)
        assert not net.allows(fluent_bit, workload_pod(rendering, "Deployment", "api"), 9000)
        assert not net.allows(fluent_bit, PROMETHEUS, 9090)

    def test_apps_keep_their_own_allow_lists(self, rendered: dict[str, Rendering], stack: str) -> None:
        rendering, net = rendered[stack], network(rendered[stack])
        frontend = workload_pod(rendering, "Deployment", "frontend")
        api = workload_pod(rendering, "Deployment", "api")
        assert net.allows(frontend, api, 9000)
        assert not net.allows(api, frontend, 8080)
        assert app_namespace(rendering) == frontend.namespace


class TestExactAddresses:
    """With the cluster's addresses given, the monitoring namespace's rules narrow to them."""

    def test_alertmanager_reaches_https_receivers_and_prometheus_only_the_given_addresses(self) -> None:
        net = monitoring_network(
            alertmanager={"receivers": [{"name": "hook", "webhook": {"url": {"secret": "s", "key": "k"}}}]},
            api_server={"cidrs": ["10.0.0.1/32"], "ports": [6443]},
            node_cidrs=["192.0.2.0/24"],
        )
        assert net.allows(ALERTMANAGER, INTERNET, 443)
        assert not net.allows(PROMETHEUS, INTERNET, 443)
        assert net.allows(PROMETHEUS, API_SERVER, 6443)
        assert not net.allows(PROMETHEUS, API_SERVER, 443)
        assert net.allows(PROMETHEUS, NODE, 10250)
        assert not net.allows(PROMETHEUS, Outside("198.51.100.1"), 10250)

    def test_without_alertmanager_nothing_in_the_namespace_leaves_on_https(self) -> None:
        net = monitoring_network(alertmanager=False, api_server={"cidrs": ["10.0.0.1/32"]})
        assert not net.allows(ALERTMANAGER, INTERNET, 443)
        assert not net.allows(GRAFANA, INTERNET, 443)
        assert net.allows(GRAFANA, PROMETHEUS, 9090)


def monitoring_network(**fields: Any) -> Network:
    args = MonitoringArgs(**{"grafana_admin_secret": "grafana-admin", **fields})
    objects = run_program(lambda: Monitoring("kube-prometheus-stack", args))
    return Network(objects.of_kind("NetworkPolicy"), {})


# The complete export: the charts' own objects too, with the pods they really run.


@pytest.fixture(scope="module")
def complete_exports() -> dict[str, Rendering]:
    """Each stack's complete export (the charts expanded), evaluated once for this module."""
    charts = complete_charts()
    return {stack: evaluate_stack(ROOT, stack, charts=charts) for stack in STACKS}


@dataclass(frozen=True)
class RunningPod:
    """A pod the export makes run: from a workload's template, or from the operator's custom resources."""

    source: str
    """What runs it, for messages: ``Deployment monitoring/kube-prometheus-stack-grafana``."""
    pod: Pod
    ports: tuple[tuple[str, int, str], ...]
    """Its containers' ports: (name, containerPort, protocol)."""
    host_network: bool = False
    from_chart: bool = False

    @property
    def address(self) -> Endpoint:
        """Where a connection to it goes: a host-network pod listens on its node's address, and
        CNIs treat its traffic as the node's, not as a pod's that policies select."""
        return NODE if self.host_network else self.pod

    def port_named(self, name: str) -> int | None:
        return next((number for port_name, number, _ in self.ports if port_name == name), None)


#: Pods the cluster runs in kube-system that the chart's kube-system Services select (CoreDNS, and
#: kubeadm's control-plane static pods and kube-proxy, which run on the host network).
CLUSTER_PODS = (
    RunningPod("CoreDNS", Pod("kube-system", {"k8s-app": "kube-dns"}), ()),
    *(
        RunningPod(component, Pod("kube-system", {"component": component, "tier": "control-plane"}), (), True)
        for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ),
    RunningPod("kube-proxy", Pod("kube-system", {"k8s-app": "kube-proxy"}), (), True),
)

#: ServiceMonitors whose Services are the cluster's, not the export's, by (namespace, selector):
#: the kubelet's Service is made by the operator (``--kubelet-service``) with the nodes as its
#: endpoints, and ``default/kubernetes`` has the API server's address as its endpoint.
CLUSTER_TARGETS: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Outside, tuple[int, ...]]] = {
    ("kube-system", (("app.kubernetes.io/name", "kubelet"), ("k8s-app", "kubelet"))): (NODE, (10250,)),
    ("default", (("component", "apiserver"), ("provider", "kubernetes"))): (API_SERVER, (443, 6443)),
}

WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet")


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A label selector's meaning (an empty selector selects everything)."""
    selector = selector or {}
    assert not selector.get("matchExpressions"), "matchExpressions are not modelled"
    return all(labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items())


def container_ports(pod_spec: dict[str, Any]) -> tuple[tuple[str, int, str], ...]:
    return tuple(
        (port.get("name", ""), int(port["containerPort"]), port.get("protocol", "TCP"))
        for container in pod_spec.get("containers", [])
        for port in container.get("ports") or []
    )


def operator_pods(manifest: Manifest) -> list[RunningPod]:
    """The pods the Prometheus Operator creates for a ``Prometheus`` or ``Alertmanager``.

    Their labels are the operator's selector labels (prometheus-operator
    pkg/prometheus/server/statefulset.go and pkg/alertmanager/statefulset.go, ``podSelectorLabels``),
    over the resource's ``spec.podMetadata.labels``; their ports are the web port
    (``spec.portName``, default ``web``; 9090 for Prometheus, 9093 for Alertmanager) unless
    ``listenLocal``, the config reloader's ``reloader-web`` (8080) and Alertmanager's mesh (9094).
    """
    spec, name, namespace = manifest.body["spec"], manifest.name, manifest.namespace
    own = dict((spec.get("podMetadata") or {}).get("labels") or {})
    web_port = spec.get("portName") or "web"
    reloader = ("reloader-web", 8080, "TCP")
    common = {"app.kubernetes.io/managed-by": "prometheus-operator", "app.kubernetes.io/instance": name}
    source = f"{manifest.kind} {namespace}/{name}"
    if manifest.kind == "Prometheus":
        web = () if spec.get("listenLocal") else ((web_port, 9090, "TCP"),)
        return [
            RunningPod(
                f"{source} (shard {shard})",
                Pod(
                    namespace,
                    {
                        **own,
                        **common,
                        "app.kubernetes.io/name": "prometheus",
                        "prometheus": name,
                        "operator.prometheus.io/name": name,
                        "operator.prometheus.io/shard": str(shard),
                    },
                ),
                (*web, reloader),
                bool(spec.get("hostNetwork")),
                manifest.origin is not None,
            )
            for shard in range(int(spec.get("shards") or 1))
        ]
    web = () if spec.get("listenLocal") else ((web_port, 9093, "TCP"),)
    labels = {**own, **common, "app.kubernetes.io/name": "alertmanager", "alertmanager": name}
    mesh = (("mesh-tcp", 9094, "TCP"), ("mesh-udp", 9094, "UDP"))
    return [
        RunningPod(
            source,
            Pod(namespace, labels),
            (*web, *mesh, reloader),
            bool(spec.get("hostNetwork")),
            manifest.origin is not None,
        )
    ]


def running_pods(rendering: Rendering) -> list[RunningPod]:
    """Every pod the export makes run: the workloads' and the operator's."""
    pods = []
    for manifest in rendering.manifests:
        if manifest.kind in WORKLOAD_KINDS:
            template = manifest.body["spec"]["template"]
            pods.append(
                RunningPod(
                    f"{manifest.kind} {manifest.namespace}/{manifest.name}",
                    Pod(manifest.namespace, dict(template["metadata"].get("labels") or {})),
                    container_ports(template["spec"]),
                    bool(template["spec"].get("hostNetwork")),
                    manifest.origin is not None,
                )
            )
        elif manifest.kind in ("Prometheus", "Alertmanager"):
            pods += operator_pods(manifest)
    return pods


def chart_pods(rendering: Rendering) -> list[RunningPod]:
    pods = [pod for pod in running_pods(rendering) if pod.from_chart]
    assert pods, "the complete export runs no chart pod"
    return pods


def namespace_labels(rendering: Rendering, namespace: str) -> dict[str, str]:
    labels = {m.name: m.body["metadata"].get("labels", {}) for m in rendering.manifests if m.kind == "Namespace"}
    return {**labels.get(namespace, {}), "kubernetes.io/metadata.name": namespace}


def monitored_namespaces(monitor: Manifest) -> set[str] | None:
    """The namespaces a ServiceMonitor or PodMonitor looks in (``None``: all of them)."""
    chosen = monitor.body["spec"].get("namespaceSelector") or {}
    if chosen.get("any"):
        return None
    return set(chosen.get("matchNames") or []) or {monitor.namespace}


def watches(rendering: Rendering, prometheus: Manifest, monitor: Manifest) -> bool:
    """Whether a Prometheus picks the monitor up: its ``<kind>Selector`` (unset picks none) and
    ``<kind>NamespaceSelector`` (unset: its own namespace only)."""
    field = "serviceMonitor" if monitor.kind == "ServiceMonitor" else "podMonitor"
    spec = prometheus.body["spec"]
    if spec.get(f"{field}Selector") is None or not selects(
        spec[f"{field}Selector"], monitor.body["metadata"].get("labels", {})
    ):
        return False
    namespaces = spec.get(f"{field}NamespaceSelector")
    if namespaces is None:
        return monitor.namespace == prometheus.namespace
    return selects(namespaces, namespace_labels(rendering, monitor.namespace))


def target_port(port: dict[str, Any], pod: RunningPod) -> int | None:
    """A Service port's target on one pod: a number, or a name resolved against its containers."""
    target = port.get("targetPort", port["port"])
    return pod.port_named(target) if isinstance(target, str) else int(target)


Target = tuple[str, Endpoint, int]
"""One scrape: what it is (for messages), where it goes and the port."""


def scrape_targets(rendering: Rendering, monitor: Manifest) -> tuple[list[Target], list[str]]:
    """What one ServiceMonitor or PodMonitor makes Prometheus scrape, and what of it could not be
    resolved (each a failure)."""
    namespaces = monitored_namespaces(monitor)
    spec, name = monitor.body["spec"], f"{monitor.kind} {monitor.namespace}/{monitor.name}"
    if monitor.kind == "PodMonitor":
        pods = [
            pod
            for pod in running_pods(rendering)
            if (namespaces is None or pod.pod.namespace in namespaces) and selects(spec.get("selector"), pod.pod.labels)
        ]
        return pod_targets(name, pods, [e["port"] for e in spec.get("podMetricsEndpoints") or []])
    services = [
        m.body
        for m in rendering.manifests
        if m.kind == "Service"
        and (namespaces is None or m.namespace in namespaces)
        and selects(spec.get("selector"), m.body["metadata"].get("labels", {}))
    ]
    if services:
        targets: list[Target] = []
        problems: list[str] = []
        for service in services:
            found, missing = service_targets(rendering, name, service, spec.get("endpoints") or [])
            targets += found
            problems += missing
        return targets, problems
    # Not the export's Services: the cluster's own (the kubelet's, the API server's), else nothing.
    key = (
        monitor.namespace if namespaces is None else min(namespaces),
        tuple(sorted((spec.get("selector") or {}).get("matchLabels", {}).items())),
    )
    if key not in CLUSTER_TARGETS:
        return [], [f"{name} selects no Service"]
    address, numbers = CLUSTER_TARGETS[key]
    return [(f"{name} -> {address.address}", address, number) for number in numbers], []


def pod_targets(name: str, pods: list[RunningPod], port_names: list[str]) -> tuple[list[Target], list[str]]:
    """A PodMonitor's targets: each selected pod on each endpoint's port, by name."""
    if not pods:
        return [], [f"{name} selects no pod"]
    targets, problems = [], []
    for port_name in port_names:
        for pod in pods:
            number = pod.port_named(port_name)
            if number is None:
                problems.append(f"{name}: {pod.source} has no port named {port_name!r}")
            else:
                targets.append((f"{name} -> {pod.source}", pod.address, number))
    return targets, problems


def service_targets(
    rendering: Rendering, name: str, service: dict[str, Any], endpoints: list[dict[str, Any]]
) -> tuple[list[Target], list[str]]:
    """A ServiceMonitor's targets behind one Service: each endpoint's Service port (by name) to its
    targetPort on each pod the Service selects, a name resolved against that pod's containers."""
    service_name = f"Service {service['metadata']['namespace']}/{service['metadata']['name']}"
    if not service["spec"].get("selector"):
        return [], []  # endpoints managed outside the export (none of the export's Services today)
    pods = [
        pod
        for pod in (*running_pods(rendering), *CLUSTER_PODS)
        if pod.pod.namespace == service["metadata"]["namespace"]
        and selects({"matchLabels": service["spec"]["selector"]}, pod.pod.labels)
    ]
    if not pods:
        return [], [f"{name}: {service_name} selects no pod"]
    targets, problems = [], []
    for endpoint in endpoints:
        if "targetPort" in endpoint:  # the deprecated form: the pods' port itself
            ports = [{"port": endpoint["targetPort"], "targetPort": endpoint["targetPort"]}]
        else:
            ports = [p for p in service["spec"].get("ports", []) if p.get("name") == endpoint.get("port")]
        if not ports:
            problems.append(f"{name}: {service_name} has no port named {endpoint.get('port')!r}")
        for port in ports:
            for pod in pods:
                number = target_port(port, pod)
                if number is None:
                    problems.append(f"{name}: {pod.source} has no port named {port['targetPort']!r}")
                else:
                    targets.append((f"{name} -> {service_name} -> {pod.source}", pod.address, number))
    return targets, problems


def describe(endpoint: Endpoint) -> str:
    return f"at {endpoint.address}" if isinstance(endpoint, Outside) else "(its pod)"


@pytest.mark.parametrize("stack", STACKS)
class TestTheCompleteExportsFlows:
    """The flows the platform needs, with the pods the charts and the operator really run."""

    def test_prometheus_scrapes_every_target_of_every_monitor(
        self, complete_exports: dict[str, Rendering], stack: str
    ) -> None:
        rendering = complete_exports[stack]
        net = network(rendering)
        prometheuses = [m for m in rendering.manifests if m.kind == "Prometheus"]
        monitors = [m for m in rendering.manifests if m.kind in ("ServiceMonitor", "PodMonitor")]
        assert prometheuses
        assert any(m.origin is not None for m in monitors), "no chart's monitor"
        assert any(m.origin is None for m in monitors), "no program's monitor"
        failures: list[str] = []
        scraped = 0
        for monitor in monitors:
            watchers = [p for p in prometheuses if watches(rendering, p, monitor)]
            if not watchers:
                failures.append(f"{monitor.kind} {monitor.namespace}/{monitor.name}: no Prometheus picks it up")
            targets, problems = scrape_targets(rendering, monitor)
            failures += problems
            for prometheus in watchers:
                for scraper in operator_pods(prometheus):
                    for what, address, port in targets:
                        scraped += 1
                        if not net.allows(scraper.pod, address, port):
                            failures.append(f"{what} {describe(address)} on {port} is blocked")
        assert not failures, "\n".join(failures)
        assert scraped >= len(monitors)

    def test_grafana_reaches_prometheus_on_the_port_of_its_service(
        self, complete_exports: dict[str, Rendering], stack: str
    ) -> None:
        rendering = complete_exports[stack]
        net = network(rendering)
        grafanas = [pod for pod in chart_pods(rendering) if pod.pod.labels.get("app.kubernetes.io/name") == "grafana"]
        if not grafanas:
            pytest.skip(f"{stack} runs no Grafana")
        prometheus = next(m for m in rendering.manifests if m.kind == "Prometheus")
        (server, *_) = operator_pods(prometheus)
        web = prometheus.body["spec"].get("portName") or "web"
        (service,) = [
            m.body
            for m in rendering.manifests
            if m.kind == "Service"
            and m.namespace == server.pod.namespace
            and m.body["spec"].get("selector")
            and selects({"matchLabels": m.body["spec"]["selector"]}, server.pod.labels)
        ]
        (port,) = [p for p in service["spec"]["ports"] if p["name"] == web]
        number = target_port(port, server)
        assert number == server.port_named(web) == 9090
        for grafana in grafanas:
            assert net.allows(grafana.pod, server.pod, number), grafana.source
        assert not net.allows(STRANGER, server.pod, number)

    def test_prometheus_reaches_the_alertmanagers_it_sends_alerts_to(
        self, complete_exports: dict[str, Rendering], stack: str
    ) -> None:
        rendering = complete_exports[stack]
        net = network(rendering)
        prometheus = next(m for m in rendering.manifests if m.kind == "Prometheus")
        alerting = (prometheus.body["spec"].get("alerting") or {}).get("alertmanagers") or []
        if not alerting:
            assert not [m for m in rendering.manifests if m.kind == "Alertmanager"], "an Alertmanager nobody alerts"
            pytest.skip(f"{stack} runs no Alertmanager")
        failures = []
        for reference in alerting:
            (service,) = [
                m.body
                for m in rendering.manifests
                if m.kind == "Service" and m.namespace == reference["namespace"] and m.name == reference["name"]
            ]
            found, problems = service_targets(rendering, "alerting", service, [{"port": reference["port"]}])
            assert found, problems
            failures += problems
            for server in operator_pods(prometheus):
                failures += [
                    f"{what} on {port}" for what, address, port in found if not net.allows(server.pod, address, port)
                ]
        assert not failures, "\n".join(failures)

    @pytest.mark.parametrize("name", ["kube-prometheus-stack-prometheus-operator", "kube-state-metrics", "grafana"])
    def test_the_charts_controllers_reach_the_api_server(
        self, complete_exports: dict[str, Rendering], stack: str, name: str
    ) -> None:
        rendering = complete_exports[stack]
        net = network(rendering)
        pods = [pod for pod in chart_pods(rendering) if pod.pod.labels.get("app.kubernetes.io/name") == name]
        if not pods and name == "grafana":
            pytest.skip(f"{stack} runs no Grafana")
        assert pods, f"no chart pod labelled app.kubernetes.io/name={name}"
        for pod in pods:
            assert net.allows(pod.pod, API_SERVER, 443), pod.source
            assert net.allows(pod.pod, API_SERVER, 6443), pod.source
            assert not net.allows(pod.pod, INTERNET, 5432), pod.source

    def test_a_pod_of_another_namespace_reaches_no_chart_pod_but_the_entry_ports(
        self, complete_exports: dict[str, Rendering], stack: str
    ) -> None:
        rendering = complete_exports[stack]
        net = network(rendering)
        entry = entry_ports(rendering)
        assert entry, "the ingress controller exposes no entry port"
        failures: list[str] = []
        for target in chart_pods(rendering):
            for port_name, number, protocol in target.ports:
                intended = (target.pod.namespace, number) in entry
                if net.allows(STRANGER, target.pod, number, protocol) != intended:
                    verb = "cannot reach" if intended else "reaches"
                    failures.append(f"a stranger {verb} {target.source} on {port_name} ({number}/{protocol})")
        assert not failures, "\n".join(failures)

    def test_an_app_namespace_lets_in_no_chart_pod_but_the_entry_ports(
        self, complete_exports: dict[str, Rendering], stack: str
    ) -> None:
        rendering = complete_exports[stack]
        net = network(rendering)
        shop = app_namespace(rendering)
        entry = entry_ports(rendering)
        apps = [pod.pod for pod in running_pods(rendering) if pod.pod.namespace == shop]
        assert apps
        failures: list[str] = []
        for source in (*apps, Pod(shop, {"app.kubernetes.io/name": "not-a-known-pod"})):
            for target in chart_pods(rendering):
                for port_name, number, protocol in target.ports:
                    intended = (target.pod.namespace, number) in entry
                    what = f"{source.labels.get('app.kubernetes.io/name')} -> {target.source} on {port_name} ({number})"
                    # The chart pod's own namespace admits the app only on the entry ports...
                    if net.admits(source, target.pod, number, protocol) != intended:
                        failures.append(f"{what}: {'not ' if intended else ''}admitted")
                    # ...and the app's namespace lets nothing out to the platform's pods.
                    if net.allows(source, target.pod, number, protocol):
                        failures.append(f"{what}: allowed")
        assert not failures, "\n".join(failures)

    def test_each_chart_pod_is_closed_by_its_namespaces_default_deny(
        self, complete_exports: dict[str, Rendering], stack: str
    ) -> None:
        rendering = complete_exports[stack]
        policies = [m.body for m in rendering.manifests if m.kind == "NetworkPolicy"]
        namespaces = {pod.pod.namespace for pod in chart_pods(rendering)}
        assert {"ingress", "monitoring", "node-exporter"} <= namespaces
        unopened = 65000
        assert all(
            p.get("port") != unopened
            for policy in policies
            for rule in [*policy["spec"].get("ingress", []), *policy["spec"].get("egress", [])]
            for p in rule.get("ports") or []
        )
        net = network(rendering)
        failures: list[str] = []
        # The node exporter's pod is selected like any other, but it runs on the host network, where
        # CNIs apply no pod policy: its port 9100 is the node's, which Prometheus scrapes as such.
        for target in chart_pods(rendering):
            (deny,) = [
                p
                for p in policies
                if p["metadata"]["namespace"] == target.pod.namespace and p["metadata"]["name"] == "default-deny"
            ]
            alone = Network([deny], {})
            if alone.allows(STRANGER, target.pod, unopened) or alone.allows(target.pod, INTERNET, unopened):
                failures.append(f"default-deny in {target.pod.namespace} does not select {target.source}")
            if net.allows(STRANGER, target.pod, unopened) or net.allows(target.pod, INTERNET, unopened):
                failures.append(f"{target.source} is open on {unopened}, which no allow rule opens")
        assert not failures, "\n".join(failures)


def entry_ports(rendering: Rendering) -> set[tuple[str, int]]:
    """The ingress controller's entry ports, (namespace, container port): what its Services of type
    LoadBalancer or NodePort target on its pods, which anyone may reach by design."""
    pods = running_pods(rendering)
    found = set()
    for service in (m.body for m in rendering.manifests if m.kind == "Service" and m.namespace == "ingress"):
        if service["spec"].get("type") not in ("LoadBalancer", "NodePort"):
            continue
        for pod in pods:
            if pod.pod.namespace == "ingress" and selects({"matchLabels": service["spec"]["selector"]}, pod.pod.labels):
                found |= {
                    ("ingress", n) for port in service["spec"]["ports"] if (n := target_port(port, pod)) is not None
                }
    return found
