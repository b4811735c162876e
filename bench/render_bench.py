"""Render benchmark: stackyard against a plain-PyYAML floor and kustomize, on synthetic stacks.

For each size N it generates a Pulumi project with three stacks (dev, staging, prod) of N apps,
each with a Deployment, a Service, an HPA, a PodDisruptionBudget, a route and its NetworkPolicy,
and measures, as whole processes, repeated, median wall time:

- ``stackyard render dev staging prod`` (the real program under the SDK's mocks);
- the floor: the same objects built as plain dicts and dumped with PyYAML's C dumper;
- ``kubectl kustomize`` on an equivalent base/overlays tree, when kubectl is installed.

Peak RSS is the whole process tree's, sampled every 5 ms with psutil.

    .venv/bin/python bench/render_bench.py --sizes 1,10,50,200 [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
ENVS = ("dev", "staging", "prod")
PYTHON = sys.executable


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


def measure(commands: list[list[str]], cwd: Path) -> tuple[float, float]:
    """Run the commands in parallel as whole processes; wall seconds and peak tree RSS in MiB."""
    with contextlib.ExitStack() as stack:
        # stderr goes to files, not pipes: a chatty process must never block on a full pipe.
        logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in commands]
        start = time.perf_counter()
        processes = [
            psutil.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
            for command, log in zip(commands, logs, strict=True)
        ]
        peak = 0
        while any(p.poll() is None for p in processes):
            rss = 0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    rss += process.memory_info().rss + sum(
                        child.memory_info().rss for child in process.children(recursive=True)
                    )
            peak = max(peak, rss)
            time.sleep(0.005)
        wall = time.perf_counter() - start
        for process, log in zip(processes, logs, strict=True):
            if process.returncode != 0:
                log.seek(0)
                raise SystemExit(f"{' '.join(process.args)} failed:\n{log.read().decode()[-2000:]}")
    return wall, peak / 2**20


def median_run(make_commands, cwd: Path, repeat: int) -> tuple[float, float]:
    runs = [measure(make_commands(attempt), cwd) for attempt in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,50,200", help="apps per environment, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    kubectl = shutil.which("kubectl", path=str(Path(PYTHON).parent)) or shutil.which("kubectl")
    results = []
    with tempfile.TemporaryDirectory(prefix="stackyard-bench-") as scratch:
        work = Path(scratch)
        for size in sizes:
            project = make_project(work, size)

            def stackyard(attempt: int, size: int = size, project: Path = project) -> list[list[str]]:
                out = work / f"out-{size}-{attempt}"
                return [[PYTHON, "-m", "stackyard", "render", *ENVS, "--project", str(project), "--out", str(out)]]

            wall, rss = median_run(stackyard, ROOT, args.repeat)
            objects = sum(1 for _ in (work / f"out-{size}-0").glob("*/1-manifest/*.yaml")) // len(ENVS)

            def floor(attempt: int, size: int = size) -> list[list[str]]:
                return [[PYTHON, str(ROOT / "bench" / "floor.py"), str(work / f"floor-{size}-{attempt}"), str(size)]]

            floor_wall, _ = median_run(floor, ROOT, args.repeat)
            kustomize_ratio = "n/a"
            if kubectl:
                overlays = make_kustomize_tree(work, size)

                def kustomize(_attempt: int, overlays: list[Path] = overlays) -> list[list[str]]:
                    return [[kubectl, "kustomize", str(overlay)] for overlay in overlays]

                kustomize_wall, _ = median_run(kustomize, ROOT, args.repeat)
                kustomize_ratio = f"{wall / kustomize_wall:.2f}"
            row = {
                "N": size,
                "objects": objects,
                "wall_s": round(wall, 3),
                "rss_mib": round(rss),
                "ms_per_object": round(1000 * wall / (objects * len(ENVS)), 3),
                "floor_ratio": round(wall / floor_wall, 2),
                "kustomize_ratio": kustomize_ratio,
            }
            results.append(row)
            print(" ".join(f"{key}={value}" for key, value in row.items()), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
