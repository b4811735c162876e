"""The example stacks: each evaluates, and every object it renders is valid and secure."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest

from policy import restricted_violations
from stackyard.project import StackInputs
from stackyard.render import Rendering, write_rendering
from tests.conftest import KUBERNETES_VERSION, ROOT, STACKS, assert_valid_custom_resources, core_objects, run_program

#: Where `make test` installs checkov: its own virtualenv, because its pins conflict with Pulumi's.
CHECKOV = Path(os.environ.get("STACKYARD_CHECKOV", ROOT / ".venv-scan" / "bin" / "checkov"))


#: Checkov findings we know about, each with the reason it is accepted.
def known_findings(rendering: Rendering) -> set[tuple[str, str]]:
    """The checkov findings we accept, each for a documented reason.

    CKV_K8S_43 (image by digest) for every workload whose image follows a tag: dev and staging
    apps on purpose (prod pins digests), and Fluent Bit everywhere, whose digest cannot be read
    offline. Nothing else.
    """
    workloads = [m for m in rendering.manifests if m.kind in ("Deployment", "DaemonSet")]
    return {
        ("CKV_K8S_43", f"{m.kind}.{m.namespace}.{m.name}")
        for m in workloads
        if any("@sha256:" not in c["image"] for c in m.body["spec"]["template"]["spec"]["containers"])
    }


#: Documented exceptions, annotated on the Fluent Bit DaemonSet (see components/log_shipping.py).
FLUENT_BIT_EXCEPTIONS = {"CKV_K8S_23", "CKV_K8S_40", "CKV_K8S_38"}
CLUSTER_SCOPED = {"Namespace", "GatewayClass", "ClusterRole", "ClusterRoleBinding"}


@pytest.mark.parametrize("stack", STACKS)
class TestExampleStacks:
    def test_the_stack_evaluates_and_renders_its_apps(self, rendered: dict[str, Rendering], stack: str) -> None:
        counts = rendered[stack].counts()
        assert counts["Deployment"] == 3
        assert counts["Service"] == 3  # frontend, api and Fluent Bit's metrics; the worker has none
        assert counts["PodDisruptionBudget"] == 4  # the three apps' and Traefik's own (its chart's is off)
        assert counts["Namespace"] == 5  # the apps', and those of ingress, logging, monitoring and the node exporter
        assert counts["DaemonSet"] == 1  # Fluent Bit
        # Every namespace: default-deny and allow-dns; one per app; the platform's allow-lists.
        platform = 1 + 1 + (2 if stack == "dev" else 3)  # ingress, logging, monitoring (+ Alertmanager)
        assert counts["NetworkPolicy"] == 5 * 2 + 3 + platform

    def test_every_core_object_passes_kubernetes_validate_strict(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        failures = []
        for manifest in core_objects(rendered[stack]):
            try:
                kubernetes_validate.validate(manifest.body, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                failures.append(f"{manifest.path}: {error.message}")
        assert failures == []

    def test_every_app_workload_passes_pod_security_restricted(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        workloads = [m for m in rendered[stack].manifests if m.kind == "Deployment"]
        assert len(workloads) == 3
        assert {m.path: [str(v) for v in restricted_violations(m.body)] for m in workloads} == {
            m.path: [] for m in workloads
        }

    def test_only_the_log_shipper_needs_more_and_only_in_its_privileged_namespace(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        manifests = rendered[stack].manifests
        violating = [m for m in manifests if restricted_violations(m.body)]
        assert [(m.kind, m.namespace, m.name) for m in violating] == [("DaemonSet", "logging", "fluent-bit")]
        (logging,) = [m for m in manifests if m.kind == "Namespace" and m.name == "logging"]
        security = {k: v for k, v in logging.body["metadata"]["labels"].items() if k.startswith("pod-security")}
        assert (security["pod-security.kubernetes.io/enforce"], security["pod-security.kubernetes.io/warn"]) == (
            "privileged",
            "baseline",
        )
        assert security["pod-security.kubernetes.io/audit"] == "restricted"
        rules = {str(v.rule) for v in restricted_violations(violating[0].body)}
        assert rules <= {"hostPath volumes", "volume types", "running as non-root", "running as non-root user"}

    def test_every_custom_resource_passes_its_strict_crd_schema(
        self, rendered: dict[str, Rendering], stack: str
    ) -> None:
        custom = [m for m in rendered[stack].manifests if m not in core_objects(rendered[stack])]
        expected = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
        if stack != "dev":  # dev routes by Ingress
            expected |= {"Gateway", "GatewayClass", "HTTPRoute"}
        assert {m.kind for m in custom} == expected
        assert_valid_custom_resources(custom)

    def test_every_object_is_explicitly_named_and_namespaced(self, rendered: dict[str, Rendering], stack: str) -> None:
        for manifest in rendered[stack].manifests:
            assert manifest.name
            assert manifest.namespace or manifest.kind in CLUSTER_SCOPED

    def test_checkov_finds_nothing_beyond_the_documented_findings(
        self, rendered: dict[str, Rendering], stack: str, tmp_path: Path
    ) -> None:
        if not CHECKOV.exists():
            pytest.skip(f"checkov is not installed at {CHECKOV}; `make test` installs it")
        write_rendering(rendered[stack], tmp_path / stack)
        result = subprocess.run(
            [str(CHECKOV), "-d", str(tmp_path / stack), "--framework", "kubernetes", "-o", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        report = json.loads(result.stdout)
        report = report[0] if isinstance(report, list) else report
        assert report["summary"]["parsing_errors"] == 0
        assert report["summary"]["resource_count"] >= len(rendered[stack].manifests)
        failed = {(check["check_id"], check["resource"]) for check in report["results"].get("failed_checks", [])}
        assert failed == known_findings(rendered[stack])
        if stack == "prod":  # its apps pin digests: only Fluent Bit's tag remains
            assert failed == {("CKV_K8S_43", "DaemonSet.logging.fluent-bit")}
        skipped = {(check["check_id"], check["resource"]) for check in report["results"].get("skipped_checks", [])}
        assert {resource for _, resource in skipped} == {"DaemonSet.logging.fluent-bit"}
        assert {check for check, _ in skipped} >= FLUENT_BIT_EXCEPTIONS


class TestValidatorsCanFail:
    """The checks above would catch a bad object: each is shown failing once."""

    def test_kubernetes_validate_strict_rejects_an_unknown_field(self, rendered: dict[str, Rendering]) -> None:
        body = json.loads(json.dumps(rendered["dev"].manifests[0].body))
        body["metadata"]["nmae"] = "typo"
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(body, KUBERNETES_VERSION, strict=True)


class TestComposition:
    def test_everything_in_the_namespace_waits_for_the_namespace(self, rendered: dict[str, Rendering]) -> None:
        registrations = rendered["dev"].registrations
        (namespace,) = [r for r in registrations if r.type == "kubernetes:core/v1:Namespace" and r.name == "shop-dev"]
        namespaced = [
            r for r in registrations if r.custom and r.inputs.get("metadata", {}).get("namespace") == "shop-dev"
        ]
        assert len(namespaced) > 10
        assert [r.name for r in namespaced if namespace.urn not in r.dependencies] == []

    def test_render_dir_routes_every_object_through_a_rendering_provider(self, dev_inputs: StackInputs) -> None:
        config = {**dev_inputs.config, "stackyard:renderDir": "out/real-provider"}
        objects = run_program(
            lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
            config=config,
            secret_keys=dev_inputs.secret_keys,
            stack="dev",
        )
        (provider,) = [r for r in objects.run.registrations if r.type == "pulumi:providers:kubernetes"]
        assert provider.inputs["renderYamlToDirectory"] == "out/real-provider"
        kubernetes_objects = [r for r in objects.run.registrations if r.custom and r is not provider]
        assert kubernetes_objects
        assert {r.provider.rsplit("::", 1)[0] for r in kubernetes_objects} == {provider.urn}

    def test_without_render_dir_the_default_provider_deploys(self, rendered: dict[str, Rendering]) -> None:
        assert not [r for r in rendered["dev"].registrations if r.type.startswith("pulumi:providers:")]
