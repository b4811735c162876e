"""LogShipping: Fluent Bit as native resources, its validated pipeline and its confined privileges."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from components import LogOutput, LogShipping, LogShippingArgs, SecretKeyRef
from components.log_shipping import memory_needed, render_config
from stackyard.render import Rendering
from tests.conftest import ROOT, STACKS, Objects, run_program

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
            "NetworkPolicy",  # default-deny
            "NetworkPolicy",  # allow-dns
            "NetworkPolicy",  # allow-fluent-bit
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


class TestNeitherLostNorDuplicated:
    """Logs written before the first start are read; retried chunks do not index twice; retries end."""

    def test_files_the_position_database_does_not_know_are_read_from_their_start(self) -> None:
        (tail,) = config_of(build(outputs=[LogOutput(type="stdout")]))["pipeline"]["inputs"]
        assert tail["read_from_head"] == "on"
        assert tail["db"].endswith("tail-positions.db")

    @pytest.mark.parametrize("kind", ["opensearch", "elasticsearch"])
    def test_search_backends_get_document_ids_and_bounded_retries(self, kind: str) -> None:
        config = config_of(build(outputs=[LogOutput(type=kind, host="logs.example.com")]))
        (output,) = config["pipeline"]["outputs"]
        assert output["generate_id"] == "on"
        assert output["retry_limit"] == 5
        assert (config["service"]["scheduler.base"], config["service"]["scheduler.cap"]) == (5, 300)

    def test_unbounded_retries_are_not_offered(self) -> None:
        with pytest.raises(ValidationError, match="retryLimit"):
            LogOutput.model_validate({"type": "loki", "host": "loki.example.com", "retryLimit": "no_limits"})

    def test_the_daemon_set_is_evicted_last(self) -> None:
        assert pod(build(outputs=[LogOutput(type="stdout")]))["priorityClassName"] == "system-node-critical"


class TestMemoryHeadroom:
    def test_buffers_that_cannot_fit_the_memory_limit_are_refused_naming_each_part(self) -> None:
        with pytest.raises(ValidationError) as raised:
            LogShippingArgs.model_validate(
                {
                    "outputs": [{"type": "stdout"}],
                    "storageMaxChunksUp": 128,
                    "multilineLanguages": ["java"],
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "96Mi"},
                        "limits": {"cpu": "1", "memory": "256Mi"},
                    },
                }
            )
        message = str(raised.value)
        assert "resources.limits.memory: 256Mi is less than the buffers can hold (330 MiB" in message
        assert "128 chunks up of 2 MiB" in message

    def test_the_defaults_fit_with_room_to_spare(self) -> None:

        args = LogShippingArgs.model_validate({"outputs": [{"type": "stdout"}], "multilineLanguages": ["go"]})
        assert memory_needed(args) == (64 * 2 + 16 + 10 + 48) << 20
        assert memory_needed(args) < 256 << 20


class TestTheKeysExistInFluentBit:
    """Every key we write is one Fluent Bit 5.1 reads, for its section and plugin (keys it does not know
    are ignored with a warning at best, so a misspelt one silently does nothing)."""

    KEYS = ROOT.parent / "shared" / "reference" / "fluent-bit" / "config-keys-v5.1.1.json"

    def _known(self, kind: str, plugin: str) -> tuple[set[str], tuple[str, ...]]:
        keys = json.loads(self.KEYS.read_text())
        section = {"input": "inputs", "filter": "filters", "output": "outputs"}[kind]
        plugin = keys["aliases"].get(section, {}).get(plugin, plugin)
        assert plugin in keys[section], f"{kind} plugin {plugin!r} is not in Fluent Bit 5.1"
        names = {*keys[section][plugin], *keys["common"][kind]}
        prefixes = (*keys["prefixes"].get(section, {}).get(plugin, []), *keys["common_prefixes"].get(kind, []))
        return names, tuple(prefixes)

    @pytest.mark.skipif(not KEYS.is_file(), reason=f"the Fluent Bit key list lives in {KEYS}, absent in this checkout")
    @pytest.mark.parametrize("stack", STACKS)
    def test_every_key_of_every_section_is_known(self, stack: str, rendered: dict[str, Rendering]) -> None:
        (config_map,) = [
            m for m in rendered[stack].manifests if m.body["metadata"]["name"].startswith("fluent-bit-config")
        ]
        config = yaml.safe_load(next(iter(config_map.body["data"].values())))
        service_keys = set(json.loads(self.KEYS.read_text())["service"])
        unknown = [f"service.{key}" for key in config["service"] if key.lower() not in service_keys]
        for kind in ("input", "filter", "output"):
            for index, section in enumerate(config["pipeline"][f"{kind}s"]):
                names, prefixes = self._known(kind, section["name"])
                unknown += [
                    f"{kind}s[{index}] ({section['name']}).{key}"
                    for key in section
                    if key.lower() not in names and not key.lower().startswith(prefixes)
                ]
        assert unknown == []

    def test_the_check_can_fail(self) -> None:
        if not self.KEYS.is_file():
            pytest.skip(f"the Fluent Bit key list lives in {self.KEYS}, absent in this checkout")
        names, prefixes = self._known("output", "es")
        assert "generate_id" in names
        assert "generate_ids" not in names
        assert not "generate_ids".startswith(prefixes)
