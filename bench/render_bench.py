"""Render benchmark: stackyard against a plain-PyYAML floor and kustomize, on synthetic stacks.

For each size N it generates a Pulumi project with three stacks (dev, staging, prod) of N apps,
each with a Deployment, a Service, an HPA, a PodDisruptionBudget, a route and its NetworkPolicy,
and measures, as whole processes, repeated, median wall time:

- ``stackyard render dev staging prod`` (the real program under the SDK's mocks);
- the floor: the same objects built as plain dicts and dumped with PyYAML's C dumper;
- ``kubectl kustomize`` on an equivalent base/overlays tree, when kubectl is installed.

The three take turns within each repetition, and the disk is synced before every run.

Peak RSS and PSS are the whole process tree's, sampled with psutil every 10 and 50 ms (``pss_mib`` is
printed last: it counts the pages forked workers share with their parent once, RSS once per process).

    .venv/bin/python bench/render_bench.py --sizes 1,10,50,200 [--repeat 3] [--scratch /dev/shm]

On these shared machines the time to create files swings by a factor of five from one minute to the
next; ``--scratch /dev/shm`` writes every tool's output to memory instead, so that the ratios
compare the tools rather than the disk's mood.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
ENVS = ("dev", "staging", "prod")
PYTHON = sys.executable
#: How often the tree's memory is sampled: often enough for a phase of a few hundred ms, rarely
#: enough that sampling (which reads /proc) does not steal much of the two cores from the render.
SAMPLE_SECONDS = 0.01
#: PSS is sampled on every fifth sample only (every 50 ms).
PSS_EVERY = 5


def app_config(index: int, env: str) -> dict[str, object]:
    name = f"app{index:03d}"
    return {
        "name": name,
        "image": f"registry.example.com/bench/{name}:1.{index}.0",
        "port": 8080,
        "autoscaling": {"minReplicas": 2, "maxReplicas": 4 if env == "dev" else 8},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
        "route": {"host": f"{name}.{env}.bench.example.com"},
        "egress": [{"cidr": "10.60.0.0/24", "ports": [{"port": 5432}]}],
    }


def stack_config(size: int, env: str) -> dict[str, object]:
    namespace = f"bench-{env}"
    return {
        "config": {
            "stackyard:namespace": {
                "name": namespace,
                "partOf": "bench",
                # Room for every app at its maximum plus a rollout surge.
                "quota": {
                    "requestsCpu": str(size * 10),
                    "requestsMemory": f"{size * 4}Gi",
                    "limitsCpu": str(size * 10),
                    "limitsMemory": f"{size * 4}Gi",
                    "pods": size * 12,
                },
            },
            "stackyard:ingress": {"implementation": "traefik", "routeApi": "ingress", "replicas": 2},
            "stackyard:apps": [app_config(index, env) for index in range(size)],
        }
    }


def make_project(folder: Path, size: int) -> Path:
    project = folder / f"project-{size}"
    project.mkdir()
    for item in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / item, project / item)
    for package in ("components", "stacks"):
        shutil.copytree(ROOT / package, project / package, ignore=shutil.ignore_patterns("__pycache__"))
    for env in ENVS:
        (project / f"Pulumi.{env}.yaml").write_text(yaml.safe_dump(stack_config(size, env), sort_keys=False))
    return project


def kustomize_documents(index: int) -> list[dict[str, object]]:
    """One app of the kustomize base: the same kinds as an app of the stack."""
    name = f"app{index:03d}"
    labels = {"app.kubernetes.io/name": name}
    container = {"name": name, "image": f"registry.example.com/bench/{name}:1.{index}.0"}
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"selector": labels, "ports": [{"port": 80}]},
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {"minReplicas": 2, "maxReplicas": 4, "scaleTargetRef": target},
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name},
            "spec": {"rules": [{"host": f"{name}.bench.example.com"}]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name},
            "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress", "Egress"]},
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}},
    ]


def make_kustomize_tree(folder: Path, size: int) -> list[Path]:
    """A base with every app, and one overlay per environment (namespace, label and replica patch)."""
    base = folder / f"kustomize-{size}" / "base"
    base.mkdir(parents=True)
    resources = []
    for index in range(size):
        file = base / f"app{index:03d}.yaml"
        file.write_text(yaml.safe_dump_all(kustomize_documents(index)))
        resources.append(file.name)
    (base / "kustomization.yaml").write_text(yaml.safe_dump({"resources": resources}))
    overlays = []
    patch = yaml.safe_dump([{"op": "replace", "path": "/spec/maxReplicas", "value": 8}])
    for env in ENVS:
        overlay = base.parent / env
        overlay.mkdir()
        kustomization = {
            "namespace": f"bench-{env}",
            "resources": ["../base"],
            "labels": [{"pairs": {"env": env}}],
            "patches": [{"target": {"kind": "HorizontalPodAutoscaler"}, "patch": patch}],
        }
        (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        overlays.append(overlay)
    return overlays


def measure(commands: list[list[str]], cwd: Path) -> tuple[float, float, float]:
    """Run the commands in parallel as whole processes; wall seconds, peak tree RSS and PSS in MiB.

    RSS counts a page shared by several processes (a forked worker's inherited imports) once per
    process; PSS divides it among them, so its sum is what the tree really occupies.
    """
    with contextlib.ExitStack() as stack:
        # stderr goes to files, not pipes: a chatty process must never block on a full pipe.
        logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in commands]
        # Flush what earlier runs wrote, or the kernel makes this run wait for their writeback:
        # measured, the floor took 0.4 s or 2.3 s for the same files depending on what ran before.
        os.sync()
        start = time.perf_counter()
        processes = [
            psutil.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
            for command, log in zip(commands, logs, strict=True)
        ]
        peak_rss = peak_pss = 0
        for sample in itertools.count():
            if all(p.poll() is not None for p in processes):
                break
            # PSS reads every mapping of every process (/proc/<pid>/smaps_rollup), which would take
            # a good part of a core if done as often as RSS (one small file per process).
            with_pss = sample % PSS_EVERY == 0
            rss = pss = 0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    for member in [process, *process.children(recursive=True)]:
                        if with_pss:
                            memory = member.memory_full_info()
                            rss, pss = rss + memory.rss, pss + memory.pss
                        else:
                            rss += member.memory_info().rss
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(SAMPLE_SECONDS)
        wall = time.perf_counter() - start
        for process, log in zip(processes, logs, strict=True):
            if process.returncode != 0:
                log.seek(0)
                raise SystemExit(f"{' '.join(process.args)} failed:\n{log.read().decode()[-2000:]}")
    return wall, peak_rss / 2**20, peak_pss / 2**20


def measure_size(work: Path, size: int, repeat: int, kubectl: str | None) -> dict[str, object]:
    """One line of figures for ``size`` apps per environment.

    The tools take turns within each repetition (stackyard, floor, kustomize, then again), so that
    a slow spell of these shared machines (the disk above all) hits each of them alike.
    """
    project = make_project(work, size)
    tools: dict[str, Callable[[int], list[list[str]]]] = {
        "stackyard": lambda attempt: [
            [
                PYTHON,
                "-m",
                "stackyard",
                "render",
                *ENVS,
                "--project",
                str(project),
                "--out",
                str(work / f"out-{size}-{attempt}"),
                # The floor and kustomize build the program's objects only: so does this, the charts
                # as records (bench/complete_bench.py measures the complete export).
                "--charts",
                "record",
            ]
        ],
        "floor": lambda attempt: [
            [PYTHON, str(ROOT / "bench" / "floor.py"), str(work / f"floor-{size}-{attempt}"), str(size)]
        ],
    }
    if kubectl:
        overlays = make_kustomize_tree(work, size)
        tools["kustomize"] = lambda _attempt: [[kubectl, "kustomize", str(overlay)] for overlay in overlays]
    runs: dict[str, list[tuple[float, float, float]]] = {tool: [] for tool in tools}
    for attempt in range(repeat):
        for tool, commands in tools.items():
            runs[tool].append(measure(commands(attempt), ROOT))
    wall = {tool: statistics.median(run[0] for run in measured) for tool, measured in runs.items()}
    objects = sum(1 for _ in (work / f"out-{size}-0").glob("*/1-manifest/*.yaml")) // len(ENVS)
    return {
        "N": size,
        "objects": objects,
        "wall_s": round(wall["stackyard"], 3),
        "rss_mib": round(max(run[1] for run in runs["stackyard"])),
        "ms_per_object": round(1000 * wall["stackyard"] / (objects * len(ENVS)), 3),
        "floor_ratio": round(wall["stackyard"] / wall["floor"], 2),
        "kustomize_ratio": f"{wall['stackyard'] / wall['kustomize']:.2f}" if "kustomize" in wall else "n/a",
        "pss_mib": round(max(run[2] for run in runs["stackyard"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,50,200", help="apps per environment, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--scratch",
        metavar="DIR",
        type=Path,
        help="where the projects and outputs go (default: the system's temp folder); "
        "a tmpfs such as /dev/shm takes the disk's swings out of the figures",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    kubectl = shutil.which("kubectl", path=str(Path(PYTHON).parent)) or shutil.which("kubectl")
    results = []
    if args.scratch is not None and not args.scratch.is_dir():
        parser.error(f"--scratch {str(args.scratch)!r}: not a folder")
    with tempfile.TemporaryDirectory(prefix="stackyard-bench-", dir=args.scratch) as scratch:
        for size in sizes:
            row = measure_size(Path(scratch), size, args.repeat, kubectl)
            results.append(row)
            print(" ".join(f"{key}={value}" for key, value in row.items()), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
