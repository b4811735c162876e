"""The Pod Security Standards ``restricted`` profile, checked statically on a manifest.

Pod Security admission only judges Pods: a Deployment whose template violates the profile is
accepted and its pods then fail to start. Checking the template before deploy closes that gap.
Rules follow https://kubernetes.io/docs/concepts/security/pod-security-standards/ (v1.36).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PodSecurityViolation", "pod_spec_of", "restricted_violations", "violations_at"]

#: Kinds whose pod template lives at ``spec.template.spec``.
_TEMPLATED_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"})
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
        "image",
    }
)
_BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
_SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)


@dataclass(frozen=True)
class PodSecurityViolation:
    """One rule of the profile that a pod spec breaks, with the field that breaks it."""

    rule: str
    field: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.field}: {self.detail}"


def pod_spec_of(manifest: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The pod spec inside a workload manifest and its path, or ``None`` for non-workloads."""
    kind = manifest.get("kind")
    spec = manifest.get("spec") or {}
    if kind == "Pod":
        return "spec", spec
    if kind in _TEMPLATED_KINDS:
        return "spec.template.spec", (spec.get("template") or {}).get("spec") or {}
    if kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        return "spec.jobTemplate.spec.template.spec", (job.get("template") or {}).get("spec") or {}
    return None


def restricted_violations(manifest: Mapping[str, Any]) -> list[PodSecurityViolation]:
    """Every way the manifest's pods break the ``restricted`` profile (baseline included)."""
    found = pod_spec_of(manifest)
    if found is None:
        return []
    path, pod = found
    return [*_baseline(path, pod), *_restricted(path, pod)]


def violations_at(manifest: Mapping[str, Any], level: str) -> list[PodSecurityViolation]:
    """Every way the manifest's pods break the Pod Security ``level`` (privileged, baseline or restricted)."""
    if level == "restricted":
        return restricted_violations(manifest)
    found = pod_spec_of(manifest)
    if level == "privileged" or found is None:
        return []
    if level != "baseline":
        raise ValueError(f"unknown Pod Security level {level!r}; expected privileged, baseline or restricted")
    return list(_baseline(*found))


def _containers(path: str, pod: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for list_name in _CONTAINER_LISTS:
        for index, container in enumerate(pod.get(list_name) or []):
            yield f"{path}.{list_name}[{index}]", container


def _baseline(path: str, pod: Mapping[str, Any]) -> Iterator[PodSecurityViolation]:
    for host_field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host_field):
            yield PodSecurityViolation("host namespaces", f"{path}.{host_field}", "must be unset or false")
    for index, volume in enumerate(pod.get("volumes") or []):
        if "hostPath" in volume:
            yield PodSecurityViolation("hostPath volumes", f"{path}.volumes[{index}]", "hostPath is forbidden")
    pod_context = pod.get("securityContext") or {}
    for index, sysctl in enumerate(pod_context.get("sysctls") or []):
        if sysctl.get("name") not in _SAFE_SYSCTLS:
            yield PodSecurityViolation(
                "sysctls", f"{path}.securityContext.sysctls[{index}]", f"{sysctl.get('name')} is not a safe sysctl"
            )
    yield from _seccomp_not_unconfined(f"{path}.securityContext", pod_context)
    for where, container in _containers(path, pod):
        context = container.get("securityContext") or {}
        if context.get("privileged"):
            yield PodSecurityViolation("privileged containers", f"{where}.securityContext.privileged", "must be false")
        added = set((context.get("capabilities") or {}).get("add") or [])
        if added - _BASELINE_CAPABILITIES:
            yield PodSecurityViolation(
                "capabilities", f"{where}.securityContext.capabilities.add", f"adds {sorted(added)}"
            )
        for index, port in enumerate(container.get("ports") or []):
            if port.get("hostPort"):
                yield PodSecurityViolation("host ports", f"{where}.ports[{index}].hostPort", "must be unset or 0")
        if context.get("procMount", "Default") != "Default":
            yield PodSecurityViolation("/proc mount type", f"{where}.securityContext.procMount", "must be Default")
        yield from _seccomp_not_unconfined(f"{where}.securityContext", context)


def _seccomp_not_unconfined(where: str, context: Mapping[str, Any]) -> Iterator[PodSecurityViolation]:
    if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
        yield PodSecurityViolation("seccomp", f"{where}.seccompProfile.type", "must not be Unconfined")


def _restricted(path: str, pod: Mapping[str, Any]) -> Iterator[PodSecurityViolation]:
    for index, volume in enumerate(pod.get("volumes") or []):
        kinds = set(volume) - {"name"}
        if not kinds <= _RESTRICTED_VOLUME_TYPES:
            yield PodSecurityViolation("volume types", f"{path}.volumes[{index}]", f"type {sorted(kinds)} not allowed")
    pod_context = pod.get("securityContext") or {}
    if pod_context.get("runAsUser") == 0:
        yield PodSecurityViolation("running as non-root user", f"{path}.securityContext.runAsUser", "must not be 0")
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    for where, container in _containers(path, pod):
        context = container.get("securityContext") or {}
        if context.get("allowPrivilegeEscalation") is not False:
            yield PodSecurityViolation(
                "privilege escalation", f"{where}.securityContext.allowPrivilegeEscalation", "must be false"
            )
        if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
            yield PodSecurityViolation(
                "running as non-root", f"{where}.securityContext.runAsNonRoot", "must be true (here or on the pod)"
            )
        if context.get("runAsUser") == 0:
            yield PodSecurityViolation(
                "running as non-root user", f"{where}.securityContext.runAsUser", "must not be 0"
            )
        seccomp = (context.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield PodSecurityViolation(
                "seccomp", f"{where}.securityContext.seccompProfile.type", "must be RuntimeDefault or Localhost"
            )
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            yield PodSecurityViolation("capabilities", f"{where}.securityContext.capabilities.drop", "must include ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            yield PodSecurityViolation(
                "capabilities", f"{where}.securityContext.capabilities.add", "may only add NET_BIND_SERVICE"
            )
