"""App: one web service or worker, with everything it needs to run safely.

Children: a ServiceAccount, an env ConfigMap (content-hashed name), a Deployment, an optional
Service, an optional HorizontalPodAutoscaler, a PodDisruptionBudget and a NetworkPolicy.
"""

from __future__ import annotations

import hashlib
import json

import pulumi
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.autoscaling.v2 as autoscaling
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking
import pulumi_kubernetes.policy.v1 as policy
from pydantic import Field, field_validator, model_validator

from . import labels
from ._kit.args import Args
from ._kit.children import child_options, name_output
from ._kit.metadata import object_meta, standard_labels
from ._kit.resources import SPREAD_KEYS, container_resources
from ._kit.resources import ResourceList as ResourceList  # noqa: PLC0414 - public here, see below
from ._kit.resources import Resources as Resources  # noqa: PLC0414
from ._kit.values import SecretKeyRef as SecretKeyRef  # noqa: PLC0414
from ._kit.values import repeated
from .network_policy import EgressRule, IngressRule, Port, app_policy_spec
from .validation import (
    DnsLabel,
    DnsSubdomain,
    EnvVarName,
    ImageReference,
    LabelValue,
    PortName,
    PortNumber,
    ServiceName,
    image_tag,
)

__all__ = [
    "SECRET_FILES_ROOT",
    "TMP_MOUNT_PATH",
    "TYPE_TOKEN",
    "App",
    "AppArgs",
    "Autoscaling",
    "ResourceList",
    "Resources",
    "SecretKeyRef",
]

TYPE_TOKEN = "stackyard:index:App"

# ResourceList, Resources and SecretKeyRef are shared by several components and live in the kit;
# they were published from here, so they stay importable from here (the ``as`` re-exports them).

#: Where the writable scratch directory is mounted; the root filesystem is read-only.
TMP_MOUNT_PATH = "/tmp"
#: Where each Secret named in ``secret_files`` is mounted, as ``<SECRET_FILES_ROOT>/<secret>``.
SECRET_FILES_ROOT = "/var/run/secrets/stackyard"


class Autoscaling(Args):
    """A HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation."""

    min_replicas: int = Field(default=2, ge=1)
    """Lowest replica count, at least 1. Default: 2, so one pod can be disrupted without an outage."""
    max_replicas: int = Field(default=5, ge=1)
    """Highest replica count, at least ``minReplicas``. Default: 5."""
    target_cpu_utilization: int = Field(default=70, ge=1, le=1000)
    """Average CPU utilisation, in percent of requests, that the HPA aims for. Default: 70."""
    scale_down_stabilization_seconds: int = Field(default=300, ge=0, le=3600)
    """How long the HPA looks back before scaling down, so a dip does not cause flapping. Default: 300."""

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas {self.min_replicas} must not exceed maxReplicas {self.max_replicas}")
        return self


