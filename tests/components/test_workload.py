"""App: the graph it builds and the secure defaults of its pods."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components import App, AppArgs, Autoscaling, SecretKeyRef
from components.workload import TYPE_TOKEN
from policy import restricted_violations
from tests.conftest import Objects, run_program

IMAGE = "registry.example.com/shop/api:2.1.0"


def app_args(**overrides: Any) -> AppArgs:
    values: dict[str, Any] = {"namespace": "shop-test", "name": "api", "image": IMAGE, "part_of": "shop"}
    values.update(overrides)
    return AppArgs(**values)


def build(args: AppArgs) -> Objects:
    return run_program(lambda: App(args.name, args))


def pod_spec(objects: Objects, name: str = "api") -> dict[str, Any]:
    spec: dict[str, Any] = objects.get("Deployment", name)["spec"]["template"]["spec"]
    return spec


def container(objects: Objects, name: str = "api") -> dict[str, Any]:
    containers: list[dict[str, Any]] = pod_spec(objects, name)["containers"]
    assert len(containers) == 1
    return containers[0]


class TestAppGraph:
    def test_a_web_service_gets_account_deployment_service_budget_and_policy_parented_to_the_app(self) -> None:
        objects = build(app_args())
        assert objects.kinds() == ["Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount"]
        component = objects.registration(TYPE_TOKEN, "api")
        children = [r for r in objects.run.registrations if r.parent_urn == component.urn]
        assert len(children) == 5
        assert all(r.custom for r in children)

    def test_a_worker_without_service_gets_no_service(self) -> None:
        objects = build(app_args(name="worker", service=False))
        assert "Service" not in objects.kinds()

    def test_every_object_has_an_explicit_name_and_namespace(self) -> None:
        objects = build(app_args(env={"A": "1"}, autoscaling=Autoscaling()))
        for manifest in objects.manifests:
            assert manifest.name, manifest.kind
            assert manifest.namespace == "shop-test", manifest.kind

    def test_outputs_name_the_deployment_and_service(self) -> None:
        seen: dict[str, str] = {}

        def program() -> None:
            app = App("api", app_args())
            app.deployment_name.apply(lambda value: seen.setdefault("deployment", value))
            assert app.service_name is not None
            app.service_name.apply(lambda value: seen.setdefault("service", value))

        run_program(program)
        assert seen == {"deployment": "api", "service": "api"}


class TestAppReplicas:
    def test_without_autoscaling_the_deployment_sets_replicas(self) -> None:
        objects = build(app_args(replicas=3))
        assert objects.get("Deployment", "api")["spec"]["replicas"] == 3
        assert objects.of_kind("HorizontalPodAutoscaler") == []

    def test_zero_replicas_is_allowed_and_exported_as_an_integer(self) -> None:
        objects = build(app_args(replicas=0))
        replicas = objects.get("Deployment", "api")["spec"]["replicas"]
        assert replicas == 0
        assert isinstance(replicas, int)

    def test_with_autoscaling_the_hpa_owns_replicas_and_the_deployment_leaves_them_unset(self) -> None:
        objects = build(app_args(replicas=7, autoscaling=Autoscaling(min_replicas=2, max_replicas=6)))
        assert "replicas" not in objects.get("Deployment", "api")["spec"]
        hpa = objects.get("HorizontalPodAutoscaler", "api")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}

    def test_the_hpa_stabilises_scale_down(self) -> None:
        objects = build(app_args(autoscaling=Autoscaling(scale_down_stabilization_seconds=450)))
        scale_down = objects.get("HorizontalPodAutoscaler", "api")["spec"]["behavior"]["scaleDown"]
        assert scale_down["stabilizationWindowSeconds"] == 450
        assert scale_down["policies"] == [{"periodSeconds": 60, "type": "Percent", "value": 50}]

    def test_the_disruption_budget_always_allows_one_disruption(self) -> None:
        objects = build(app_args(replicas=1))
        spec = objects.get("PodDisruptionBudget", "api")["spec"]
        assert spec["maxUnavailable"] == 1
        assert "minAvailable" not in spec
        assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


class TestAppSecureDefaults:
    def test_the_pods_pass_the_restricted_pod_security_profile(self) -> None:
        objects = build(app_args(secret_files=["api-db"]))
        assert restricted_violations(objects.get("Deployment", "api")) == []

    def test_the_pod_runs_as_a_high_non_root_uid_with_runtime_default_seccomp(self) -> None:
        context = pod_spec(build(app_args()))["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] >= 10000
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}

    def test_the_container_drops_all_capabilities_and_cannot_escalate(self) -> None:
        context = container(build(app_args()))["securityContext"]
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["allowPrivilegeEscalation"] is False
        assert context["privileged"] is False

    def test_the_root_filesystem_is_read_only_with_an_empty_dir_for_tmp(self) -> None:
        objects = build(app_args())
        assert container(objects)["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"mountPath": "/tmp", "name": "tmp"} in container(objects)["volumeMounts"]
        assert {"emptyDir": {"sizeLimit": "64Mi"}, "name": "tmp"} in pod_spec(objects)["volumes"]

    def test_requests_and_limits_are_always_set(self) -> None:
        resources = container(build(app_args()))["resources"]
        assert set(resources["requests"]) == {"cpu", "memory"}
        assert set(resources["limits"]) == {"cpu", "memory"}

    def test_readiness_and_liveness_are_distinct_probes_on_the_named_port(self) -> None:
        app = container(build(app_args(port=9000, port_name="api")))
        assert app["ports"] == [{"containerPort": 9000, "name": "api", "protocol": "TCP"}]
        readiness, liveness = app["readinessProbe"], app["livenessProbe"]
        assert readiness["httpGet"] == {"path": "/readyz", "port": "api"}
        assert liveness["httpGet"] == {"path": "/livez", "port": "api"}
        assert readiness != liveness

    def test_pods_spread_across_nodes_and_zones(self) -> None:
        objects = build(app_args())
        constraints = pod_spec(objects)["topologySpreadConstraints"]
        assert [c["topologyKey"] for c in constraints] == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
        selector = objects.get("Deployment", "api")["spec"]["selector"]["matchLabels"]
        assert all(c["labelSelector"]["matchLabels"] == selector for c in constraints)
        assert all(c["whenUnsatisfiable"] == "ScheduleAnyway" for c in constraints)

    def test_updates_roll_without_losing_capacity(self) -> None:
        strategy = build(app_args()).get("Deployment", "api")["spec"]["strategy"]
        assert strategy == {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}, "type": "RollingUpdate"}

    def test_the_service_account_token_is_not_mounted_unless_asked(self) -> None:
        objects = build(app_args())
        assert objects.get("ServiceAccount", "api")["automountServiceAccountToken"] is False
        assert pod_spec(objects)["automountServiceAccountToken"] is False
        asked = build(app_args(automount_service_account_token=True))
        assert pod_spec(asked)["automountServiceAccountToken"] is True
        assert pod_spec(asked)["serviceAccountName"] == "api"


class TestAppLabelsAndSelectors:
    def test_objects_carry_the_recommended_labels(self) -> None:
        labels = build(app_args(component="api")).get("Deployment", "api")["metadata"]["labels"]
        assert labels == {
            "app.kubernetes.io/name": "api",
            "app.kubernetes.io/instance": "api-shop-test",
            "app.kubernetes.io/version": "2.1.0",
            "app.kubernetes.io/component": "api",
            "app.kubernetes.io/part-of": "shop",
            "app.kubernetes.io/managed-by": "stackyard",
        }

    def test_the_selector_uses_only_stable_labels_so_a_new_version_keeps_it(self) -> None:
        before = build(app_args()).get("Deployment", "api")["spec"]["selector"]
        after = build(app_args(image="registry.example.com/shop/api:9.9.9", component="other")).get(
            "Deployment", "api"
        )["spec"]["selector"]
        assert (
            before
            == after
            == {"matchLabels": {"app.kubernetes.io/instance": "api-shop-test", "app.kubernetes.io/name": "api"}}
        )

    def test_the_service_selects_the_pods_and_targets_the_named_port(self) -> None:
        objects = build(app_args(service_port=8081))
        service = objects.get("Service", "api")["spec"]
        pod_labels = objects.get("Deployment", "api")["spec"]["template"]["metadata"]["labels"]
        assert service["selector"].items() <= pod_labels.items()
        assert service["ports"] == [{"name": "http", "port": 8081, "protocol": "TCP", "targetPort": "http"}]

    def test_a_digest_pinned_image_labels_the_version_with_its_tag(self) -> None:
        image = "registry.example.com/shop/api:2.1.0@sha256:" + "ab" * 32
        labels = build(app_args(image=image)).get("Deployment", "api")["metadata"]["labels"]
        assert labels["app.kubernetes.io/version"] == "2.1.0"


class TestAppEnvironment:
    def test_env_comes_from_a_configmap_whose_name_follows_its_content(self) -> None:
        first = build(app_args(env={"LOG_LEVEL": "info"}))
        (config_map,) = first.of_kind("ConfigMap")
        assert config_map["data"] == {"LOG_LEVEL": "info"}
        assert config_map["immutable"] is True
        assert container(first)["envFrom"] == [{"configMapRef": {"name": config_map["metadata"]["name"]}}]
        (changed,) = build(app_args(env={"LOG_LEVEL": "debug"})).of_kind("ConfigMap")
        assert changed["metadata"]["name"] != config_map["metadata"]["name"]
        assert changed["metadata"]["name"].startswith("api-env-")

    def test_the_configmap_keeps_one_logical_name_so_its_urn_is_stable(self) -> None:
        names = {
            registration.name
            for env in ({"A": "1"}, {"A": "2"})
            for registration in build(app_args(env=env)).run.registrations
            if registration.type == "kubernetes:core/v1:ConfigMap"
        }
        assert names == {"api-env"}

    def test_secret_env_uses_secret_key_refs_and_never_a_value(self) -> None:
        objects = build(app_args(secret_env={"DB_PASSWORD": SecretKeyRef(secret="api-db", key="password")}))
        assert container(objects)["env"] == [
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "password", "name": "api-db"}}}
        ]

    def test_secret_files_are_mounted_read_only(self) -> None:
        objects = build(app_args(secret_files=["api-db"]))
        assert {
            "mountPath": "/var/run/secrets/stackyard/api-db",
            "name": "secret-api-db",
            "readOnly": True,
        } in container(objects)["volumeMounts"]


class TestAppArgsValidation:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"image": "registry.example.com/shop/api:latest"}, "image"),
            ({"image": "registry.example.com/shop/api"}, "image"),
            ({"name": "1api"}, "name"),
            ({"replicas": -1}, "replicas"),
            ({"port": 0}, "port"),
            ({"run_as_user": 999}, "run_as_user"),
            ({"env": {"A": "1"}, "secret_env": {"A": SecretKeyRef(secret="s", key="k")}}, "env and secretEnv"),
        ],
    )
    def test_bad_args_are_rejected_before_anything_is_registered(self, overrides: dict[str, Any], field: str) -> None:
        registered: list[object] = []

        def program() -> None:
            with pytest.raises(ValidationError) as caught:
                App("api", app_args(**overrides))
            registered.append(caught.value)

        objects = run_program(program)
        assert objects.run.registrations == []
        assert field in str(registered[0])

    def test_autoscaling_min_may_not_exceed_max(self) -> None:
        with pytest.raises(ValidationError, match="minReplicas 5 must not exceed maxReplicas 2"):
            Autoscaling(min_replicas=5, max_replicas=2)

    def test_args_are_frozen(self) -> None:
        args = app_args()
        with pytest.raises(ValidationError, match="frozen"):
            args.replicas = 5  # type: ignore[misc]
        assert args.replicas == 2  # the default, unchanged
