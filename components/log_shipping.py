"""LogShipping: Fluent Bit as native resources, so every line of it ships in the audit export.

Children: the ``logging`` namespace, a ServiceAccount with a read-only ClusterRole (pods and
namespaces), a ConfigMap with the Fluent Bit configuration (YAML format, content-hashed name, so a
change rolls the DaemonSet), the DaemonSet, and a metrics Service.

Buffering: inputs use ``storage.type: filesystem``. Chunks wait on the node's disk under
``<hostStatePath>/storage`` while an output is slow or down, so backpressure costs disk, not
logs. Memory is bounded by ``storageMaxChunksUp`` (chunks of about 2 MB held in memory at once)
plus ``storageBacklogMemLimit``; ``memBufLimit`` would only govern memory buffering and is not used.
Disk is bounded per output by ``totalLimitSize``: when it is reached, the oldest chunks for that
output are dropped, which is the one way logs can still be lost (after a long outage).

Security: Fluent Bit reads the node's log files, so its pod needs hostPath volumes and root (the
files are root-owned and not world-readable). Those volumes are read-only, except one dedicated
directory for the tail position database and the filesystem buffer. All capabilities are dropped,
the root filesystem is read-only and seccomp is ``RuntimeDefault``. The namespace is therefore
labelled Pod Security ``privileged`` for enforce (hostPath alone breaks ``baseline``), with
``baseline`` warn and ``restricted`` audit, so every deviation stays visible.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking
import pulumi_kubernetes.rbac.v1 as rbac
from pydantic import AfterValidator, Field, model_validator

from . import fluent_bit_config as fluent_bit
from . import labels
from ._kit.args import Args
from ._kit.children import after
from ._kit.metadata import object_meta, standard_labels
from ._kit.policies import from_namespaces, platform_policy_spec, tcp, to_blocks
from ._kit.prometheus import monitor_spec, monitoring_object, rule_groups
from ._kit.resources import ResourceList, Resources, container_resources
from ._kit.values import Hostname, SecretKeyRef, repeated, text_matching
from .namespace import PodSecurity, namespace_policy, platform_namespace
from .network_policy import ApiServerAccess, to_api_server
from .validation import DnsLabel, DnsSubdomain, ImageReference, LabelValue, PortNumber, image_tag, quantity_value

__all__ = [
    "BASE_BYTES",
    "CHUNK_BYTES",
    "CONFIG_DIR",
    "CONFIG_FILE",
    "CONFIG_MAP_PREFIX",
    "DEFAULT_IMAGE",
    "DEFAULT_LOKI_LABELS",
    "DOCKER_CONTAINERS_DIR",
    "DROPPED",
    "EMITTER_BYTES",
    "HTTP_PORT",
    "LOG_DIR",
    "METRICS_PATH",
    "MIB",
    "POD_LOGS",
    "RETRIES_FAILED",
    "TYPE_TOKEN",
    "FluentSize",
    "LogOutput",
    "LogShipping",
    "LogShippingArgs",
    "MultilineLanguage",
    "OutputType",
    "fluent_size",
    "memory_needed",
    "network_policy",
    "render_config",
    "shipper_alert_rules",
]

TYPE_TOKEN = "stackyard:index:LogShipping"
#: Fluent Bit 5.1.2, the current release; the registry is the project's own.
DEFAULT_IMAGE = "cr.fluentbit.io/fluent/fluent-bit:5.1.2"
HTTP_PORT = 2020
#: The ConfigMap's name before its content hash, so that a change of config rolls the pods.
CONFIG_MAP_PREFIX = "fluent-bit-config-"
METRICS_PATH = "/api/v2/metrics/prometheus"
CONFIG_DIR = "/fluent-bit/etc/stackyard"
CONFIG_FILE = "fluent-bit.yaml"
LOG_DIR = "/var/log"
DOCKER_CONTAINERS_DIR = "/var/lib/docker/containers"
POD_LOGS = "/var/log/containers/*.log"

OutputType = Literal["stdout", "loki", "opensearch", "elasticsearch", "forward"]
MultilineLanguage = Literal["java", "python", "go", "ruby"]

_DEFAULT_PORTS = {"loki": 3100, "opensearch": 9200, "elasticsearch": 9200, "forward": 24224}

fluent_size = text_matching(
    r"^[0-9]+[KMG]?$", "must be a Fluent Bit size: a number with an optional K, M or G suffix, e.g. '512M'"
)
#: A Fluent Bit size such as ``512M`` or ``2G``.
FluentSize = Annotated[str, AfterValidator(fluent_size)]


class LogOutput(Args):
    """Where logs go. ``type`` decides which other fields apply; the rest must stay unset."""

    type: OutputType
    """``stdout`` (for development), ``loki``, ``opensearch``, ``elasticsearch`` or ``forward``."""
    match: str = Field(default="kube.*", pattern=r"^[A-Za-z0-9_.*-]+$")
    """Which records, by tag. Default: ``kube.*``, every container log."""
    host: Hostname | None = None
    """The backend's host name. Default: none, which only ``stdout`` allows."""
    port: PortNumber | None = None
    """The backend's port. Default: 3100 (loki), 9200 (opensearch, elasticsearch), 24224 (forward)."""
    tls: bool = True
    """Whether to use TLS. Default: true."""
    tls_verify: bool = True
    """Whether to verify the backend's certificate. Default: true."""
    labels: dict[str, str] = {}
    """loki: stream labels, ``name: value`` or ``name: $record_accessor``. Default: job, namespace,
    pod and container."""
    tenant_id: str | None = None
    """loki: the tenant (``X-Scope-OrgID``). Default: none."""
    index: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    """opensearch, elasticsearch: the index. Default: ``logs``."""
    credentials: DnsLabel | None = None
    """loki, opensearch, elasticsearch: a Secret in the logging namespace with keys ``username``
    and ``password``, passed as environment variables. Default: no authentication."""
    shared_key: SecretKeyRef | None = None
    """forward: the key of a Secret holding the shared key. Default: none."""
    total_limit_size: FluentSize = "1G"
    """The most disk this output's backlog may use on each node. Default: 1G."""
    retry_limit: int = Field(default=5, ge=1, le=100)
    """Retries per chunk, with exponential backoff from 5 s up to 5 minutes, before the chunk is
    dropped (and counted, which ``FluentBitDroppingRecords`` alerts on). Bounded on purpose: one
    document a backend rejects makes its whole chunk fail, and unlimited retries would resend the
    chunk forever and fill the buffer. Default: 5 (about 10 minutes of trying)."""

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> LogOutput:
        allowed = {
            "stdout": set(),
            "loki": {"host", "port", "tls", "tls_verify", "labels", "tenant_id", "credentials"},
            "opensearch": {"host", "port", "tls", "tls_verify", "index", "credentials"},
            "elasticsearch": {"host", "port", "tls", "tls_verify", "index", "credentials"},
            "forward": {"host", "port", "tls", "tls_verify", "shared_key"},
        }[self.type]
        specific = {"host", "port", "tls", "tls_verify", "labels", "tenant_id", "index", "credentials", "shared_key"}
        misplaced = sorted(self.model_fields_set & specific - allowed)
        if misplaced:
            names = [type(self).model_fields[field].alias or field for field in misplaced]
            raise ValueError(f"{names} do not apply to a {self.type!r} output")
        if self.type != "stdout" and self.host is None:
            raise ValueError(f"a {self.type!r} output needs host")
        return self


