"""The tiers' command line: build the toolchains, start and stop the local control plane.

python -m e2e engine          build or find the engine toolchain; print its bin folder
python -m e2e controlplane    build or find the control plane's binaries; print their bin folder
python -m e2e cluster start   start the local control plane; print the kubeconfig path
python -m e2e cluster stop    stop every process it started, by id, and remove its data
"""

from __future__ import annotations

import sys

from . import cluster
from .engine import toolchain
from .gobuild import CONTROL_PLANE, BuildError, ensure

USAGE = "usage: python -m e2e {engine | controlplane | cluster start | cluster stop}"


def _log(line: str) -> None:
    print(line, file=sys.stderr)


def run(argv: list[str]) -> int:
    if argv == ["engine"]:
        tools = toolchain()
        if tools.users_cli:
            _log(f"using your own pulumi CLI: {tools.pulumi}")
        print(tools.bin)
    elif argv == ["controlplane"]:
        print(ensure(CONTROL_PLANE, log=_log).bin)
    elif argv == ["cluster", "start"]:
        started = cluster.start()
        _log(f"control plane ready on 127.0.0.1: nodes {', '.join(cluster.NODES)}; stop it with `make cluster-stop`")
        print(started)
    elif argv == ["cluster", "stop"]:
        stopped = cluster.stop()
        _log(f"stopped {', '.join(stopped)}" if stopped else "no control plane was running")
    else:
        _log(USAGE)
        return 2
    return 0


def main(argv: list[str]) -> int:
    try:
        return run(argv)
    except (BuildError, cluster.ClusterError) as error:
        _log(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        _log("interrupted: nothing half-built or half-started was left behind")
        return 130


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
