"""What each chart puts into a stack, once the real provider has expanded it.

``stackyard render`` expands each chart as the provider does (the engine tier checks the two agree
object for object); this report is read from the provider's side. From one engine run (the
provider's render plus the stack's state, which says which chart owns which object) it reports,
per chart: the objects it brings, the Helm hooks it has (``helm.v4.Chart`` renders none of
them), whether its pods pass the Pod Security level of the namespace they land in, and what
stackyard's policies find in its objects.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.chart import read_chart_metadata
from policy import evaluate, pod_spec_of, violations_at

CHART_TYPE = "kubernetes:helm.sh/v4:Chart"
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
_HOOK = re.compile(r"""["']?helm\.sh/hook["']?\s*:\s*["']?([\w,\- ]+)""")
_KIND = re.compile(r"^kind:\s*(\w+)", re.MULTILINE)

Key = tuple[str, str, str]
"""An object's kind, namespace and name."""


def key_of(body: Mapping[str, Any]) -> Key:
    metadata = body.get("metadata") or {}
    return (str(body.get("kind")), str(metadata.get("namespace") or ""), str(metadata.get("name")))


@dataclass(frozen=True)
class Hook:
    """A template of the chart that Helm would run as a hook."""

    template: str
    events: tuple[str, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class ChartReport:
    """One chart's part of one stack."""

    release: str
    namespace: str
    chart: str
    version: str
    objects: Counter[str]
    hooks: tuple[Hook, ...]
    level: str
    """The Pod Security enforce level of the chart's namespace."""
    pods: dict[str, list[str]]
    """Each workload (``Kind namespace/name``) → its violations at that level (empty: admitted)."""
    findings: Counter[str]
    """Mandatory policy findings on the chart's objects, by policy, exceptions applied."""


def scan_hooks(chart_dir: Path) -> tuple[Hook, ...]:
    """The hook templates of a chart folder and its vendored subcharts, by their annotations."""
    hooks = []
    for template in sorted(chart_dir.rglob("templates/**/*")):
        if not template.is_file() or template.suffix not in (".yaml", ".yml", ".tpl"):
            continue
        text = template.read_text(encoding="utf-8", errors="replace")
        events = sorted({event.strip() for match in _HOOK.findall(text) for event in match.split(",") if event.strip()})
        if events:
            kinds = tuple(sorted(set(_KIND.findall(text))))
            hooks.append(Hook(str(template.relative_to(chart_dir)), tuple(events), kinds))
    return tuple(hooks)


def chart_owners(state: Sequence[Mapping[str, Any]]) -> dict[Key, str]:
    """Each chart-expanded object's key → the URN of the chart that owns it."""
    by_urn = {resource["urn"]: resource for resource in state}
    owners: dict[Key, str] = {}
    for resource in state:
        inputs = resource.get("inputs") or {}
        if "kind" not in inputs:
            continue
        parent = resource.get("parent")
        while parent and by_urn[parent]["type"] != CHART_TYPE:
            parent = by_urn[parent].get("parent")
        if parent:
            owners[key_of(inputs)] = str(parent)
    return owners


def _enforce_levels(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {
        str((body.get("metadata") or {}).get("name")): str(
            ((body.get("metadata") or {}).get("labels") or {}).get(ENFORCE_LABEL, "privileged")
        )
        for body in objects
        if body.get("kind") == "Namespace"
    }


def report(
    state: Sequence[Mapping[str, Any]],
    rendered: Mapping[str, Mapping[str, Any]],
    records: Iterable[Mapping[str, Any]],
) -> list[ChartReport]:
    """One :class:`ChartReport` per chart of the stack, ordered by release.

    ``records`` are stackyard's chart records of the same program and config: a remotely
    constructed Chart keeps no inputs in the state, so its release, namespace and chart come from
    there, matched by URN.
    """
    owners = chart_owners(state)
    bodies = list(rendered.values())
    levels = _enforce_levels(bodies)
    findings = [f for f in evaluate(bodies) if f.level == "mandatory" and f.exception is None]
    reports = []
    charts = sorted((r for r in records if r.get("kind") == "HelmChart"), key=lambda r: str(r["releaseName"]))
    for chart in charts:
        mine = [body for body in bodies if owners.get(key_of(body)) == chart["urn"]]
        keys = {key_of(body) for body in mine}
        namespace = str(chart["namespace"])
        level = levels.get(namespace, "privileged")
        path = Path(str(chart["chart"]))
        metadata = read_chart_metadata(path)
        reports.append(
            ChartReport(
                release=str(chart["releaseName"]),
                namespace=namespace,
                chart=metadata.name,
                version=metadata.version,
                objects=Counter(str(body.get("kind")) for body in mine),
                hooks=scan_hooks(path),
                level=level,
                pods={
                    f"{body['kind']} {key_of(body)[1]}/{key_of(body)[2]}": [
                        str(v) for v in violations_at(body, levels.get(key_of(body)[1], "privileged"))
                    ]
                    for body in mine
                    if pod_spec_of(body) is not None
                },
                findings=Counter(f.policy for f in findings if (f.kind, f.namespace, f.name) in keys),
            )
        )
    return reports


def markdown(stacks: Mapping[str, list[ChartReport]]) -> str:
    """The report for every stack, as reviewed Markdown (docs/charts.md)."""
    lines = [
        "# What the charts bring",
        "",
        "Generated by the engine tier (`make e2e`, tests/engine/test_charts.py) from the real provider's",
        "render of each stack, with the charts in `../shared/reference`. Do not edit; regenerate with",
        "`STACKYARD_UPDATE_GOLDEN=1 make e2e` and review the diff.",
        "",
        "`helm.v4.Chart` renders no Helm hook: the hook templates listed are never applied, which is why",
        "the components set the values that route around them (docs/architecture.md, Helm hooks).",
        "",
    ]
    for stack, reports in stacks.items():
        lines += [f"## {stack}", ""]
        for chart in reports:
            total = sum(chart.objects.values())
            kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(chart.objects.items()))
            lines += [
                f"### {chart.release}: {chart.chart} {chart.version} in namespace `{chart.namespace}`",
                "",
                f"- **Objects** ({total}): {kinds}.",
            ]
            hooks = "; ".join(f"`{h.template}` ({', '.join(h.events)}: {', '.join(h.kinds)})" for h in chart.hooks)
            lines.append(f"- **Hooks, not rendered** ({len(chart.hooks)}): {hooks or 'none'}.")
            failing = {pod: problems for pod, problems in chart.pods.items() if problems}
            verdict = (
                "every pod is admitted" if not failing else f"{len(failing)} of {len(chart.pods)} would be refused"
            )
            lines.append(f"- **Pods at the namespace's enforce level `{chart.level}`**: {verdict}.")
            for pod, problems in sorted(failing.items()):
                lines.append(f"  - {pod}: {'; '.join(sorted({p.split(':')[0] for p in problems}))}")
            found = ", ".join(f"{policy} {count}" for policy, count in sorted(chart.findings.items()))
            lines += [f"- **Mandatory policy findings** (`stackyard audit`): {found or 'none'}.", ""]
    return "\n".join(lines).rstrip() + "\n"
