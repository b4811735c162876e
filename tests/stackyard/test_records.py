"""Records of what only the real engine expands: charts and remote files, written as reviewable YAML."""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.mockrt import Registration
from stackyard.records import is_recorded, to_record
from stackyard.render import Rendering


def registration(type_: str, name: str, inputs: dict[str, Any]) -> Registration:
    return Registration(
        urn=f"urn:pulumi:dev::p::{type_}::{name}", parent_urn="", type=type_, name=name, custom=False, inputs=inputs
    )


class TestRecords:
    @pytest.mark.parametrize(
        ("type_", "recorded"),
        [
            ("kubernetes:helm.sh/v4:Chart", True),
            ("kubernetes:yaml/v2:ConfigFile", True),
            ("kubernetes:yaml/v2:ConfigGroup", True),
            ("kubernetes:helm.sh/v3:Release", False),
            ("kubernetes:apps/v1:Deployment", False),
        ],
    )
    def test_only_charts_and_remote_files_are_recorded(self, type_: str, recorded: bool) -> None:
        assert is_recorded(registration(type_, "x", {})) is recorded

    def test_a_chart_is_recorded_with_its_release_pin_and_values_as_passed(self) -> None:
        chart = registration(
            "kubernetes:helm.sh/v4:Chart",
            "traefik",
            {
                "chart": "traefik",
                "version": "41.6.0",
                "namespace": "ingress",
                "repositoryOpts": {"repo": "https://traefik.github.io/charts"},
                "values": {"deployment": {"replicas": 2.0}, "logs": None},
            },
        )
        record = to_record(chart)
        assert record.path == "charts/helmchart-ingress-traefik.yaml"
        assert record.kind == "HelmChart"
        assert {key: value for key, value in record.body.items() if key != "note"} == {
            "kind": "HelmChart",
            "releaseName": "traefik",
            "namespace": "ingress",
            "chart": "traefik",
            "repository": "https://traefik.github.io/charts",
            "version": "41.6.0",
            "values": {"deployment": {"replicas": 2}},  # the wire's 2.0 is an integer again; unset values go
            "skipCrds": False,
            "urn": "urn:pulumi:dev::p::kubernetes:helm.sh/v4:Chart::traefik",
        }
        assert record.body["note"].startswith("Recorded, not expanded")

    def test_a_chart_without_a_release_name_or_namespace_uses_its_resource_name_and_default(self) -> None:
        record = to_record(registration("kubernetes:helm.sh/v4:Chart", "metrics", {"chart": "metrics-server"}))
        assert (record.body["releaseName"], record.body["namespace"]) == ("metrics", "default")
        assert record.path == "charts/helmchart-default-metrics.yaml"

    def test_a_remote_file_is_recorded_by_its_address(self) -> None:
        url = "https://example.com/standard-install.yaml"
        record = to_record(registration("kubernetes:yaml/v2:ConfigFile", "crds", {"file": url}))
        assert record.path == "charts/configfile-crds.yaml"
        assert (record.kind, record.body["file"]) == ("ConfigFile", url)

    def test_a_config_group_names_each_object_with_the_digest_of_its_content(self) -> None:
        def objects(value: str) -> list[str]:
            config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}
            config_map["data"] = {"a": value}
            record = to_record(registration("kubernetes:yaml/v2:ConfigGroup", "crds", {"objs": [config_map]}))
            assert record.path == "charts/configgroup-crds.yaml"
            return list(record.body["objects"])

        # The first 16 hex digits of the SHA-256 of the object's JSON with sorted keys (checked with sha256sum).
        assert objects("1") == ["ConfigMap/settings sha256:dfde4538c39ebcea"]
        assert objects("2") == ["ConfigMap/settings sha256:230dba889a7953fd"]

    def test_the_example_stacks_record_their_charts_and_the_gateway_api_install(
        self, rendered: dict[str, Rendering]
    ) -> None:
        charts = ["charts/helmchart-ingress-traefik.yaml", "charts/helmchart-monitoring-kube-prometheus-stack.yaml"]
        assert sorted(record.path for record in rendered["dev"].records) == charts
        # Staging routes through the Gateway API, whose CRDs the real engine installs from a URL.
        assert sorted(record.path for record in rendered["staging"].records) == [
            "charts/configfile-traefik-gateway-api-crds.yaml",
            *charts,
        ]