class AppArgs(Args):
    """Inputs of :class:`App`."""

    namespace: DnsLabel
    """The namespace the app runs in. Required: everything is namespaced explicitly."""
    name: ServiceName
    """The app's name: the Deployment, Service, ServiceAccount and label ``app.kubernetes.io/name``.
    A DNS-1035 label, because it also names the Service."""
    image: ImageReference
    """The container image, pinned by tag or digest (``repo:tag@sha256:...``). ``latest`` and untagged
    images are rejected."""
    component: LabelValue = "server"
    """The ``app.kubernetes.io/component`` label, e.g. ``frontend`` or ``worker``. Default: ``server``."""
    part_of: LabelValue = ""
    """The ``app.kubernetes.io/part-of`` label. Default: no label."""
    port: PortNumber = 8080
    """The container port the app listens on; probes and the Service use it by name. Default: 8080."""
    port_name: PortName = "http"
    """The name of that port. Default: ``http``."""
    service: bool = True
    """Whether to create a ClusterIP Service. Default: true; set false for a background worker."""
    service_port: PortNumber = 80
    """The Service's port, forwarded to the named container port. Default: 80."""
    metrics_port: PortNumber | None = None
    """The port serving Prometheus metrics: ``port`` itself, or a second container port named
    ``metrics`` (also on the Service). Default: no metrics endpoint."""
    metrics_path: str = Field(default="/metrics", pattern=r"^/\S*$")
    """The path of the metrics endpoint. Default: ``/metrics``."""
    replicas: int = Field(default=2, ge=0)
    """Pod count when ``autoscaling`` is not set; ignored (and left out of the Deployment, so that
    server-side apply does not fight the HPA) when it is. Default: 2."""
    autoscaling: Autoscaling | None = None
    """Autoscaling bounds; when set, an HPA owns the replica count. Default: no HPA."""
    resources: Resources = Resources()
    """Requests and limits of the app container. Default: the :class:`Resources` defaults."""
    env: dict[EnvVarName, str] = {}
    """Plain environment variables, delivered through a ConfigMap whose name carries a content hash,
    so that a change rolls the pods. Never put secrets here: use ``secretEnv`` or ``secretFiles``.
    Default: none."""
    secret_env: dict[EnvVarName, SecretKeyRef] = {}
    """Environment variables read from keys of existing Secrets (``secretKeyRef``). Default: none."""
    secret_files: list[DnsSubdomain] = []
    """Existing Secrets to mount read-only at ``/var/run/secrets/stackyard/<secret>``; preferred over
    ``secretEnv`` because files do not leak into crash dumps and child processes. Default: none."""
    readiness_path: str = Field(default="/readyz", pattern=r"^/\S*$")
    """HTTP path of the readiness probe: failing it takes the pod out of the Service. Default: ``/readyz``."""
    liveness_path: str = Field(default="/livez", pattern=r"^/\S*$")
    """HTTP path of the liveness probe: failing it restarts the container. Default: ``/livez``."""
    run_as_user: int = Field(default=10001, ge=10000, le=2147483647)
    """UID (and GID) the container runs as; at least 10000 so it cannot collide with a host user.
    Default: 10001."""
    automount_service_account_token: bool = False
    """Whether to mount the ServiceAccount token into pods. Default: false; only apps that call the
    Kubernetes API need it."""
    ingress: list[IngressRule] = []
    """Who may connect to the app, on top of what the environment adds (the ingress controller for
    routed apps, the callers that name this app in their ``egress``). Default: nobody else."""
    egress: list[EgressRule] = []
    """Where the app may connect, besides cluster DNS. Default: nowhere."""
    network_policy: bool = True
    """Whether to create the app's NetworkPolicy (both directions, from ``ingress`` and ``egress``).
    Default: true. Without it the namespace's default-deny blocks all of the app's traffic."""

    @field_validator("secret_files")
    @classmethod
    def _unique_secret_files(cls, value: list[str]) -> list[str]:
        duplicates = repeated(value)
        if duplicates:
            raise ValueError(f"lists {duplicates} more than once")
        return value

    @model_validator(mode="after")
    def _ingress_ports_are_served(self) -> AppArgs:
        for index, rule in enumerate(self.ingress):
            for port in rule.ports:
                if not any(port.covers(served) for served in self.served_ports):
                    raise ValueError(
                        f"ingress[{index}] allows port {port.port} but the app listens only on "
                        f"{', '.join(map(str, self.served_ports))}, so the rule can never match"
                    )
        return self

    @model_validator(mode="after")
    def _metrics_port_is_not_taken(self) -> AppArgs:
        if self.metrics_port is not None and self.metrics_port != self.port and self.port_name == "metrics":
            raise ValueError("portName 'metrics' is reserved for a separate metricsPort; rename the app port")
        return self

    @property
    def served_ports(self) -> list[int]:
        """Every container port of the app."""
        return sorted({self.port, *([self.metrics_port] if self.metrics_port is not None else [])})

    @property
    def metrics_port_name(self) -> str | None:
        """The name of the metrics port, or ``None`` without metrics."""
        if self.metrics_port is None:
            return None
        return self.port_name if self.metrics_port == self.port else "metrics"

    @property
    def separate_metrics_port(self) -> bool:
        """Whether metrics are served on a port of their own."""
        return self.metrics_port is not None and self.metrics_port != self.port

    @model_validator(mode="after")
    def _env_names_unique(self) -> AppArgs:
        clash = sorted(set(self.env) & set(self.secret_env))
        if clash:
            raise ValueError(f"env and secretEnv both define {clash}; a variable must come from one place")
        return self

    @property
    def instance(self) -> str:
        """The ``app.kubernetes.io/instance`` label: the app's name within its namespace."""
        return labels.instance_label(self.name, self.namespace)

    @property
    def selector(self) -> dict[str, str]:
        """The pod selector: stable labels only, because a selector change forces a replacement."""
        return labels.selector_labels(self.name, self.instance)

    @property
    def labels(self) -> dict[str, str]:
        """The recommended labels carried by every object of the app and by its pods."""
        return standard_labels(
            self.name, self.namespace, component=self.component, part_of=self.part_of, version=image_tag(self.image)
        )


