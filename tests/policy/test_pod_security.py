"""The static Pod Security ``restricted`` check: a compliant pod passes, each violation is caught."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from policy import restricted_violations, violations_at


def compliant() -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "registry.example.com/app:1.0.0",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    pod = {"containers": [container], "volumes": [{"name": "tmp", "emptyDir": {}}]}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": pod}}}


def pod(manifest: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


def context(manifest: dict[str, Any]) -> dict[str, Any]:
    security: dict[str, Any] = pod(manifest)["containers"][0]["securityContext"]
    return security


BREAKAGES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("host namespaces", lambda m: pod(m).update(hostNetwork=True)),
    ("hostPath volumes", lambda m: pod(m)["volumes"].append({"name": "h", "hostPath": {"path": "/"}})),
    ("privileged containers", lambda m: context(m).update(privileged=True)),
    ("capabilities", lambda m: context(m)["capabilities"].update(add=["SYS_ADMIN"])),
    ("capabilities", lambda m: context(m)["capabilities"].update(drop=["NET_RAW"])),
    ("host ports", lambda m: pod(m)["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}])),
    ("privilege escalation", lambda m: context(m).pop("allowPrivilegeEscalation")),
    ("running as non-root", lambda m: context(m).update(runAsNonRoot=False)),
    ("running as non-root user", lambda m: context(m).update(runAsUser=0)),
    ("seccomp", lambda m: context(m).update(seccompProfile={"type": "Unconfined"})),
    ("seccomp", lambda m: context(m).pop("seccompProfile")),
    ("volume types", lambda m: pod(m)["volumes"].append({"name": "n", "nfs": {"server": "x", "path": "/"}})),
    ("sysctls", lambda m: pod(m).update(securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]})),
    ("/proc mount type", lambda m: context(m).update(procMount="Unmasked")),
]


class TestRestrictedViolations:
    def test_a_compliant_pod_has_no_violations(self) -> None:
        assert restricted_violations(compliant()) == []

    def test_non_workloads_are_not_judged(self) -> None:
        assert restricted_violations({"kind": "Service", "spec": {}}) == []

    @pytest.mark.parametrize(("rule", "breakage"), BREAKAGES, ids=[f"{i}-{r}" for i, (r, _) in enumerate(BREAKAGES)])
    def test_each_rule_catches_its_violation(self, rule: str, breakage: Callable[[dict[str, Any]], None]) -> None:
        manifest = copy.deepcopy(compliant())
        breakage(manifest)
        assert rule in {violation.rule for violation in restricted_violations(manifest)}

    def test_pod_level_settings_satisfy_every_container(self) -> None:
        manifest = compliant()
        for key in ("runAsNonRoot", "seccompProfile"):
            context(manifest).pop(key)
        pod(manifest)["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        assert restricted_violations(manifest) == []

    def test_init_containers_are_checked_too(self) -> None:
        manifest = compliant()
        pod(manifest)["initContainers"] = [{"name": "init", "image": "x:1"}]
        fields = {violation.field for violation in restricted_violations(manifest)}
        assert "spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation" in fields


class TestViolationsAtALevel:
    def test_privileged_allows_everything(self) -> None:
        manifest = compliant()
        context(manifest).update(privileged=True)
        assert violations_at(manifest, "privileged") == []

    def test_baseline_catches_host_access_but_not_the_restricted_rules(self) -> None:
        manifest = compliant()
        context(manifest).pop("allowPrivilegeEscalation")
        assert violations_at(manifest, "baseline") == []
        pod(manifest).update(hostPID=True)
        assert [v.rule for v in violations_at(manifest, "baseline")] == ["host namespaces"]

    def test_restricted_is_baseline_plus_its_own_rules(self) -> None:
        manifest = compliant()
        context(manifest).pop("allowPrivilegeEscalation")
        pod(manifest).update(hostPID=True)
        assert [v.rule for v in violations_at(manifest, "restricted")] == ["host namespaces", "privilege escalation"]

    def test_an_unknown_level_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown Pod Security level 'strict'"):
            violations_at(compliant(), "strict")