class LogShippingArgs(Args):
    """Inputs of :class:`LogShipping`."""

    outputs: list[LogOutput] = Field(min_length=1)
    """Where logs go, e.g. ``[{type: stdout}]`` in dev and a backend in prod."""
    namespace: DnsLabel = "logging"
    """Fluent Bit's namespace; its own logs are not shipped, to avoid feedback loops. Default: ``logging``."""
    image: ImageReference = DEFAULT_IMAGE
    """The Fluent Bit image. Default: ``cr.fluentbit.io/fluent/fluent-bit:5.1.2``."""
    log_level: Literal["error", "warn", "info", "debug"] = "info"
    """Fluent Bit's own log level. Default: info."""
    multiline_languages: list[MultilineLanguage] = []
    """Stack-trace languages to join into single records (the multiline filter). Default: none."""
    merge_json_logs: bool = True
    """Whether the kubernetes filter parses JSON log lines into fields (``merge_log``). Default: true."""
    storage_max_chunks_up: int = Field(default=64, ge=1)
    """Chunks held in memory at once; about 2 MB each, this bounds buffer memory. Default: 64."""
    storage_backlog_mem_limit: FluentSize = "16M"
    """Memory for replaying the on-disk backlog after a restart. Default: 16M."""
    host_state_path: str = Field(default="/var/lib/fluent-bit", pattern=r"^/[A-Za-z0-9_./-]+$")
    """The node directory for the tail position database and the buffer: the only writable host
    mount. Default: ``/var/lib/fluent-bit``."""
    docker_runtime: bool = False
    """Whether nodes run Docker (dockershim-era nodes), whose container logs are symlinks into
    ``/var/lib/docker/containers``; that directory is then mounted read-only too. Default: false
    (containerd and CRI-O keep logs under ``/var/log/pods``)."""
    resources: Resources = Resources(
        requests=ResourceList(cpu="50m", memory="96Mi"), limits=ResourceList(cpu="500m", memory="256Mi")
    )
    """Requests and limits of the Fluent Bit container. Default: 50m/96Mi requested, 500m/256Mi limit."""
    service_monitor: bool = False
    """Whether to create a ServiceMonitor for Fluent Bit's own metrics (needs the Prometheus
    Operator CRDs, e.g. from :class:`Monitoring`). Default: false."""
    pod_security: PodSecurity = PodSecurity(enforce="privileged", warn="baseline", audit="restricted")
    """Pod Security levels of the namespace. Default: ``privileged`` enforce, ``baseline`` warn,
    ``restricted`` audit (see the module documentation for why)."""
    monitoring_namespace: DnsLabel = "monitoring"
    """Where Prometheus runs, which alone may reach the metrics port (with ``serviceMonitor``).
    Default: ``monitoring``, the Monitoring component's."""
    api_server: ApiServerAccess = ApiServerAccess()
    """Where the API server is, which the kubernetes filter asks for pod metadata. Default: any
    address on 443 and 6443."""
    priority_class_name: DnsSubdomain = "system-node-critical"
    """The DaemonSet's PriorityClass, so that under node pressure the log shipper is evicted last
    and its logs of the eviction are not lost. Default: ``system-node-critical``."""
    part_of: LabelValue = ""
    """The ``app.kubernetes.io/part-of`` label. Default: no label."""

    @model_validator(mode="after")
    def _buffers_fit_the_memory_limit(self) -> LogShippingArgs:
        need = memory_needed(self)
        limit = int(quantity_value(self.resources.limits.memory))
        if need > limit:
            raise ValueError(
                f"resources.limits.memory: {self.resources.limits.memory} is less than the buffers can hold "
                f"({need // MIB} MiB: {self.storage_max_chunks_up} chunks up of {CHUNK_BYTES // MIB} MiB, the "
                f"backlog's {self.storage_backlog_mem_limit}, the multiline emitter's "
                f"{EMITTER_BYTES // MIB if self.multiline_languages else 0} MiB and {BASE_BYTES // MIB} MiB for Fluent "
                "Bit itself); raise the limit, or lower storageMaxChunksUp"
            )
        return self

    @model_validator(mode="after")
    def _unique_languages(self) -> LogShippingArgs:
        if repeated(self.multiline_languages):
            raise ValueError(f"multilineLanguages {self.multiline_languages} lists a language more than once")
        return self

    @property
    def selector(self) -> dict[str, str]:
        return labels.selector_labels("fluent-bit", labels.instance_label("fluent-bit", self.namespace))


