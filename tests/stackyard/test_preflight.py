"""Preflight's judgements, on facts made up for each case (the gathering is tested on a real API server)."""

from __future__ import annotations

import pytest

from stackyard import preflight
from stackyard.preflight import ClusterFacts, ExportFacts
from stackyard.render import Rendering


@pytest.fixture(scope="module")
def staging(rendered: dict[str, Rendering]) -> ExportFacts:
    rendering = rendered["staging"]
    return ExportFacts([m.body for m in rendering.manifests], [r.body for r in rendering.records])


def ready(**overrides: object) -> ClusterFacts:
    facts = ClusterFacts(
        version=(1, 36),
        available_api_services={preflight.METRICS_API_SERVICE},
        crd_groups=set(),
        kube_system_pod_labels=[{"k8s-app": "kube-dns"}],
        cluster_issuers={"letsencrypt-staging": True},
        cert_manager_gateway_api=True,
    )
    for key, value in overrides.items():
        setattr(facts, key, value)
    return facts


def test_a_ready_cluster_meets_every_precondition(staging: ExportFacts) -> None:
    assert {c.item: c.status for c in preflight.judge(ready(), staging)} == {
        "Kubernetes version": "ok",
        "resource metrics API": "ok",
        "cert-manager": "ok",
        "CRDs": "ok",
        "DNS pod labels": "ok",
        "cluster-scoped objects": "ok",
    }


@pytest.mark.parametrize(
    ("overrides", "item", "advice"),
    [
        ({"version": (1, 29)}, "Kubernetes version", "upgrade to 1.30 or newer"),
        ({"available_api_services": set()}, "resource metrics API", "install metrics-server"),
        ({"cert_manager_gateway_api": None}, "cert-manager", "install cert-manager"),
        ({"cert_manager_gateway_api": False}, "cert-manager", "--enable-gateway-api"),
        ({"cluster_issuers": {}}, "cert-manager", "create ClusterIssuer letsencrypt-staging"),
        ({"cluster_issuers": {"letsencrypt-staging": False}}, "cert-manager", "gatewayHTTPRoute"),
        ({"kube_system_pod_labels": [{"k8s-app": "coredns"}]}, "DNS pod labels", "k8s-app=kube-dns"),
    ],
)
def test_each_missing_precondition_says_what_to_do(
    staging: ExportFacts, overrides: dict[str, object], item: str, advice: str
) -> None:
    (check,) = [c for c in preflight.judge(ready(**overrides), staging) if c.item == item]
    assert check.status == "missing"
    assert advice in check.detail


def test_a_custom_resource_group_nobody_installs_is_missing(staging: ExportFacts) -> None:
    without_install = ExportFacts(staging.objects, [r for r in staging.records if r["kind"] == "HelmChart"])
    check = preflight.check_crds(ready(), without_install)
    assert check.status == "missing"
    assert "gateway.networking.k8s.io" in check.detail
    assert preflight.check_crds(ready(crd_groups={"gateway.networking.k8s.io"}), without_install).status == "ok"


def test_a_complete_export_installs_the_groups_of_the_crds_it_holds(staging: ExportFacts) -> None:
    # A complete export holds the CRDs themselves: they count as installed, whatever the records say.
    gateway_crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "httproutes.gateway.networking.k8s.io"},
        "spec": {"group": "gateway.networking.k8s.io"},
    }
    charts_only = [r for r in staging.records if r["kind"] == "HelmChart"]
    assert preflight.check_crds(ready(), ExportFacts(staging.objects, charts_only)).status == "missing"
    complete = ExportFacts([*staging.objects, gateway_crd], charts_only)
    assert "gateway.networking.k8s.io" in complete.installed_groups()
    assert preflight.check_crds(ready(), complete).status == "ok"


def test_another_environments_cluster_scoped_object_is_a_warning(staging: ExportFacts) -> None:
    facts = ready(existing={("Namespace", "logging"): {"app.kubernetes.io/instance": "elsewhere"}})
    check = preflight.check_cluster_scoped(facts, staging)
    assert check.status == "warning"
    assert "Namespace logging (instance 'elsewhere')" in check.detail