class App(pulumi.ComponentResource):
    """A web service or worker: Deployment, ServiceAccount, env ConfigMap, optional Service and HPA, PDB.

    Secure by default: the pods pass the Pod Security Standards ``restricted`` profile, run as a
    high non-root UID with a read-only root filesystem, drop all capabilities and do not mount a
    ServiceAccount token.
    """

    deployment_name: pulumi.Output[str]
    """The Deployment's name."""
    service_name: pulumi.Output[str] | None
    """The Service's name, or ``None`` when ``service`` is false."""

    def __init__(self, name: str, args: AppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = child_options(self, opts)
        account = _service_account(name, args, child)
        env_map = _env_config_map(name, args, child) if args.env else None
        deployment = apps.Deployment(
            name,
            metadata=_metadata(args, args.name),
            spec=_deployment_spec(args, env_map_name=_env_config_map_name(args) if env_map else None),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[account, *([env_map] if env_map else [])])
            ),
        )
        self.deployment_name = name_output(deployment, args.name)
        self.service_name = None
        if args.service:
            service = _service(name, args, child)
            self.service_name = name_output(service, args.name)
        if args.autoscaling is not None:
            _autoscaler(
                name,
                args,
                args.autoscaling,
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[deployment])),
            )
        _disruption_budget(name, args, child)
        if args.network_policy:
            _network_policy(name, args, child)
        self.register_outputs({"deployment_name": self.deployment_name, "service_name": self.service_name})


def _metadata(args: AppArgs, name: str) -> meta.ObjectMetaArgs:
    return object_meta(name, args.namespace, args.labels)


def _env_config_map_name(args: AppArgs) -> str:
    digest = hashlib.sha256(json.dumps(args.env, sort_keys=True).encode()).hexdigest()[:10]
    return f"{args.name}-env-{digest}"


def _env_config_map(name: str, args: AppArgs, opts: pulumi.ResourceOptions) -> core.ConfigMap:
    # The logical name stays fixed while the object name follows the content, so a change is a
    # create-before-delete replacement that rolls the pods, and the URN never moves.
    return core.ConfigMap(
        f"{name}-env",
        metadata=_metadata(args, _env_config_map_name(args)),
        data=dict(sorted(args.env.items())),
        immutable=True,
        opts=opts,
    )


def _service_account(name: str, args: AppArgs, opts: pulumi.ResourceOptions) -> core.ServiceAccount:
    return core.ServiceAccount(
        name,
        metadata=_metadata(args, args.name),
        automount_service_account_token=args.automount_service_account_token,
        opts=opts,
    )