MIB = 1 << 20
#: Fluent Bit's chunks grow to about 2 MB before it starts a new one.
CHUNK_BYTES = 2 * MIB
#: The multiline filter's emitter: its in-memory buffer limit (emitter_mem_buf_limit, set below).
EMITTER_BYTES = 10 * MIB
#: Fluent Bit itself: the binary, the kubernetes filter's metadata cache, the HTTP server.
BASE_BYTES = 48 * MIB


def memory_needed(args: LogShippingArgs) -> int:
    """The most memory the buffers can take, plus Fluent Bit's own: what the limit must hold."""
    backlog = int(args.storage_backlog_mem_limit.rstrip("KMG") or 0) * {"K": 1 << 10, "M": MIB, "G": 1 << 30}.get(
        args.storage_backlog_mem_limit[-1], 1
    )
    emitter = EMITTER_BYTES if args.multiline_languages else 0
    return args.storage_max_chunks_up * CHUNK_BYTES + backlog + emitter + BASE_BYTES


def _pipeline_config(args: LogShippingArgs) -> dict[str, Any]:
    """The Fluent Bit configuration, in its YAML format, as a mapping."""
    state = args.host_state_path.rstrip("/")
    filters: list[fluent_bit.Section] = []
    if args.multiline_languages:
        # The multiline filter must come first, before the kubernetes filter changes the record.
        filters.append(fluent_bit.multiline_filter(args.multiline_languages, f"{EMITTER_BYTES // MIB}M"))
    filters.append(fluent_bit.kubernetes_filter(merge_log=args.merge_json_logs))
    service = fluent_bit.Service(
        log_level=args.log_level,
        http_port=HTTP_PORT,
        storage_path=f"{state}/storage",
        max_chunks_up=args.storage_max_chunks_up,
        backlog_mem_limit=args.storage_backlog_mem_limit,
    )
    tail = fluent_bit.tail_input(
        path=POD_LOGS, exclude_path=f"/var/log/containers/*_{args.namespace}_*.log", db=f"{state}/tail-positions.db"
    )
    outputs = [_output(output, index) for index, output in enumerate(args.outputs)]
    return fluent_bit.document(service, [tail], filters, outputs)


