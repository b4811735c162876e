"""What makes an export auditable beside the manifests: ``index.json`` and ``kustomization.yaml``."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .manifests import Manifest, redaction_marker
from .project import StackInputs
from .records import Record

__all__ = ["INDEX_FILE", "INDEX_SCHEMA_VERSION", "KUSTOMIZATION_FILE", "index", "index_text", "kustomization", "sha256"]

INDEX_FILE = "index.json"
KUSTOMIZATION_FILE = "kustomization.yaml"
#: 2: every object has an ``origin`` (the program, or the chart or file it came from, with its
#: record and template); records say whether they were expanded.
INDEX_SCHEMA_VERSION = 2


def sha256(text: str) -> str:
    """The hex digest of a file's text as written (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def kustomization(manifest_paths: list[str]) -> str:
    """A Kustomization listing every manifest, CRDs first, so ``kubectl apply -k`` takes the export as is."""
    ordered = sorted(manifest_paths, key=lambda path: (not path.startswith("0-crd/"), path))
    document = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ordered}
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def _config_digest(inputs: StackInputs) -> str:
    """A digest of the effective config, with secret values reduced to their redaction markers."""
    effective = {
        key: redaction_marker(value) if key in inputs.secret_keys else value
        for key, value in sorted(inputs.config.items())
    }
    return "sha256:" + sha256(json.dumps(effective, sort_keys=True, separators=(",", ":")))


def _git_commit(directory: Path) -> dict[str, Any] | None:
    """The program's commit and whether the work tree differs from it, or ``None`` outside git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--untracked-files=no", "--", "."],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "dirty": bool(status.strip())}


def index(
    inputs: StackInputs, manifests: list[Manifest], records: list[Record], files: Mapping[str, str]
) -> dict[str, Any]:
    """The export's index: one entry per file with its digest, identity and origin."""
    entries: list[dict[str, Any]] = []
    records_by_urn = {record.urn: record for record in records}
    for manifest in manifests:
        entries.append(
            {
                "path": manifest.path,
                "sha256": sha256(files[manifest.path]),
                "apiVersion": manifest.api_version,
                "kind": manifest.kind,
                "namespace": manifest.namespace or None,
                "name": manifest.name,
                "urn": manifest.urn,
                "origin": _origin(manifest, records_by_urn),
            }
        )
    for record in records:
        expanded = record.body.get("expanded")
        entries.append(
            {
                "path": record.path,
                "sha256": sha256(files[record.path]),
                "apiVersion": None,
                "kind": record.kind,
                "namespace": record.body.get("namespace"),
                "name": record.body.get("releaseName") or record.body.get("file"),
                "urn": record.urn,
                "expandedBy": f"stackyard render (helm {expanded['helm']})"
                if expanded
                else "pulumi up (the real engine)",
            }
        )
    entries.append(
        {
            "path": KUSTOMIZATION_FILE,
            "sha256": sha256(files[KUSTOMIZATION_FILE]),
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "namespace": None,
            "name": None,
            "urn": None,
        }
    )
    return {
        "schemaVersion": INDEX_SCHEMA_VERSION,
        "generator": "stackyard",
        "project": inputs.project,
        "stack": inputs.stack,
        "git": _git_commit(inputs.directory),
        "configDigest": _config_digest(inputs),
        "securePlaceholders": inputs.placeholders,
        "files": sorted(entries, key=lambda entry: entry["path"]),
    }


def _origin(manifest: Manifest, records: Mapping[str, Record]) -> dict[str, Any]:
    """``{"kind": "program"}``, or the record and template a chart's or file's object came from."""
    if manifest.origin is None:
        return {"kind": "program"}
    record = records[manifest.origin.record]
    origin: dict[str, Any] = {"kind": record.kind, "record": record.path, "template": manifest.origin.template}
    expanded = record.body.get("expanded") or {}
    if record.kind == "HelmChart":
        origin.update(
            release=record.body.get("releaseName"), chart=expanded.get("chart"), version=expanded.get("version")
        )
    return origin


def index_text(document: Mapping[str, Any]) -> str:
    """The index as written: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
