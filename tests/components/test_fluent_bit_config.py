"""Fluent Bit's configuration language, on literal inputs and outputs."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from components import fluent_bit_config as fluent_bit

SERVICE = fluent_bit.Service(
    log_level="warn", http_port=2020, storage_path="/state/storage", max_chunks_up=8, backlog_mem_limit="4M"
)


STDOUT = fluent_bit.Output(kind="stdout", match="kube.*", total_limit_size="1G", retry_limit=5)


def output(**settings: object) -> fluent_bit.Output:
    return replace(STDOUT, **settings)


class TestValues:
    def test_a_switch_is_on_or_off(self) -> None:
        assert (fluent_bit.switch(True), fluent_bit.switch(False)) == ("on", "off")

    def test_an_environment_reference_is_dollar_braces(self) -> None:
        assert fluent_bit.env_reference("OUTPUT_0_PASSWORD") == "${OUTPUT_0_PASSWORD}"

    @pytest.mark.parametrize("name", ["", "0_FIRST", "A-B", "A}B", "${A}"])
    def test_a_name_fluent_bit_cannot_substitute_is_refused(self, name: str) -> None:
        with pytest.raises(ValueError, match="not an environment variable name"):
            fluent_bit.env_reference(name)

    def test_a_record_accessor_quotes_each_key_after_the_first(self) -> None:
        assert fluent_bit.record_accessor("kubernetes", "pod_name") == "$kubernetes['pod_name']"
        assert fluent_bit.record_accessor("log") == "$log"

    @pytest.mark.parametrize("keys", [(), ("kubernetes", "it's"), ("a", "b]")])
    def test_a_record_accessor_refuses_keys_that_would_break_its_quoting(self, keys: tuple[str, ...]) -> None:
        with pytest.raises(ValueError, match="record accessor keys"):
            fluent_bit.record_accessor(*keys)

    def test_loki_labels_are_sorted_name_value_pairs(self) -> None:
        assert fluent_bit.label_list({"pod": "$kubernetes['pod_name']", "job": "fluent-bit"}) == (
            "job=fluent-bit, pod=$kubernetes['pod_name']"
        )


class TestSections:
    def test_the_service_section_bounds_the_buffer_and_serves_health_and_metrics(self) -> None:
        assert fluent_bit.service_section(SERVICE) == {
            "flush": 1,
            "log_level": "warn",
            "http_server": "on",
            "http_listen": "0.0.0.0",
            "http_port": 2020,
            "health_check": "on",
            "storage.path": "/state/storage",
            "storage.sync": "normal",
            "storage.checksum": "off",
            "storage.max_chunks_up": 8,
            "storage.backlog.mem_limit": "4M",
            "storage.metrics": "on",
            "scheduler.base": 5,
            "scheduler.cap": 300,
        }

    def test_the_tail_input_tags_container_logs_and_buffers_on_disk(self) -> None:
        section = fluent_bit.tail_input(path="/logs/*.log", exclude_path="/logs/*_logging_*.log", db="/state/db")
        assert section["name"] == "tail"
        assert section["tag"] == "kube.*"
        assert (section["path"], section["exclude_path"], section["db"]) == (
            "/logs/*.log",
            "/logs/*_logging_*.log",
            "/state/db",
        )
        assert section["multiline.parser"] == "cri, docker"
        assert section["storage.type"] == "filesystem"

    def test_the_multiline_filter_names_its_languages_and_buffers_on_disk(self) -> None:
        assert fluent_bit.multiline_filter(["java", "python"], "10M") == {
            "name": "multiline",
            "match": "kube.*",
            "multiline.key_content": "log",
            "multiline.parser": "java, python",
            "emitter_storage.type": "filesystem",
            "emitter_mem_buf_limit": "10M",
        }

    def test_the_kubernetes_filter_strips_the_tail_tag_and_merges_json_on_request(self) -> None:
        merged = fluent_bit.kubernetes_filter(merge_log=True)
        assert merged["kube_tag_prefix"] == "kube.var.log.containers."
        assert merged["merge_log"] == "on"
        assert fluent_bit.kubernetes_filter(merge_log=False)["merge_log"] == "off"


class TestOutputs:
    def test_stdout_writes_json_lines_and_has_no_connection(self) -> None:
        assert fluent_bit.output_section(output()) == {
            "name": "stdout",
            "match": "kube.*",
            "format": "json_lines",
            "storage.total_limit_size": "1G",
            "retry_limit": 5,
        }

    def test_loki_connects_with_credentials_from_the_environment(self) -> None:
        section = fluent_bit.output_section(
            output(
                kind="loki",
                host="loki.example.com",
                port=3100,
                tls_verify=False,
                username_env="U",
                password_env="P",
                stream_labels={"job": "fluent-bit"},
                tenant_id="shop",
            )
        )
        assert section == {
            "name": "loki",
            "match": "kube.*",
            "host": "loki.example.com",
            "port": 3100,
            "tls": "on",
            "tls.verify": "off",
            "http_user": "${U}",
            "http_passwd": "${P}",
            "labels": "job=fluent-bit",
            "line_format": "json",
            "tenant_id": "shop",
            "storage.total_limit_size": "1G",
            "retry_limit": 5,
        }

    def test_elasticsearch_is_the_es_plugin_with_idempotent_documents(self) -> None:
        section = fluent_bit.output_section(output(kind="elasticsearch", host="es", port=9200, index="k8s"))
        assert section["name"] == "es"
        assert (section["index"], section["replace_dots"], section["generate_id"]) == ("k8s", "on", "on")

    def test_forward_reads_its_shared_key_from_the_environment(self) -> None:
        section = fluent_bit.output_section(output(kind="forward", host="fwd", port=24224, shared_key_env="K"))
        assert section["shared_key"] == "${K}"
        assert "http_user" not in section

    def test_the_buffer_limits_come_last(self) -> None:
        section = fluent_bit.output_section(output(kind="opensearch", host="os", port=9200, total_limit_size="2G"))
        assert list(section)[-2:] == ["storage.total_limit_size", "retry_limit"]


class TestDocument:
    def test_the_file_is_the_service_then_the_pipeline_in_the_given_order(self) -> None:
        text = fluent_bit.render(
            fluent_bit.document(
                SERVICE,
                [{"name": "dummy", "tag": "t"}],
                [{"name": "grep", "match": "t"}],
                [output(match="t")],
            )
        )
        assert text.startswith("service:\n  flush: 1\n  log_level: warn\n")
        assert text.endswith(
            "pipeline:\n"
            "  inputs:\n"
            "  - name: dummy\n"
            "    tag: t\n"
            "  filters:\n"
            "  - name: grep\n"
            "    match: t\n"
            "  outputs:\n"
            "  - name: stdout\n"
            "    match: t\n"
            "    format: json_lines\n"
            "    storage.total_limit_size: 1G\n"
            "    retry_limit: 5\n"
        )

    def test_on_and_off_are_quoted_so_that_yaml_keeps_them_strings(self) -> None:
        text = fluent_bit.render({"service": fluent_bit.service_section(SERVICE)})
        assert "http_server: 'on'" in text
        assert yaml.safe_load(text)["service"]["storage.checksum"] == "off"