#: Loki's stream labels unless an output names its own: the job, and where the record came from.
DEFAULT_LOKI_LABELS = {
    "job": "fluent-bit",
    "namespace": fluent_bit.record_accessor("kubernetes", "namespace_name"),
    "pod": fluent_bit.record_accessor("kubernetes", "pod_name"),
    "container": fluent_bit.record_accessor("kubernetes", "container_name"),
}


def _output(output: LogOutput, index: int) -> fluent_bit.Output:
    credentials = output.credentials is not None
    return fluent_bit.Output(
        kind=output.type,
        match=output.match,
        total_limit_size=output.total_limit_size,
        retry_limit=output.retry_limit,
        host=output.host,
        port=output.port or _DEFAULT_PORTS.get(output.type),
        tls=output.tls,
        tls_verify=output.tls_verify,
        username_env=_env_name(index, "USERNAME") if credentials else None,
        password_env=_env_name(index, "PASSWORD") if credentials else None,
        stream_labels=output.labels or DEFAULT_LOKI_LABELS,
        tenant_id=output.tenant_id,
        index=output.index or "logs",
        shared_key_env=_env_name(index, "SHARED_KEY") if output.shared_key is not None else None,
    )


def _env_name(index: int, what: str) -> str:
    return f"OUTPUT_{index}_{what}"


def render_config(args: LogShippingArgs) -> str:
    """The configuration file's text."""
    return fluent_bit.render(_pipeline_config(args))


