"""``python -m stackyard`` and the ``stackyard`` command."""

from __future__ import annotations

import sys

from . import interrupts, speed

__all__ = ["CLI_EXTRA_MODULES", "INSTALL_HINT", "run"]

#: What ``pip install 'stackyard-k8s[cli]'`` adds to the library: the top-level modules only the
#: command imports (rich for its output, the Kubernetes client for preflight, kubernetes-validate
#: for audit's schemas).
CLI_EXTRA_MODULES = frozenset({"rich", "kubernetes", "kubernetes_validate"})
INSTALL_HINT = "pip install 'stackyard-k8s[cli]'"
#: The command's exit code for bad input, which a missing extra is (see stackyard.cli).
_EXIT_BAD_INPUT = 2


def run() -> None:
    """Run the command line and exit with its status."""
    speed.start_command()
    interrupts.stop_once()
    try:
        code = _main()
    except KeyboardInterrupt as interruption:
        # A normal exit, not speed.end_command: its exit handlers stop any render process still running.
        sys.stderr.write("stackyard: interrupted\n")
        sys.exit(interrupts.exit_code(interruption))
    with interrupts.deferred():  # too late to be interrupted: all that is left is flushing
        speed.end_command(code)


def _main() -> int:
    try:
        from .cli import main  # noqa: PLC0415 - imported once the collector is off, and may be missing its extra

        return main()
    except ModuleNotFoundError as missing:
        if (missing.name or "").partition(".")[0] not in CLI_EXTRA_MODULES:
            raise
        sys.stderr.write(f"stackyard: the command needs the [cli] extra ({missing.name} is missing): {INSTALL_HINT}\n")
        return _EXIT_BAD_INPUT


if __name__ == "__main__":
    run()
