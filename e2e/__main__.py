"""The tiers' command line: build the toolchains, start and stop the local control plane.

python -m e2e engine          build or find the engine toolchain; print its bin folder
python -m e2e controlplane    build or find the control plane's binaries; print their bin folder
python -m e2e expander DIR    build or find stackyard-expand and link it into DIR (the virtualenv's bin)
python -m e2e api-types       regenerate stackyard/apitypes.json from the expander's Go types
python -m e2e cluster start   start the local control plane; print the kubeconfig path
python -m e2e cluster stop    stop every process it started, by id, and remove its data
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stackyard.apitypes import TABLE_FILE

from . import cluster
from .engine import toolchain
from .gobuild import CONTROL_PLANE, EXPANDER, REPO, BuildError, ensure

USAGE = "usage: python -m e2e {engine | controlplane | expander DIR | api-types | cluster start | cluster stop}"


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
    elif len(argv) == 2 and argv[0] == "expander":
        print(install_expander(Path(argv[1])))
    elif argv == ["api-types"]:
        written = write_api_types()
        _log(f"wrote {written}; review the diff before committing it")
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


def install_expander(folder: Path) -> Path:
    """Build (or find) the expander and link it into ``folder``, where stackyard looks for it."""
    built = ensure(EXPANDER, log=_log).bin / "stackyard-expand"
    link = folder / built.name
    if not (link.is_symlink() and link.resolve() == built.resolve()):
        # A new link beside the old one, renamed over it: a render running now sees one or the other.
        fresh = folder / f".{built.name}.new"
        fresh.unlink(missing_ok=True)
        os.symlink(built, fresh)
        fresh.replace(link)
    return link


def api_types_text(expander: Path) -> str:
    """The Go type table as committed: the expander's answer with sorted keys, one field a line."""
    answer = subprocess.run([str(expander), "api-types"], capture_output=True, text=True, check=True).stdout
    return json.dumps(json.loads(answer), indent=1, sort_keys=True) + "\n"


def write_api_types() -> Path:
    """Regenerate ``stackyard/apitypes.json`` from the pinned provider's Go types."""
    target = REPO / "stackyard" / TABLE_FILE
    target.write_text(api_types_text(ensure(EXPANDER, log=_log).bin / "stackyard-expand"), encoding="utf-8")
    return target


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
