"""Engine benchmark: ``pulumi preview`` and ``pulumi up`` (render mode) per stack, beside ``stackyard render``.

Each stack runs in a fresh hermetic workspace (see ``e2e/engine.py``): charts from
``../shared/reference``, canary secrets, ``renderDir`` set, no cluster. Every figure is the wall
time of one whole command, median of ``--repeat`` runs, each in its own workspace. The toolchain's
size and its last build time come from the cache's manifest; ``--cold`` first builds the toolchain
with empty Go caches (in a temporary folder) and reports that time too.

    .venv/bin/python bench/engine_bench.py [--stacks dev,staging,prod] [--repeat 1] [--cold]
        [--checkpoints both|on|off]

Each stack runs twice: with the CLI's default checkpoints (the whole state rewritten after every
step) and with ``PULUMI_SKIP_CHECKPOINTS``, which the tiers use for all but dev.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e2e import gobuild  # noqa: E402 - after the path setup, as a script
from e2e.engine import toolchain, workspace  # noqa: E402


def timed(run: object) -> float:
    started = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - started


def one_stack(stack: str, *, checkpoints: bool) -> dict[str, float]:
    """Wall times of render, preview, up and destroy for ``stack`` (render mode), in a fresh workspace."""
    tools = toolchain()
    with workspace(tools) as ws:
        ws.prepare(stack, checkpoints=checkpoints)
        render = [sys.executable, "-m", "stackyard", "render", stack, "--project", str(ws.project)]
        render += ["--out", str(ws.root / "stackyard")]
        return {
            "stackyard render": timed(lambda: subprocess.run(render, cwd=ROOT, check=True, capture_output=True)),
            "pulumi preview": timed(lambda: ws.pulumi("preview", "--stack", stack)),
            "pulumi up": timed(lambda: ws.pulumi("up", "--yes", "--stack", stack)),
            "pulumi preview (no changes)": timed(lambda: ws.pulumi("preview", "--stack", stack, "--expect-no-changes")),
            "pulumi destroy": timed(lambda: ws.pulumi("destroy", "--yes", "--stack", stack)),
        }


def cold_build() -> tuple[float, int]:
    """Build the engine toolset with empty Go module and build caches; seconds and bytes."""
    with tempfile.TemporaryDirectory(prefix="stackyard-cold-") as scratch:
        env = {
            "GOMODCACHE": f"{scratch}/mod",
            "GOCACHE": f"{scratch}/build",
            "STACKYARD_CACHE": f"{scratch}/cache",
        }
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            started = time.perf_counter()
            built = gobuild.ensure(gobuild.ENGINE, log=lambda line: print(line, file=sys.stderr))
            seconds = time.perf_counter() - started
            size = int(str(built.manifest()["bin_bytes"]))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            subprocess.run(["chmod", "-R", "u+w", scratch], check=False)  # Go's module cache is read-only
    return seconds, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", default="dev,staging,prod")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cold", action="store_true", help="also time a build with empty Go caches")
    parser.add_argument(
        "--checkpoints", choices=("both", "on", "off"), default="both", help="which checkpoint modes to time"
    )
    args = parser.parse_args()

    if args.cold:
        seconds, size = cold_build()
        print(f"toolchain cold build: {seconds:.0f} s, {size / 2**20:.0f} MiB of binaries")
    started = time.perf_counter()
    built = gobuild.ensure(gobuild.ENGINE)
    warm = time.perf_counter() - started
    manifest = built.manifest()
    print(
        f"toolchain {manifest['key']}: found in {warm:.2f} s; last build {manifest['build_seconds']} s; "
        f"{int(str(manifest['bin_bytes'])) / 2**20:.0f} MiB in {built.bin}"
    )
    for stack in args.stacks.split(","):
        modes = {"both": (True, False), "on": (True,), "off": (False,)}[args.checkpoints]
        for checkpoints in modes:
            runs = [one_stack(stack, checkpoints=checkpoints) for _ in range(args.repeat)]
            figures = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
            mode = "checkpoints on" if checkpoints else "PULUMI_SKIP_CHECKPOINTS"
            print(f"{stack} ({mode}): " + "; ".join(f"{name} {seconds:.1f} s" for name, seconds in figures.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
