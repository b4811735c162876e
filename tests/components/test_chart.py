"""Pinned charts, and local charts for clusters without internet access."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from components import IngressController, IngressControllerArgs, Monitoring, MonitoringArgs
from components.chart import (
    PinnedChart,
    check_local_chart,
    pinned_name,
    read_chart_metadata,
)
from components.ingress_implementations import (
    PROFILES,
    gateway_api_crds_warning,
    read_gateway_api_crds,
)
from components.monitoring import CHART as MONITORING_CHART
from tests.conftest import ROOT, Objects, run_program

#: The Gateway API release the ingress controller installs when no local copy is given.
GATEWAY_API_RELEASE = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml"

REFERENCE = ROOT.parent / "shared" / "reference"
TRAEFIK = PROFILES["traefik"].chart


def chart_folder(tmp_path: Path, name: str, version: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    return folder


def packaged(tmp_path: Path, name: str, version: str, member: str | None = None) -> Path:
    archive = tmp_path / f"{name}-{version}.tgz"
    data = f"apiVersion: v2\nname: {name}\nversion: {version}\n".encode()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(member or f"{name}/Chart.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return archive


POLICY = """apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: safe-upgrades.gateway.networking.k8s.io
spec:
  failurePolicy: Fail
"""


def crd_file(tmp_path: Path, version: str = "v1.5.1", channel: str = "standard", extra: str = POLICY) -> Path:
    path = tmp_path / "crds.yaml"
    crds = [
        f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.gateway.networking.k8s.io
  annotations:
    gateway.networking.k8s.io/bundle-version: {version}
    gateway.networking.k8s.io/channel: {channel}
spec:
  group: gateway.networking.k8s.io
"""
        for plural in ("gateways", "httproutes")
    ]
    path.write_text("\n---\n".join([*crds, extra]))
    return path


def chart_inputs(objects: Objects) -> dict[str, Any]:
    (chart,) = [r for r in objects.run.registrations if r.type == "kubernetes:helm.sh/v4:Chart"]
    return chart.inputs