def _deployment_spec(args: AppArgs, env_map_name: str | None) -> apps.DeploymentSpecArgs:
    return apps.DeploymentSpecArgs(
        # Left unset under an HPA: with server-side apply the field would fight the controller.
        replicas=None if args.autoscaling is not None else args.replicas,
        revision_history_limit=5,
        selector=meta.LabelSelectorArgs(match_labels=args.selector),
        strategy=apps.DeploymentStrategyArgs(
            type="RollingUpdate",
            rolling_update=apps.RollingUpdateDeploymentArgs(max_surge="25%", max_unavailable=0),
        ),
        template=core.PodTemplateSpecArgs(
            metadata=meta.ObjectMetaArgs(labels=args.labels),
            spec=_pod_spec(args, env_map_name),
        ),
    )


def _pod_spec(args: AppArgs, env_map_name: str | None) -> core.PodSpecArgs:
    return core.PodSpecArgs(
        service_account_name=args.name,
        automount_service_account_token=args.automount_service_account_token,
        enable_service_links=False,
        security_context=core.PodSecurityContextArgs(
            run_as_non_root=True,
            run_as_user=args.run_as_user,
            run_as_group=args.run_as_user,
            fs_group=args.run_as_user,
            seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        containers=[_container(args, env_map_name)],
        volumes=[
            core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="64Mi")),
            *(
                core.VolumeArgs(
                    name=_secret_volume_name(secret),
                    secret=core.SecretVolumeSourceArgs(secret_name=secret, default_mode=0o440),
                )
                for secret in args.secret_files
            ),
        ],
        # Across nodes, and across zones where nodes carry the well-known label (a single-zone
        # cluster ignores that one).
        topology_spread_constraints=[
            core.TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key=topology_key,
                when_unsatisfiable="ScheduleAnyway",
                label_selector=meta.LabelSelectorArgs(match_labels=args.selector),
                # Counts only the pods of the current ReplicaSet, so a rollout is not skewed by the old one.
                match_label_keys=["pod-template-hash"],
            )
            for topology_key in SPREAD_KEYS
        ],
    )


