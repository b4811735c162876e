"""The render benchmark runs end to end and reports in the agreed form (its figures are not judged here)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT

LINE = re.compile(
    r"^N=1 objects=(\d+) wall_s=[0-9.]+ rss_mib=\d+ ms_per_object=[0-9.]+ floor_ratio=[0-9.]+ "
    r"kustomize_ratio=(?:[0-9.]+|n/a) pss_mib=\d+$"
)


def test_the_benchmark_prints_one_line_per_size_in_the_agreed_form(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    command = [sys.executable, "bench/render_bench.py", "--sizes", "1", "--repeat", "1", "--json", str(figures)]
    command += ["--scratch", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    match = LINE.match(line)
    assert match, line
    # One app: its Deployment, ServiceAccount, Service, HPA, PDB, Ingress and NetworkPolicy, plus
    # the namespaces' objects: the count comes from the files the render wrote.
    assert int(match.group(1)) > 7
    (row,) = json.loads(figures.read_text())
    assert row["N"] == 1
    assert row["rss_mib"] >= row["pss_mib"] > 0


def test_the_floor_writes_the_same_kinds_as_an_app_of_the_stack(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "bench/floor.py", str(tmp_path / "floor"), "2"], cwd=ROOT, check=True)
    files = sorted((tmp_path / "floor" / "dev" / "1-manifest").glob("*.yaml"))
    kinds = {yaml.safe_load(path.read_text())["kind"] for path in files}
    assert kinds >= {"Deployment", "Service", "ServiceAccount", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    assert kinds >= {"Ingress", "NetworkPolicy"}
    assert len(files) == 2 * len(kinds)


def test_a_scratch_folder_that_does_not_exist_is_refused_before_anything_runs(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    command = [sys.executable, "bench/render_bench.py", "--sizes", "1", "--scratch", str(missing)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 2
    assert f"--scratch '{missing}': not a folder" in result.stderr
    assert result.stdout == ""
