"""Registered inputs as exported manifests: file names, key order, integers, and secrets only as markers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackyard.chartsource import RECORD
from stackyard.manifests import SecretLeakError, to_manifest
from stackyard.mockrt import Registration
from stackyard.render import Rendering, evaluate_stack, write_rendering
from tests.conftest import ROOT, STACKS, complete_charts

CANARY = "canary-7f3a9c-do-not-leak"


def tree_text(folder: Path) -> str:
    return "".join(path.read_text(errors="replace") for path in folder.rglob("*") if path.is_file())


class TestManifestFiles:
    def test_files_follow_the_render_yaml_to_directory_naming(self, rendered: dict[str, Rendering]) -> None:
        files = rendered["dev"].files()
        assert "1-manifest/apps_v1-deployment-shop-dev-api.yaml" in files
        assert "1-manifest/v1-namespace-default-shop-dev.yaml" in files
        assert "1-manifest/policy_v1-poddisruptionbudget-shop-dev-frontend.yaml" in files
        assert {path.split("/")[0] for path in files} == {"1-manifest", "charts", "index.json", "kustomization.yaml"}

    def test_each_file_holds_one_object_whose_identity_matches_its_name(self, rendered: dict[str, Rendering]) -> None:
        for stack in STACKS:
            for path, text in rendered[stack].files().items():
                if not path.startswith("1-manifest/"):
                    continue
                (body,) = list(yaml.safe_load_all(text))
                meta = body["metadata"]
                api = body["apiVersion"].replace("/", "_")
                expected = f"{api}-{body['kind'].lower()}-{meta.get('namespace', 'default')}-{meta['name']}.yaml"
                assert path == f"1-manifest/{expected}"

    def test_keys_are_sorted_and_integers_stay_integers(self, rendered: dict[str, Rendering]) -> None:
        text = rendered["dev"].files()["1-manifest/apps_v1-deployment-shop-dev-api.yaml"]
        assert "replicas: 1\n" in text
        assert not re.search(r": -?[0-9]+\.0$", text, re.MULTILINE)
        top_level = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
        assert top_level == sorted(top_level)


class TestRedactionCanaries:
    """A planted secret never reaches the export: a Secret's values are exported as markers only."""

    def test_secure_config_in_a_secret_is_exported_as_a_marker_only(self, tmp_path: Path) -> None:
        rendering = evaluate_stack(
            ROOT,
            "prod",
            charts=complete_charts(),
            secrets={"stackyard:apiDatabasePassword": CANARY, "stackyard:lokiPassword": CANARY + "-2"},
        )
        write_rendering(rendering, tmp_path / "prod")
        everything = tree_text(tmp_path / "prod")
        assert CANARY not in everything
        assert "<redacted sha256:" in everything
        assert "stackyard:apiDatabasePassword" not in rendering.inputs.placeholders

    def test_markers_change_when_the_secret_changes(self) -> None:
        def marker(value: str) -> str:
            rendering = evaluate_stack(ROOT, "dev", charts=RECORD, secrets={"stackyard:apiDatabasePassword": value})
            return rendering.files()["1-manifest/v1-secret-shop-dev-api-database.yaml"]

        assert marker(CANARY) != marker(CANARY + "x")
        assert marker(CANARY) == marker(CANARY)


def registration(inputs: dict[str, Any]) -> Registration:
    return Registration(
        urn="urn:pulumi:dev::p::kubernetes:core/v1:ConfigMap::cm",
        parent_urn="",
        type=f"kubernetes:core/v1:{inputs['kind']}",
        name="cm",
        custom=True,
        inputs=inputs,
    )


def secret(value: object) -> dict[str, object]:
    """A value as the runtime hands over one marked secret (the SDK's wire signature, written out)."""
    return {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": value}


class TestToManifest:
    def test_a_secrets_values_are_exported_as_markers_of_their_digest(self) -> None:
        body = {"kind": "Secret", "metadata": {"name": "db"}, "stringData": secret({"password": "hunter2"})}
        manifest = to_manifest(registration(body))
        # sha256("hunter2") starts with f52fbd32 (checked with sha256sum).
        assert manifest.body["stringData"] == {"password": "<redacted sha256:f52fbd32>"}

    def test_a_secret_anywhere_else_stops_the_export_naming_the_field_and_never_the_value(self) -> None:
        body = {"kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "shop"}, "data": secret({"TOKEN": CANARY})}
        with pytest.raises(SecretLeakError) as raised:
            to_manifest(registration(body), known_secrets={CANARY})
        assert str(raised.value).startswith("ConfigMap shop/cm: data.TOKEN carries a secret value")
        assert CANARY not in str(raised.value)

    def test_integral_floats_become_integers_again_and_keys_are_sorted(self) -> None:
        body = {"kind": "ConfigMap", "metadata": {"name": "cm"}, "spec": {"z": 1.0, "a": 1.5, "m": None}}
        manifest = to_manifest(registration(body))
        assert list(manifest.body) == ["kind", "metadata", "spec"]
        assert list(manifest.body["spec"].items()) == [("a", 1.5), ("z", 1)]
        assert type(manifest.body["spec"]["z"]) is int