def _container(args: AppArgs, env_map_name: str | None) -> core.ContainerArgs:
    return core.ContainerArgs(
        name=args.name,
        image=args.image,
        # Always: a cached image on a shared node must not bypass the registry's pull credentials.
        image_pull_policy="Always",
        ports=[
            core.ContainerPortArgs(name=args.port_name, container_port=args.port, protocol="TCP"),
            *(
                [core.ContainerPortArgs(name="metrics", container_port=args.metrics_port, protocol="TCP")]
                if args.separate_metrics_port and args.metrics_port is not None
                else []
            ),
        ],
        env_from=[core.EnvFromSourceArgs(config_map_ref=core.ConfigMapEnvSourceArgs(name=env_map_name))]
        if env_map_name
        else None,
        env=[
            core.EnvVarArgs(
                name=variable,
                value_from=core.EnvVarSourceArgs(
                    secret_key_ref=core.SecretKeySelectorArgs(name=ref.secret, key=ref.key)
                ),
            )
            for variable, ref in sorted(args.secret_env.items())
        ]
        or None,
        resources=container_resources(args.resources),
        readiness_probe=core.ProbeArgs(
            http_get=core.HTTPGetActionArgs(path=args.readiness_path, port=args.port_name),
            period_seconds=5,
            timeout_seconds=2,
            failure_threshold=3,
        ),
        liveness_probe=core.ProbeArgs(
            http_get=core.HTTPGetActionArgs(path=args.liveness_path, port=args.port_name),
            # Slower and more tolerant than readiness: a restart is the last resort.
            initial_delay_seconds=10,
            period_seconds=10,
            timeout_seconds=2,
            failure_threshold=6,
        ),
        security_context=core.SecurityContextArgs(
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            run_as_user=args.run_as_user,
            run_as_group=args.run_as_user,
            capabilities=core.CapabilitiesArgs(drop=["ALL"]),
            seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        volume_mounts=[
            core.VolumeMountArgs(name="tmp", mount_path=TMP_MOUNT_PATH),
            *(
                core.VolumeMountArgs(
                    name=_secret_volume_name(secret),
                    mount_path=f"{SECRET_FILES_ROOT}/{secret}",
                    read_only=True,
                )
                for secret in args.secret_files
            ),
        ],
    )


def _secret_volume_name(secret: str) -> str:
    # Volume names are DNS-1123 labels while Secret names may be subdomains.
    return f"secret-{secret}".replace(".", "-")[:63].rstrip("-")


def _service(name: str, args: AppArgs, opts: pulumi.ResourceOptions) -> core.Service:
    return core.Service(
        name,
        metadata=_metadata(args, args.name),
        spec=core.ServiceSpecArgs(
            type="ClusterIP",
            selector=args.selector,
            ports=[
                core.ServicePortArgs(
                    name=args.port_name, port=args.service_port, target_port=args.port_name, protocol="TCP"
                ),
                *(
                    [
                        core.ServicePortArgs(
                            name="metrics", port=args.metrics_port, target_port="metrics", protocol="TCP"
                        )
                    ]
                    if args.separate_metrics_port and args.metrics_port is not None
                    else []
                ),
            ],
        ),
        opts=opts,
    )


def _autoscaler(
    name: str, args: AppArgs, scaling: Autoscaling, opts: pulumi.ResourceOptions
) -> autoscaling.HorizontalPodAutoscaler:
    return autoscaling.HorizontalPodAutoscaler(
        name,
        metadata=_metadata(args, args.name),
        spec=autoscaling.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=autoscaling.CrossVersionObjectReferenceArgs(
                api_version="apps/v1", kind="Deployment", name=args.name
            ),
            min_replicas=scaling.min_replicas,
            max_replicas=scaling.max_replicas,
            metrics=[
                autoscaling.MetricSpecArgs(
                    type="Resource",
                    resource=autoscaling.ResourceMetricSourceArgs(
                        name="cpu",
                        target=autoscaling.MetricTargetArgs(
                            type="Utilization", average_utilization=scaling.target_cpu_utilization
                        ),
                    ),
                )
            ],
            behavior=autoscaling.HorizontalPodAutoscalerBehaviorArgs(
                scale_down=autoscaling.HPAScalingRulesArgs(
                    stabilization_window_seconds=scaling.scale_down_stabilization_seconds,
                    select_policy="Max",
                    # At most half of the pods go per minute, so a sudden drop cannot empty the app.
                    policies=[autoscaling.HPAScalingPolicyArgs(type="Percent", value=50, period_seconds=60)],
                )
            ),
        ),
        opts=opts,
    )


def _network_policy(name: str, args: AppArgs, opts: pulumi.ResourceOptions) -> networking.NetworkPolicy:
    own_port = [Port(port=args.port, protocol="TCP")]
    ingress = [rule if rule.ports else rule.model_copy(update={"ports": own_port}) for rule in args.ingress]
    return networking.NetworkPolicy(
        name,
        metadata=_metadata(args, args.name),
        spec=app_policy_spec(args.selector, ingress, list(args.egress)),
        opts=opts,
    )


def _disruption_budget(name: str, args: AppArgs, opts: pulumi.ResourceOptions) -> policy.PodDisruptionBudget:
    return policy.PodDisruptionBudget(
        name,
        metadata=_metadata(args, args.name),
        spec=policy.PodDisruptionBudgetSpecArgs(
            # maxUnavailable (not minAvailable) always allows one voluntary disruption, so a
            # one-replica app can never block a node drain.
            max_unavailable=1,
            selector=meta.LabelSelectorArgs(match_labels=args.selector),
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
        opts=opts,
    )