class TestReadingALocalChart:
    def test_a_folder_and_a_package_name_their_chart(self, tmp_path: Path) -> None:
        assert read_chart_metadata(chart_folder(tmp_path, "traefik", "41.6.0")).version == "41.6.0"
        assert read_chart_metadata(packaged(tmp_path, "traefik", "41.5.0")).version == "41.5.0"

    @pytest.mark.parametrize(
        ("make", "message"),
        [
            (lambda tmp: tmp / "nope", "does not exist"),
            (lambda tmp: tmp, "without a Chart.yaml"),
            (lambda tmp: packaged(tmp, "traefik", "1.0.0", member="Chart.yaml"), "holds no <chart>/Chart.yaml"),
            (lambda tmp: (tmp / "x.tgz").write_text("plain text") and tmp / "x.tgz", "not a packaged Helm chart"),
        ],
    )
    def test_what_is_not_a_chart_is_refused_saying_why(self, tmp_path: Path, make: Any, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            read_chart_metadata(make(tmp_path))

    def test_another_chart_is_refused_naming_both(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match=r"is chart 'nginx' 1\.0\.0, not 'traefik'"):
            check_local_chart(str(chart_folder(tmp_path, "nginx", "1.0.0")), TRAEFIK)

    def test_another_version_is_refused_naming_both_versions(self, tmp_path: Path) -> None:
        path = str(chart_folder(tmp_path, "traefik", "41.6.0"))
        with pytest.raises(ValueError, match=r"is traefik 41\.6\.0, but this component pins 41\.3\.0"):
            check_local_chart(path, TRAEFIK)

    def test_the_pinned_version_is_accepted_with_or_without_a_v(self, tmp_path: Path) -> None:
        oci = PinnedChart(chart="oci://docker.io/envoyproxy/gateway-helm", version="v1.9.0")
        assert pinned_name(oci) == "gateway-helm"
        assert check_local_chart(str(chart_folder(tmp_path, "gateway-helm", "1.9.0")), oci).version == "1.9.0"


class TestLocalChartsInComponents:
    def test_the_ingress_controller_installs_a_local_chart_without_repository_or_version(self, tmp_path: Path) -> None:
        path = str(chart_folder(tmp_path, "traefik", "41.3.0"))
        inputs = chart_inputs(run_program(lambda: IngressController("edge", IngressControllerArgs(chart_path=path))))
        assert inputs["chart"] == path
        assert "version" not in inputs
        assert "repositoryOpts" not in inputs

    def test_a_different_version_is_refused_at_the_key(self, tmp_path: Path) -> None:
        path = str(chart_folder(tmp_path, "traefik", "40.0.0"))
        with pytest.raises(
            ValidationError, match=r"chartPath[\s\S]*is traefik 40\.0\.0, but this component pins 41\.3\.0"
        ):
            IngressControllerArgs.model_validate({"chartPath": path})

    def test_the_ingress_chart_must_be_the_implementations(self, tmp_path: Path) -> None:
        path = str(chart_folder(tmp_path, "traefik", "41.3.0"))
        with pytest.raises(ValidationError, match="not 'gateway-helm'") as raised:
            IngressControllerArgs.model_validate(
                {"implementation": "envoy-gateway", "routeApi": "gateway", "chartPath": path}
            )
        assert raised.value.errors()[0]["loc"] == ("chartPath",)

    def test_monitoring_installs_a_local_kube_prometheus_stack(self, tmp_path: Path) -> None:
        path = str(chart_folder(tmp_path, "kube-prometheus-stack", MONITORING_CHART.version))
        args = MonitoringArgs(grafana=False, chart_path=path)
        inputs = chart_inputs(run_program(lambda: Monitoring("kube-prometheus-stack", args)))
        assert inputs["chart"] == path
        with pytest.raises(ValidationError, match="does not exist"):
            MonitoringArgs(grafana=False, chart_path=str(tmp_path / "missing"))


class TestLocalGatewayApiCrds:
    def test_the_pinned_standard_release_is_read_without_a_warning(self, tmp_path: Path) -> None:
        install = read_gateway_api_crds(str(crd_file(tmp_path)))
        assert len(install.crds) == 2
        assert [policy["kind"] for policy in install.policies] == ["ValidatingAdmissionPolicy"]
        assert gateway_api_crds_warning(install) is None

    def test_another_version_or_channel_warns_naming_each_difference(self, tmp_path: Path) -> None:
        install = read_gateway_api_crds(str(crd_file(tmp_path, version="v1.6.1", channel="experimental")))
        warning = gateway_api_crds_warning(install)
        assert warning is not None
        assert "bundle version v1.6.1 (pinned v1.5.1)" in warning
        assert "channel experimental (pinned standard)" in warning

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (None, "does not exist"),
            ("a: [", "not a YAML file"),
            ("kind: ConfigMap\n", "holds no CustomResourceDefinition"),
        ],
    )
    def test_a_file_without_gateway_api_crds_is_refused(
        self, tmp_path: Path, content: str | None, message: str
    ) -> None:
        path = tmp_path / "crds.yaml"
        if content is not None:
            path.write_text(content)
        with pytest.raises(ValidationError, match=message) as raised:
            IngressControllerArgs.model_validate({"routeApi": "gateway", "gatewayApiCrdsPath": str(path)})
        assert raised.value.errors()[0]["loc"] == ("gatewayApiCrdsPath",)

    def test_anything_but_the_install_is_refused(self, tmp_path: Path) -> None:
        path = str(crd_file(tmp_path, extra="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
        with pytest.raises(ValueError, match="holds more than the Gateway API install \\(ConfigMap\\)"):
            read_gateway_api_crds(path)

    def test_a_local_copy_installs_its_crds_as_a_group_and_its_policy_as_a_typed_object(self, tmp_path: Path) -> None:
        path = str(crd_file(tmp_path))
        objects = run_program(
            lambda: IngressController("edge", IngressControllerArgs(route_api="gateway", gateway_api_crds_path=path))
        )
        types = [r.type for r in objects.run.registrations]
        assert "kubernetes:yaml/v2:ConfigFile" not in types
        (group,) = [r for r in objects.run.registrations if r.type == "kubernetes:yaml/v2:ConfigGroup"]
        assert [obj["metadata"]["name"] for obj in group.inputs["objs"]] == [
            "gateways.gateway.networking.k8s.io",
            "httproutes.gateway.networking.k8s.io",
        ]
        policy = objects.get("ValidatingAdmissionPolicy", "safe-upgrades.gateway.networking.k8s.io")
        assert policy["spec"] == {"failurePolicy": "Fail"}

    def test_without_a_local_copy_the_release_url_is_installed(self) -> None:
        objects = run_program(lambda: IngressController("edge", IngressControllerArgs(route_api="gateway")))
        (crds,) = [r for r in objects.run.registrations if r.type == "kubernetes:yaml/v2:ConfigFile"]
        assert crds.inputs["file"] == GATEWAY_API_RELEASE


@pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"the upstream charts live in {REFERENCE}, absent in this checkout")
class TestTheReferenceCharts:
    """The upstream charts in ../shared/reference are the very charts the engine tier installs."""

    @pytest.mark.parametrize(
        ("folder", "pinned", "version"),
        [
            ("charts/traefik", TRAEFIK, "41.3.0"),
            ("charts/gateway-helm", PROFILES["envoy-gateway"].chart, "v1.9.0"),
            ("charts/kube-prometheus-stack", MONITORING_CHART, "88.5.3"),
        ],
    )
    def test_each_is_its_components_chart_at_the_pin(self, folder: str, pinned: PinnedChart, version: str) -> None:
        """The pins are the versions the tiers verify: these charts."""
        assert pinned.version == version
        assert check_local_chart(str(REFERENCE / folder), pinned).version == version

    def test_the_gateway_api_install_is_the_pinned_standard_release(self) -> None:
        install = read_gateway_api_crds(str(REFERENCE / "crds" / "gateway-api-v1.5.1-standard-install.yaml"))
        assert len(install.crds) == 8
        assert sorted(policy["kind"] for policy in install.policies) == [
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
        ]
        assert gateway_api_crds_warning(install) is None