class LogShipping(pulumi.ComponentResource):
    """Fluent Bit on every node, shipping container logs to the configured outputs."""

    namespace_name: pulumi.Output[str]
    """The logging namespace."""

    def __init__(self, name: str, args: LogShippingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        namespace = platform_namespace(self, args.namespace, part_of=args.part_of, pod_security=args.pod_security)
        inside = after(self, namespace)
        metadata = _metadata(args)
        account = core.ServiceAccount(
            name, metadata=metadata("fluent-bit"), automount_service_account_token=True, opts=inside
        )
        role = rbac.ClusterRole(
            name,
            metadata=object_meta(f"{args.namespace}-fluent-bit", None, _labels(args)),
            rules=[
                rbac.PolicyRuleArgs(api_groups=[""], resources=["pods", "namespaces"], verbs=["get", "list", "watch"])
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        rbac.ClusterRoleBinding(
            name,
            metadata=object_meta(f"{args.namespace}-fluent-bit", None, _labels(args)),
            role_ref=rbac.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=f"{args.namespace}-fluent-bit"
            ),
            subjects=[rbac.SubjectArgs(kind="ServiceAccount", name="fluent-bit", namespace=args.namespace)],
            opts=after(self, role, account),
        )
        config_text = render_config(args)
        config_name = f"{CONFIG_MAP_PREFIX}{hashlib.sha256(config_text.encode()).hexdigest()[:10]}"
        config_map = core.ConfigMap(
            f"{name}-config",
            metadata=metadata(config_name),
            data={CONFIG_FILE: config_text},
            immutable=True,
            opts=inside,
        )
        apps.DaemonSet(
            name,
            metadata=object_meta(
                "fluent-bit",
                args.namespace,
                _labels(args),
                {
                    **_scanner_exceptions(args),
                    **labels.policy_exception(
                        "pod-security-restricted",
                        "reads node log files: read-only hostPath mounts and UID 0, all capabilities dropped; "
                        "confined to the logging namespace",
                    ),
                },
            ),
            spec=_daemon_set_spec(args, config_name),
            opts=after(self, namespace, account, config_map),
        )
        core.Service(
            f"{name}-metrics",
            metadata=metadata("fluent-bit-metrics"),
            spec=core.ServiceSpecArgs(
                type="ClusterIP",
                selector=args.selector,
                ports=[
                    core.ServicePortArgs(
                        name="http-metrics", port=HTTP_PORT, target_port="http-metrics", protocol="TCP"
                    )
                ],
            ),
            opts=inside,
        )
        if args.service_monitor:
            endpoint = {"port": "http-metrics", "path": METRICS_PATH, "interval": "30s"}
            spec = monitor_spec(args.selector, args.namespace, [endpoint])
            monitoring_object(f"{name}-service-monitor", "ServiceMonitor", metadata("fluent-bit"), spec, inside)
            rules = rule_groups(f"{args.namespace}.fluent-bit", shipper_alert_rules(args.namespace))
            monitoring_object(f"{name}-rules", "PrometheusRule", metadata("fluent-bit-alerts"), rules, inside)
        namespace_policy(name, args.namespace, "allow-fluent-bit", network_policy(args), inside)
        self.namespace_name = namespace.namespace_name
        self.register_outputs({"namespace_name": self.namespace_name})


def network_policy(args: LogShippingArgs) -> networking.NetworkPolicySpecArgs:
    """Fluent Bit's allow-list: the API server (pod metadata), each backend, and Prometheus's scrapes.

    A NetworkPolicy cannot name a host, so a backend given by name is allowed on its port to any
    address; one given by IP address gets exactly that address.
    """
    egress = [to_api_server(args.api_server)]
    for output in args.outputs:
        if output.host is None:
            continue
        egress.append(to_blocks([_block(output.host)], tcp(output.port or _DEFAULT_PORTS[output.type])))
    ingress = [from_namespaces([args.monitoring_namespace], tcp(HTTP_PORT))] if args.service_monitor else []
    return platform_policy_spec(ingress=ingress, egress=egress, pods=args.selector)


def _block(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "0.0.0.0/0"
    return f"{address}/{address.max_prefixlen}"


#: Fluent Bit's counters of records an output dropped, and of chunks whose retries ran out.
DROPPED = "fluentbit_output_dropped_records_total"
RETRIES_FAILED = "fluentbit_output_retries_failed_total"


def shipper_alert_rules(namespace: str) -> list[dict[str, Any]]:
    """Alerts on Fluent Bit's own output metrics: records lost for good, and retries that give up.

    Per output plugin instance (``name``) and pod, so the alert says which backend and which node.
    """
    selector = f'namespace="{namespace}"'

    def rule(alert: str, counter: str, for_duration: str, severity: str, summary: str) -> dict[str, Any]:
        return {
            "alert": alert,
            "expr": f"sum by (namespace, pod, name) (increase({counter}{{{selector}}}[10m])) > 0",
            "for": for_duration,
            "labels": {"severity": severity, "app": "fluent-bit"},
            "annotations": {"summary": summary},
        }

    return [
        rule(
            "FluentBitDroppingRecords",
            DROPPED,
            "5m",
            "critical",
            "Fluent Bit dropped log records for an output, which are lost: check the backend and buffer.",
        ),
        rule(
            "FluentBitRetriesFailing",
            RETRIES_FAILED,
            "10m",
            "warning",
            "Fluent Bit gave up retrying chunks for an output: the backend refuses or is unreachable.",
        ),
    ]


def _scanner_exceptions(args: LogShippingArgs) -> dict[str, str]:
    """The checks this DaemonSet fails by necessity, as checkov skip annotations with the reason."""
    reasons = {
        "CKV_K8S_23": "runs as root to read root-owned node log files; all capabilities dropped",
        "CKV_K8S_40": "runs as UID 0 for the same reason; confined to the logging namespace",
        "CKV_K8S_38": "the kubernetes filter reads pod metadata from the API server with this token",
    }
    if any(output.credentials or output.shared_key for output in args.outputs):
        reasons["CKV_K8S_35"] = "Fluent Bit reads output credentials only from environment variables"
    return {f"checkov.io/skip{index}": f"{check}={reason}" for index, (check, reason) in enumerate(reasons.items(), 1)}


def _labels(args: LogShippingArgs) -> dict[str, str]:
    return standard_labels(
        "fluent-bit", args.namespace, component="log-shipper", part_of=args.part_of, version=image_tag(args.image)
    )


def _metadata(args: LogShippingArgs) -> Callable[[str], meta.ObjectMetaArgs]:
    def metadata(name: str) -> meta.ObjectMetaArgs:
        return object_meta(name, args.namespace, _labels(args))

    return metadata


def _daemon_set_spec(args: LogShippingArgs, config_name: str) -> apps.DaemonSetSpecArgs:
    return apps.DaemonSetSpecArgs(
        selector=meta.LabelSelectorArgs(match_labels=args.selector),
        update_strategy=apps.DaemonSetUpdateStrategyArgs(
            type="RollingUpdate", rolling_update=apps.RollingUpdateDaemonSetArgs(max_unavailable="10%")
        ),
        template=core.PodTemplateSpecArgs(
            metadata=meta.ObjectMetaArgs(labels=_labels(args)),
            spec=core.PodSpecArgs(
                priority_class_name=args.priority_class_name,
                service_account_name="fluent-bit",
                # The kubernetes filter asks the API server for pod metadata.
                automount_service_account_token=True,
                enable_service_links=False,
                # Every node, control plane and tainted nodes included: their logs matter too.
                tolerations=[core.TolerationArgs(operator="Exists")],
                security_context=core.PodSecurityContextArgs(
                    seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault")
                ),
                containers=[_container(args)],
                volumes=[
                    core.VolumeArgs(name="config", config_map=core.ConfigMapVolumeSourceArgs(name=config_name)),
                    _host_volume("var-log", LOG_DIR, "Directory"),
                    *(
                        [_host_volume("docker-containers", DOCKER_CONTAINERS_DIR, "Directory")]
                        if args.docker_runtime
                        else []
                    ),
                    _host_volume("state", args.host_state_path, "DirectoryOrCreate"),
                ],
            ),
        ),
    )


def _host_volume(name: str, path: str, kind: str) -> core.VolumeArgs:
    return core.VolumeArgs(name=name, host_path=core.HostPathVolumeSourceArgs(path=path, type=kind))


def _container(args: LogShippingArgs) -> core.ContainerArgs:
    env = []
    for index, output in enumerate(args.outputs):
        if output.credentials is not None:
            for what, key in (("USERNAME", "username"), ("PASSWORD", "password")):
                env.append(_secret_env(_env_name(index, what), output.credentials, key))
        if output.shared_key is not None:
            env.append(_secret_env(_env_name(index, "SHARED_KEY"), output.shared_key.secret, output.shared_key.key))
    return core.ContainerArgs(
        name="fluent-bit",
        image=args.image,
        image_pull_policy="Always",
        command=["/fluent-bit/bin/fluent-bit"],
        args=[f"--config={CONFIG_DIR}/{CONFIG_FILE}"],
        ports=[core.ContainerPortArgs(name="http-metrics", container_port=HTTP_PORT, protocol="TCP")],
        env=env or None,
        resources=container_resources(args.resources),
        readiness_probe=core.ProbeArgs(
            http_get=core.HTTPGetActionArgs(path="/api/v1/health", port="http-metrics"), period_seconds=10
        ),
        liveness_probe=core.ProbeArgs(
            http_get=core.HTTPGetActionArgs(path="/", port="http-metrics"),
            initial_delay_seconds=10,
            period_seconds=30,
            failure_threshold=5,
        ),
        security_context=core.SecurityContextArgs(
            # Root only to read root-owned log files; no capability is kept.
            run_as_user=0,
            run_as_non_root=False,
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=True,
            capabilities=core.CapabilitiesArgs(drop=["ALL"]),
            seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        volume_mounts=[
            core.VolumeMountArgs(name="config", mount_path=CONFIG_DIR, read_only=True),
            core.VolumeMountArgs(name="var-log", mount_path=LOG_DIR, read_only=True),
            *(
                [core.VolumeMountArgs(name="docker-containers", mount_path=DOCKER_CONTAINERS_DIR, read_only=True)]
                if args.docker_runtime
                else []
            ),
            core.VolumeMountArgs(name="state", mount_path=args.host_state_path),
        ],
    )


def _secret_env(name: str, secret: str, key: str) -> core.EnvVarArgs:
    return core.EnvVarArgs(
        name=name, value_from=core.EnvVarSourceArgs(secret_key_ref=core.SecretKeySelectorArgs(name=secret, key=key))
    )
