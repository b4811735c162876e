"""Records of what only the real engine can expand: Helm charts and remote YAML files.

Offline, no chart can be fetched and no URL read. Each ``helm.v4.Chart`` and ``yaml.v2.ConfigFile``
the program registers is written instead as a reviewable record under ``charts/``: exactly what
`pulumi up` would install, with the values stackyard passes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .manifests import normalise
from .mockrt import Registration

__all__ = [
    "CHART_TYPE",
    "CONFIG_FILE_NOTE",
    "CONFIG_FILE_TYPE",
    "CONFIG_GROUP_NOTE",
    "CONFIG_GROUP_TYPE",
    "EXPANDED_FILE_NOTE",
    "EXPANDED_NOTE",
    "EXPANSION_NOTE",
    "RECORDED_TYPES",
    "Record",
    "is_recorded",
    "to_record",
]

CHART_TYPE = "kubernetes:helm.sh/v4:Chart"
CONFIG_FILE_TYPE = "kubernetes:yaml/v2:ConfigFile"
CONFIG_GROUP_TYPE = "kubernetes:yaml/v2:ConfigGroup"
RECORDED_TYPES = (CHART_TYPE, CONFIG_FILE_TYPE, CONFIG_GROUP_TYPE)

EXPANSION_NOTE = (
    "Recorded, not expanded: the chart's own objects exist only when the real engine runs it (pulumi up). "
    "'values' are exactly what the program passes; the chart's defaults apply beneath them."
)
CONFIG_FILE_NOTE = "Recorded, not expanded: the real engine reads this file when it runs (pulumi up)."
EXPANDED_NOTE = (
    "Expanded by stackyard render as the provider's helm.v4.Chart does: its objects are in 0-crd/ and 1-manifest/, "
    "each listed in index.json with this record and its template; 'expanded' says what was expanded (the chart "
    "version found, beside the pinned 'version'), from where, and the Helm hooks it has, which helm.v4.Chart does not "
    "apply. 'values' are exactly what the program passes; the chart's defaults apply beneath them."
)
EXPANDED_FILE_NOTE = (
    "Expanded by stackyard render as the provider's yaml/v2 does: its objects are in 0-crd/ and 1-manifest/, each "
    "listed in index.json with this record."
)
CONFIG_GROUP_NOTE = (
    "Recorded, not expanded: the real engine applies these objects (pulumi up). Each is named with the "
    "SHA-256 of its content, so a changed object changes this record."
)


@dataclass(frozen=True)
class Record:
    """One chart or remote file, as written to ``charts/``."""

    body: dict[str, Any]
    urn: str
    path: str

    @property
    def kind(self) -> str:
        return str(self.body["kind"])


def is_recorded(registration: Registration) -> bool:
    """Whether the registration is a chart or remote file that only the real engine expands."""
    return registration.type in RECORDED_TYPES


def to_record(registration: Registration, expanded: dict[str, Any] | None = None) -> Record:
    """The record for one chart or remote file registration; ``expanded`` says how it was expanded."""
    record = _record(registration)
    if expanded is None:
        return record
    note = EXPANDED_NOTE if registration.type == CHART_TYPE else EXPANDED_FILE_NOTE
    return Record(body={**record.body, "expanded": expanded, "note": note}, urn=record.urn, path=record.path)


def _record(registration: Registration) -> Record:
    inputs = normalise(registration.inputs)
    if registration.type == CHART_TYPE:
        release = str(inputs.get("name") or registration.name)
        namespace = str(inputs.get("namespace") or "default")
        body = {
            "kind": "HelmChart",
            "releaseName": release,
            "namespace": namespace,
            "chart": inputs.get("chart"),
            "repository": (inputs.get("repositoryOpts") or {}).get("repo", ""),
            "version": inputs.get("version"),
            "values": inputs.get("values") or {},
            "skipCrds": bool(inputs.get("skipCrds", False)),
            "urn": registration.urn,
            "note": EXPANSION_NOTE,
        }
        return Record(body=body, urn=registration.urn, path=f"charts/helmchart-{namespace}-{release}.yaml")
    if registration.type == CONFIG_GROUP_TYPE:
        body = {
            "kind": "ConfigGroup",
            "files": list(inputs.get("files") or []),
            "objects": [_identity(obj) for obj in inputs.get("objs") or []],
            "urn": registration.urn,
            "note": CONFIG_GROUP_NOTE,
        }
        return Record(body=body, urn=registration.urn, path=f"charts/configgroup-{registration.name}.yaml")
    body = {"kind": "ConfigFile", "file": inputs.get("file"), "urn": registration.urn, "note": CONFIG_FILE_NOTE}
    return Record(body=body, urn=registration.urn, path=f"charts/configfile-{registration.name}.yaml")


def _identity(obj: dict[str, Any]) -> str:
    """``kind/name sha256:<digest>`` of one object the group applies."""
    digest = hashlib.sha256(json.dumps(obj, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')} sha256:{digest}"
