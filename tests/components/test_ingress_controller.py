"""IngressController: pinned charts, per-implementation values, classes and the legacy warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from components import IngressController, IngressControllerArgs, PodSecurity
from components.chart import HookRequirement, PinnedChart, check_hook_requirements
from components.ingress_implementations import PROFILES
from tests.conftest import Objects, assert_valid_custom_resources, run_program
from tests.netpol import Network, Outside, Pod

CHART = "kubernetes:helm.sh/v4:Chart"


def build(**fields: Any) -> Objects:
    args = IngressControllerArgs(**fields)
    return run_program(lambda: IngressController("edge", args))


def chart_inputs(objects: Objects) -> dict[str, Any]:
    (chart,) = [r for r in objects.run.registrations if r.type == CHART]
    return chart.inputs


class TestTraefik:
    def test_it_installs_the_pinned_chart_from_its_repository_in_its_own_namespace(self) -> None:
        objects = build()
        inputs = chart_inputs(objects)
        assert inputs["chart"] == "traefik"
        assert inputs["version"] == "41.3.0"
        assert inputs["repositoryOpts"] == {"repo": "https://traefik.github.io/charts"}
        assert (inputs["name"], inputs["namespace"]) == ("traefik", "ingress")
        assert objects.get("Namespace", "ingress")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
            "restricted"
        )

    def test_values_follow_the_settings(self) -> None:
        values = chart_inputs(build(replicas=3, service_type="LoadBalancer"))["values"]
        assert values["deployment"] == {"replicas": 3.0}
        assert values["service"] == {"spec": {"type": "LoadBalancer"}}
        assert values["podDisruptionBudget"] == {"enabled": False}
        assert values["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}

    def test_the_budget_is_ours_at_policy_v1_and_lets_one_pod_go_even_of_one(self) -> None:
        """The chart's own would be policy/v1beta1 offline: it asks Helm for the kind, which Helm
        only knows against a cluster."""
        objects = build(replicas=1, service_type="NodePort")
        (budget,) = objects.of_manifests("PodDisruptionBudget")
        assert budget.api_version == "policy/v1"
        assert budget.body["spec"] == {
            "maxUnavailable": 1,
            "selector": {
                "matchLabels": {"app.kubernetes.io/instance": "traefik-ingress", "app.kubernetes.io/name": "traefik"}
            },
        }
        values = chart_inputs(objects)["values"]
        assert values["podDisruptionBudget"] == {"enabled": False}
        assert values["service"] == {"spec": {"type": "NodePort"}}

    def test_for_ingress_routes_only_the_ingress_provider_and_class_are_on(self) -> None:
        objects = build(route_api="ingress")
        values = chart_inputs(objects)["values"]
        assert values["providers"] == {
            "kubernetesGateway": {"enabled": False},
            "kubernetesIngress": {"enabled": True},
            "kubernetesCRD": {"enabled": False},
        }
        assert values["ingressClass"] == {"enabled": True, "isDefaultClass": False, "name": "traefik"}
        assert objects.of_kind("GatewayClass") == []
        assert not [r for r in objects.run.registrations if r.type == "kubernetes:yaml/v2:ConfigFile"]

    def test_for_gateway_routes_it_serves_gateways_installs_the_crds_and_owns_the_class(self) -> None:
        objects = build(route_api="gateway", class_name="edge")
        values = chart_inputs(objects)["values"]
        assert values["providers"]["kubernetesGateway"] == {"enabled": True}
        assert values["gateway"] == {"enabled": False}
        assert values["gatewayClass"] == {"enabled": False}
        (crds,) = [r for r in objects.run.registrations if r.type == "kubernetes:yaml/v2:ConfigFile"]
        assert (
            crds.inputs["file"]
            == "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml"
        )
        gateway_class = objects.get("GatewayClass", "edge")
        assert gateway_class["spec"] == {"controllerName": "traefik.io/gateway-controller"}
        assert_valid_custom_resources(objects.of_manifests("GatewayClass"))

    def test_the_crds_can_be_left_to_the_cluster(self) -> None:
        objects = build(route_api="gateway", install_gateway_api_crds=False)
        assert not [r for r in objects.run.registrations if r.type == "kubernetes:yaml/v2:ConfigFile"]


class TestEnvoyGateway:
    def test_it_installs_the_oci_chart_with_a_proxy_config_and_a_parameterised_class(self) -> None:
        objects = build(implementation="envoy-gateway", route_api="gateway", service_type="NodePort", replicas=2)
        inputs = chart_inputs(objects)
        assert inputs["chart"] == "oci://docker.io/envoyproxy/gateway-helm"
        assert inputs["version"] == "v1.9.0"
        assert "repositoryOpts" not in inputs
        proxy = objects.get("EnvoyProxy", "envoy-gateway-proxy")
        assert proxy["spec"]["provider"]["kubernetes"]["envoyService"] == {"type": "NodePort"}
        gateway_class = objects.get("GatewayClass", "envoy-gateway")
        assert gateway_class["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
        assert gateway_class["spec"]["parametersRef"]["name"] == "envoy-gateway-proxy"
        assert_valid_custom_resources(objects.of_manifests("GatewayClass"))

    def test_cert_manager_issues_the_secrets_its_dropped_certgen_hook_would_have_made(self) -> None:
        objects = build(implementation="envoy-gateway", route_api="gateway", namespace="edge")
        certificates = {body["spec"]["secretName"]: body for body in objects.of_kind("Certificate")}
        assert set(certificates) == {"envoy-gateway-ca", "envoy-gateway", "envoy", "envoy-rate-limit"}
        assert "envoy-gateway.edge.svc.cluster.local" in certificates["envoy-gateway"]["spec"]["dnsNames"]
        assert certificates["envoy"]["spec"]["dnsNames"] == ["*.edge"]
        chart = next(r for r in objects.run.registrations if r.type == CHART)
        certificate_urns = {r.urn for r in objects.run.registrations if r.type.endswith(":Certificate")}
        assert certificate_urns <= set(chart.dependencies)

    def test_its_namespace_is_baseline_enforced_and_restricted_audited(self) -> None:
        labels = build(implementation="envoy-gateway", route_api="gateway").get("Namespace", "ingress")["metadata"][
            "labels"
        ]
        assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
        assert labels["pod-security.kubernetes.io/audit"] == "restricted"

    def test_it_does_not_serve_ingress(self) -> None:
        with pytest.raises(ValidationError, match="'envoy-gateway' does not serve routeApi 'ingress'"):
            IngressControllerArgs(implementation="envoy-gateway", route_api="ingress")


class TestLegacyIngressNginx:
    def test_choosing_it_warns_that_it_is_retired(self) -> None:
        objects = build(implementation="ingress-nginx")
        assert objects.run.warnings == [
            "ingress controller 'ingress-nginx' is a legacy option: the project was retired upstream in March 2026 "
            "and gets no releases or CVE fixes. Move to 'traefik' (Ingress and Gateway API) or 'envoy-gateway'."
        ]

    def test_the_maintained_implementations_do_not_warn(self) -> None:
        assert build().run.warnings == []

    def test_its_admission_webhook_is_off_because_its_certificate_comes_from_hooks(self) -> None:
        controller = chart_inputs(build(implementation="ingress-nginx", replicas=2))["values"]["controller"]
        assert controller["admissionWebhooks"] == {"enabled": False}
        assert controller["minAvailable"] == 1  # one of two may go

    def test_it_cannot_serve_the_gateway_api(self) -> None:
        with pytest.raises(ValidationError, match="does not serve routeApi 'gateway'"):
            IngressControllerArgs(implementation="ingress-nginx", route_api="gateway")


class TestHookRequirements:
    def test_values_that_rely_on_a_dropped_hook_are_refused(self) -> None:
        pinned = PinnedChart(chart="c", version="1", hook_requirements=(HookRequirement("a.b", False, "hook"),))
        with pytest.raises(ValueError, match=r"a\.b must be False \(found True\): hook"):
            check_hook_requirements(pinned, {"a": {"b": True}})
        check_hook_requirements(pinned, {"a": {"b": False}})

    def test_every_pinned_chart_has_an_exact_version(self) -> None:
        for profile in PROFILES.values():
            assert profile.chart.version.lstrip("v")[0].isdigit()
            assert profile.chart.repository.startswith("https://") or profile.chart.chart.startswith("oci://")

    def test_pod_security_can_be_overridden(self) -> None:
        objects = build(pod_security=PodSecurity(enforce="baseline"))
        labels = objects.get("Namespace", "ingress")["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "baseline"


class TestEnvoyGatewayCrdCombinations:
    """Every combination of the CRD settings works for envoy-gateway, or is refused with what to do."""

    def _validate(self, **fields: Any) -> IngressControllerArgs:
        return IngressControllerArgs.model_validate(
            {"implementation": "envoy-gateway", "routeApi": "gateway", **fields}
        )

    def test_by_default_the_chart_installs_both_sets_of_crds(self) -> None:
        objects = build(implementation="envoy-gateway", route_api="gateway")
        assert chart_inputs(objects)["values"]["crds"] == {"enabled": True}
        assert not [r for r in objects.run.registrations if r.type == "kubernetes:yaml/v2:ConfigGroup"]

    def test_a_standard_install_with_the_chart_is_refused(self, tmp_path: Path) -> None:
        crds = tmp_path / "standard-install.yaml"
        crds.write_text(
            "kind: CustomResourceDefinition\nspec: {group: gateway.networking.k8s.io}\nmetadata: {name: x}\n"
        )
        with pytest.raises(ValidationError, match="installs the Gateway API's experimental channel"):
            self._validate(gatewayApiCrdsPath=str(crds))

    def test_without_the_charts_crds_envoy_gateways_own_come_from_a_folder(self, tmp_path: Path) -> None:
        (tmp_path / "gateway.envoyproxy.io_envoyproxies.yaml").write_text("kind: CustomResourceDefinition\n")
        objects = build(
            implementation="envoy-gateway",
            route_api="gateway",
            install_gateway_api_crds=False,
            envoy_gateway_crds_path=str(tmp_path),
        )
        assert chart_inputs(objects)["values"]["crds"] == {"enabled": False}
        (group,) = [r for r in objects.run.registrations if r.type == "kubernetes:yaml/v2:ConfigGroup"]
        assert group.inputs["files"] == [str(tmp_path / "gateway.envoyproxy.io_envoyproxies.yaml")]

    def test_without_any_source_of_envoy_gateways_crds_it_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="envoyGatewayCrdsPath: with installGatewayApiCrds: false"):
            self._validate(installGatewayApiCrds=False)

    def test_a_local_chart_folder_provides_them(self, tmp_path: Path) -> None:
        chart = tmp_path / "gateway-helm"
        (chart / "charts" / "crds" / "crds" / "generated").mkdir(parents=True)
        (chart / "Chart.yaml").write_text("name: gateway-helm\nversion: v1.9.0\n")
        args = self._validate(installGatewayApiCrds=False, chartPath=str(chart))
        assert args.envoy_gateway_crds_source() == str(chart / "charts" / "crds" / "crds" / "generated")

    def test_the_path_is_refused_for_other_controllers(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match="applies to implementation 'envoy-gateway' only"):
            IngressControllerArgs.model_validate({"envoyGatewayCrdsPath": str(tmp_path)})


class TestControllerNetworkPolicy:
    """The controller's namespace denies by default; its allow-list follows the implementation."""

    BACKEND = Pod("shop", {"app.kubernetes.io/name": "api"})

    def network(self, **fields: Any) -> Network:
        return Network(build(**fields).of_kind("NetworkPolicy"), {})

    def test_by_default_it_reaches_any_namespace_and_apps_policies_decide(self) -> None:
        net = self.network(implementation="traefik")
        assert net.allows(Pod("ingress"), self.BACKEND, 9000)
        assert net.allows(Outside("203.0.113.1"), Pod("ingress"), 8443)
        assert not net.allows(Outside("203.0.113.1"), Pod("ingress"), 9100)

    def test_backend_namespaces_narrow_where_it_may_connect(self) -> None:
        assert not self.network(backend_namespaces=["web"]).allows(Pod("ingress"), self.BACKEND, 9000)
        assert self.network(backend_namespaces=["web", "shop"]).allows(Pod("ingress"), self.BACKEND, 9000)
        assert not self.network(backend_namespaces=[]).allows(Pod("ingress"), self.BACKEND, 9000)

    def test_prometheus_reaches_the_metrics_port_only_with_a_service_monitor(self) -> None:
        prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
        assert not self.network().allows(prometheus, Pod("ingress"), 9100)
        assert self.network(service_monitor=True).allows(prometheus, Pod("ingress"), 9100)

    def test_envoy_gateways_controller_and_proxies_talk_inside_their_namespace(self) -> None:
        net = self.network(implementation="envoy-gateway", route_api="gateway", namespace="envoy-gateway-system")
        controller = Pod("envoy-gateway-system", {"app.kubernetes.io/name": "gateway-helm"})
        proxy = Pod("envoy-gateway-system", {"app.kubernetes.io/name": "envoy"})
        assert net.allows(proxy, controller, 18000)  # xDS
        assert net.allows(Outside("203.0.113.1"), proxy, 10443)
        assert not self.network(implementation="traefik").allows(Pod("ingress", {"a": "1"}), Pod("ingress"), 18000)
