"""LogShipping: Fluent Bit as native resources, its validated pipeline and its confined privileges."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from components import LogOutput, LogShipping, LogShippingArgs, SecretKeyRef
from components.log_shipping import render_config
from tests.conftest import Objects, run_program

STDOUT = [LogOutput(type="stdout")]


def build(**fields: Any) -> Objects:
    args = LogShippingArgs(**{"outputs": STDOUT, **fields})
    return run_program(lambda: LogShipping("fluent-bit", args))


def config_of(objects: Objects) -> dict[str, Any]:
    (config_map,) = objects.of_kind("ConfigMap")
    parsed: dict[str, Any] = yaml.safe_load(config_map["data"]["fluent-bit.yaml"])
    return parsed


def pod(objects: Objects) -> dict[str, Any]:
    spec: dict[str, Any] = objects.get("DaemonSet", "fluent-bit")["spec"]["template"]["spec"]
    return spec


class TestLogShippingGraph:
    def test_it_creates_namespace_account_rbac_config_daemonset_and_metrics_service(self) -> None:
        assert build().kinds() == [
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "DaemonSet",
            "Namespace",
            "Service",
            "ServiceAccount",
        ]

    def test_the_cluster_role_only_reads_pods_and_namespaces(self) -> None:
        role = build().get("ClusterRole", "logging-fluent-bit")
        assert role["rules"] == [
            {"apiGroups": [""], "resources": ["pods", "namespaces"], "verbs": ["get", "list", "watch"]}
        ]
        binding = build().get("ClusterRoleBinding", "logging-fluent-bit")
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "fluent-bit", "namespace": "logging"}]

    def test_the_config_map_name_follows_its_content_so_changes_roll_the_daemonset(self) -> None:
        first = build()
        (config_map,) = first.of_kind("ConfigMap")
        name = config_map["metadata"]["name"]
        assert name.startswith("fluent-bit-config-")
        volumes = pod(first)["volumes"]
        assert {"configMap": {"name": name}, "name": "config"} in volumes
        (other,) = build(log_level="debug").of_kind("ConfigMap")
        assert other["metadata"]["name"] != name

    def test_it_runs_on_every_node(self) -> None:
        assert pod(build())["tolerations"] == [{"operator": "Exists"}]

    def test_the_metrics_service_selects_the_daemonset_pods(self) -> None:
        objects = build()
        service = objects.get("Service", "fluent-bit-metrics")["spec"]
        labels = objects.get("DaemonSet", "fluent-bit")["spec"]["template"]["metadata"]["labels"]
        assert service["selector"].items() <= labels.items()
        assert service["ports"] == [
            {"name": "http-metrics", "port": 2020, "protocol": "TCP", "targetPort": "http-metrics"}
        ]

    def test_the_image_is_pinned_to_an_exact_version(self) -> None:
        (container,) = pod(build())["containers"]
        assert container["image"] == "cr.fluentbit.io/fluent/fluent-bit:5.1.2"


class TestLogShippingSecurity:
    def test_host_mounts_are_read_only_except_the_dedicated_state_directory(self) -> None:
        objects = build(docker_runtime=True)
        volumes = {v["name"]: v for v in pod(objects)["volumes"]}
        (container,) = pod(objects)["containers"]
        for mount in container["volumeMounts"]:
            if "hostPath" not in volumes[mount["name"]]:
                continue
            if mount["name"] == "state":
                assert volumes["state"]["hostPath"] == {"path": "/var/lib/fluent-bit", "type": "DirectoryOrCreate"}
                assert "readOnly" not in mount
            else:
                assert mount["readOnly"] is True, mount
        assert {v["hostPath"]["path"] for v in volumes.values() if "hostPath" in v} == {
            "/var/log",
            "/var/lib/docker/containers",
            "/var/lib/fluent-bit",
        }

    def test_the_container_drops_all_capabilities_with_a_read_only_root_and_runtime_default_seccomp(self) -> None:
        (container,) = pod(build())["containers"]
        context = container["securityContext"]
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}

    def test_the_namespace_is_privileged_enforced_baseline_warned_restricted_audited(self) -> None:
        labels = build().get("Namespace", "logging")["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
        assert labels["pod-security.kubernetes.io/warn"] == "baseline"
        assert labels["pod-security.kubernetes.io/audit"] == "restricted"

    def test_its_scanner_exceptions_are_annotated_with_reasons(self) -> None:
        annotations = build().get("DaemonSet", "fluent-bit")["metadata"]["annotations"]
        checks = dict(value.split("=", 1) for key, value in annotations.items() if key.startswith("checkov.io/"))
        assert set(checks) == {"CKV_K8S_23", "CKV_K8S_40", "CKV_K8S_38"}
        assert all(len(reason) > 20 for reason in checks.values())
        policy = annotations["policy.stackyard.io/skip.pod-security-restricted"]
        assert "confined to the logging namespace" in policy


class TestPipelineConfig:
    def test_it_parses_into_service_and_pipeline_sections(self) -> None:
        config = config_of(build())
        assert set(config) == {"service", "pipeline"}
        assert set(config["pipeline"]) == {"inputs", "filters", "outputs"}
        assert config["service"]["http_port"] == 2020

    def test_the_tail_input_reads_container_logs_with_cri_and_docker_parsers_and_filesystem_buffering(self) -> None:
        (tail,) = config_of(build())["pipeline"]["inputs"]
        assert tail["name"] == "tail"
        assert tail["path"] == "/var/log/containers/*.log"
        assert tail["multiline.parser"] == "cri, docker"
        assert tail["storage.type"] == "filesystem"
        assert tail["db"] == "/var/lib/fluent-bit/tail-positions.db"
        assert tail["exclude_path"] == "/var/log/containers/*_logging_*.log"

    def test_buffering_is_bounded_in_memory_and_on_disk(self) -> None:
        config = config_of(build(storage_max_chunks_up=32, outputs=[LogOutput(type="stdout", total_limit_size="2G")]))
        assert config["service"]["storage.max_chunks_up"] == 32
        assert config["service"]["storage.path"] == "/var/lib/fluent-bit/storage"
        (output,) = config["pipeline"]["outputs"]
        assert output["storage.total_limit_size"] == "2G"

    def test_the_kubernetes_filter_merges_json_logs(self) -> None:
        (kubernetes,) = config_of(build())["pipeline"]["filters"]
        assert kubernetes["name"] == "kubernetes"
        assert kubernetes["merge_log"] == "on"

    def test_the_multiline_filter_comes_first_when_asked(self) -> None:
        filters = config_of(build(multiline_languages=["java", "python"]))["pipeline"]["filters"]
        assert [f["name"] for f in filters] == ["multiline", "kubernetes"]
        assert filters[0]["multiline.parser"] == "java, python"
        assert filters[0]["emitter_storage.type"] == "filesystem"

    def test_a_loki_output_carries_its_settings_and_credentials_from_a_secret(self) -> None:
        loki = LogOutput(type="loki", host="loki.example.com", port=443, tenant_id="shop", credentials="loki-auth")
        objects = build(outputs=[loki])
        (output,) = config_of(objects)["pipeline"]["outputs"]
        assert (output["name"], output["host"], output["port"], output["tls"]) == (
            "loki",
            "loki.example.com",
            443,
            "on",
        )
        assert output["tenant_id"] == "shop"
        assert output["http_passwd"] == "${OUTPUT_0_PASSWORD}"
        assert "namespace=$kubernetes['namespace_name']" in output["labels"]
        (container,) = pod(objects)["containers"]
        assert {
            "name": "OUTPUT_0_PASSWORD",
            "valueFrom": {"secretKeyRef": {"key": "password", "name": "loki-auth"}},
        } in container["env"]

    def test_opensearch_elasticsearch_and_forward_outputs(self) -> None:
        outputs = [
            LogOutput(type="opensearch", host="os.example.com", index="shop"),
            LogOutput(type="elasticsearch", host="es.example.com"),
            LogOutput(type="forward", host="fwd.example.com", shared_key=SecretKeyRef(secret="fwd", key="key")),
        ]
        rendered = config_of(build(outputs=outputs))["pipeline"]["outputs"]
        assert [(o["name"], o["port"]) for o in rendered] == [("opensearch", 9200), ("es", 9200), ("forward", 24224)]
        assert (rendered[0]["index"], rendered[1]["index"]) == ("shop", "logs")
        assert rendered[0]["replace_dots"] == rendered[1]["replace_dots"] == "on"
        assert rendered[2]["shared_key"] == "${OUTPUT_2_SHARED_KEY}"

    def test_the_rendered_text_is_yaml_that_round_trips(self) -> None:
        args = LogShippingArgs(outputs=STDOUT)
        assert yaml.safe_load(render_config(args))["pipeline"]["outputs"][0]["name"] == "stdout"

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"type": "loki"}, "a 'loki' output needs host"),
            ({"type": "stdout", "host": "x.example.com"}, "['host'] do not apply to a 'stdout' output"),
            ({"type": "loki", "host": "l.example.com", "index": "x"}, "['index'] do not apply to a 'loki' output"),
            ({"type": "forward", "host": "f.example.com", "tenant_id": "t"}, "['tenantId'] do not apply"),
            ({"type": "kafka"}, "Input should be 'stdout', 'loki'"),
            ({"type": "loki", "host": "Loki_Host"}, "RFC 1123 host name"),
            ({"type": "stdout", "total_limit_size": "1 GB"}, "must be a Fluent Bit size"),
            ({"type": "loki", "host": "l.example.com", "port": 0}, "port number from 1 to 65535"),
        ],
    )
    def test_bad_outputs_fail_with_what_is_allowed(self, fields: dict[str, Any], message: str) -> None:
        with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
            LogOutput(**fields)

    def test_at_least_one_output_is_required(self) -> None:
        with pytest.raises(ValidationError, match="at least 1 item"):
            LogShippingArgs(outputs=[])
