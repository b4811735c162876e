"""The values we pass to each chart exist in that chart, at the version in ../shared/reference.

A misspelt key is ignored by Helm without a word (kube-prometheus-stack has no values schema), so
every key path we set must be in the chart's ``values.yaml`` (or its subchart's), or lie under a map
the chart documents as free-form (``resources``, a security context, an Alertmanager config...).
Where the chart has a ``values.schema.json``, our values merged over its defaults must validate.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components.ingress_controller import IngressControllerArgs
from components.ingress_implementations import chart_values
from stackyard.render import Rendering
from tests.conftest import ROOT, STACKS

CHARTS = ROOT.parent / "shared" / "reference" / "charts"
pytestmark = pytest.mark.skipif(not CHARTS.is_dir(), reason=f"the upstream charts live in {CHARTS}, absent here")

#: Keys whose values the charts pass through as they are (Kubernetes objects, or a whole config file).
FREE_FORM = {
    "resources", "securityContext", "podSecurityContext", "containerSecurityContext", "topologySpreadConstraints",
    "affinity",
    "config", "storageSpec", "secrets", "spec", "redirections", "admin",
}  # fmt: skip
#: Our records name charts by repository name; the reference folders by theirs.
FOLDERS = {"traefik": "traefik", "kube-prometheus-stack": "kube-prometheus-stack", "gateway-helm": "gateway-helm"}


def chart_folder(chart: str) -> Path:
    return CHARTS / FOLDERS[chart.rstrip("/").rsplit("/", 1)[-1]]


def defaults(folder: Path) -> dict[str, Any]:
    """The chart's values, with each vendored subchart's under its name, as Helm sees them."""
    values: dict[str, Any] = yaml.safe_load((folder / "values.yaml").read_text())
    for sub in sorted((folder / "charts").glob("*/values.yaml")):
        name = yaml.safe_load((sub.parent / "Chart.yaml").read_text())["name"]
        values[name] = merge(yaml.safe_load(sub.read_text()) or {}, values.get(name) or {})
    return values


def merge(base: Any, over: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        result = dict(base)
        for key, value in over.items():
            result[key] = merge(base.get(key), value) if key in base else value
        return result
    return copy.deepcopy(over)


def unknown_paths(ours: Mapping[str, Any], theirs: Any, path: str = "") -> Iterator[str]:
    for key, value in ours.items():
        where = f"{path}.{key}" if path else str(key)
        if key in FREE_FORM:
            continue
        if not isinstance(theirs, Mapping) or key not in theirs:
            yield where
        elif isinstance(value, Mapping) and theirs[key]:  # an empty default map takes anything
            yield from unknown_paths(value, theirs[key], where)


def our_charts(rendered: dict[str, Rendering]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for stack in STACKS:
        for record in rendered[stack].records:
            if record.body["kind"] == "HelmChart":
                yield stack, str(record.body["chart"]), record.body["values"]
    for implementation, route_api in (("envoy-gateway", "gateway"), ("traefik", "gateway")):
        args = IngressControllerArgs(
            implementation=implementation, route_api=route_api, replicas=3, service_monitor=True
        )
        yield f"{implementation} ({route_api})", args.profile.chart.chart, chart_values(implementation, args.settings())


def documented_in_a_comment(folder: Path, path: str) -> bool:
    """Some options are documented commented out (``# maxUnavailable: 1``) and read by the templates."""
    leaf = path.rsplit(".", 1)[-1]
    texts = [p.read_text() for p in (folder / "values.yaml", *folder.glob("charts/*/values.yaml"))]
    return any(re.search(rf"^\s*#\s*{re.escape(leaf)}:", text, re.MULTILINE) for text in texts)


def test_every_key_path_we_set_exists_in_its_chart(rendered: dict[str, Rendering]) -> None:
    problems = [
        f"{label}: {chart}: {path}"
        for label, chart, values in our_charts(rendered)
        for path in unknown_paths(values, defaults(chart_folder(chart)))
        if not documented_in_a_comment(chart_folder(chart), path)
    ]
    assert problems == []


def test_the_check_can_fail(rendered: dict[str, Rendering]) -> None:
    _, chart, values = next(our_charts(rendered))
    misspelt = {**values, "grafanna": {"enabled": True}}
    assert list(unknown_paths(misspelt, defaults(chart_folder(chart)))) == ["grafanna"]


def test_our_values_merged_over_the_defaults_validate_against_each_charts_schema(
    rendered: dict[str, Rendering],
) -> None:
    checked = 0
    for label, chart, values in our_charts(rendered):
        schema_file = chart_folder(chart) / "values.schema.json"
        if not schema_file.is_file():
            continue
        schema = json.loads(schema_file.read_text())
        merged = merge(yaml.safe_load((chart_folder(chart) / "values.yaml").read_text()), values)
        errors = [
            f"{label}: {'/'.join(map(str, e.path))}: {e.message}"
            for e in jsonschema.Draft7Validator(schema).iter_errors(merged)
        ]
        assert errors == []
        checked += 1
    assert checked >= 4  # Traefik in dev, staging and prod, and the gateway variant
