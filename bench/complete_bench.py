"""The complete export's cost and fidelity, on the example stacks and the reference charts.

For each stack, as whole processes, median wall time of:

- ``stackyard render STACK --charts record`` (the program's own objects and chart records);
- ``stackyard render STACK --charts expand`` with an empty expansion cache (every chart through
  stackyard-expand) and again with the cache warm (what a repeated render or ``make test`` pays);
- ``helm template`` of the same charts with the same values (the same Helm, built beside the
  expander), as the baseline a Helm user knows.

Then fidelity: how many of the charts' objects that plain ``helm template`` prints differ from what
the export holds, which is what pulumi-kubernetes applies (the engine tier checks that object for
object). Those differences are the provider's normalisation: what an export from the Helm CLI would
get wrong.

    .venv/bin/python bench/complete_bench.py [--stacks dev,prod] [--repeat 3]

Needs the expander (``make expander``) and ``../shared/reference``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e2e import parity  # noqa: E402 - the repository's modules, after its root is on the path
from stackyard.cache import CACHE_ENV  # noqa: E402
from stackyard.expander import find_expander  # noqa: E402
from stackyard.inputs import load_yaml  # noqa: E402
from stackyard.manifests import Manifest  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference"
CHART_DIRS = (REFERENCE / "charts", REFERENCE / "crds")


class _GoLikeLoader(yaml.CSafeLoader):
    """Reads a bare ``=`` as the string Go's YAML reads it as (kube-prometheus-stack's CRDs hold one)."""


_GoLikeLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def timed(run: Callable[[], None], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def render(stack: str, out: Path, mode: str, cache: Path) -> None:
    command = [sys.executable, "-m", "stackyard", "render", stack, "--out", str(out), "--charts", mode, "--offline"]
    command += [f"--chart-dir={folder}" for folder in CHART_DIRS]
    env = {**os.environ, CACHE_ENV: str(cache)}
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)


def helm_template(helm: Path, record: dict[str, Any], values: Path) -> str:
    chart = REFERENCE / "charts" / str(record["chart"])
    command = [str(helm), "template", str(record["releaseName"]), str(chart), "-n", str(record["namespace"])]
    command += ["-f", str(values), "--include-crds", "--no-hooks", "--kube-version", "1.36"]
    env = {"PATH": os.environ.get("PATH", ""), "KUBECONFIG": os.devnull, "HOME": str(values.parent)}
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def chart_records(export: Path) -> list[dict[str, Any]]:
    return [load_yaml(path) for path in sorted((export / "charts").glob("helmchart-*.yaml"))]


def fidelity(helm: Path, export: Path, scratch: Path) -> tuple[int, int, int]:
    """Of the objects plain ``helm template`` prints: how many, how many differ from the export's
    object at the same path, and how many land at another path (Helm leaves the namespace unset)."""
    ours = parity.read_tree(export)
    total = differing = elsewhere = 0
    values = scratch / "values.json"
    for record in chart_records(export):
        values.write_text(json.dumps(record["values"]))
        for body in yaml.load_all(helm_template(helm, record, values), Loader=_GoLikeLoader):
            if not body:
                continue
            total += 1
            path = Manifest(body=body, urn="").path
            if path not in ours:
                elsewhere += 1
            elif list(parity.differences(body, ours[path])):
                differing += 1
    return total, differing, elsewhere


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", default="dev,staging,prod")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    expander = find_expander()
    helm = expander.path.resolve().parent / "helm"
    print(f"expander {expander.path.resolve()} (helm {expander.helm}, provider {expander.provider})")
    print("stack     record    cold    warm    helm  objects  chart objects  helm differs  elsewhere")
    with tempfile.TemporaryDirectory() as scratch_name:
        for stack in args.stacks.split(","):
            print(measure(stack, Path(scratch_name), helm, args.repeat))


def measure(stack: str, scratch: Path, helm: Path, repeat: int) -> str:
    """One stack's line: the render modes' and Helm's times, the object counts, the fidelity."""
    out = scratch / stack
    record = timed(lambda: render(stack, out, "record", scratch / "cache-warm"), repeat)
    colds = iter(range(repeat))
    cold = timed(lambda: render(stack, out, "expand", scratch / f"cache-cold-{stack}-{next(colds)}"), repeat)
    render(stack, out, "expand", scratch / "cache-warm")
    warm = timed(lambda: render(stack, out, "expand", scratch / "cache-warm"), repeat)
    values = scratch / "values.json"

    def template_all() -> None:
        for chart in chart_records(out):
            values.write_text(json.dumps(chart["values"]))
            helm_template(helm, chart, values)

    helm_seconds = timed(template_all, repeat)
    index = json.loads((out / "index.json").read_text())
    objects = [entry for entry in index["files"] if "origin" in entry]
    from_charts = [entry for entry in objects if entry["origin"]["kind"] != "program"]
    total, differing, elsewhere = fidelity(helm, out, scratch)
    return (
        f"{stack:8} {record:6.2f}s {cold:6.2f}s {warm:6.2f}s {helm_seconds:6.2f}s  {len(objects):7}  "
        f"{len(from_charts):13}  {differing:5} of {total:<4}  {elsewhere:9}"
    )


if __name__ == "__main__":
    main()
