"""``python -m stackyard`` and the ``stackyard`` command."""

from __future__ import annotations

import gc
import sys


def run() -> None:
    """Run the command line and exit with its status."""
    # A run of the command is short-lived, and nearly everything it allocates lives until it ends:
    # the modules of pulumi, pulumi_kubernetes and the program (a few hundred thousand objects),
    # then each stack's resources, outputs and manifests. The cyclic collector would rescan them
    # again and again: measured, a sixth of the import time and half of a render at 200 apps. So
    # it stays off; reference counting still frees everything else at once, and the few cycles left
    # (asyncio futures and their callbacks) cost a few percent of the peak memory.
    gc.disable()
    from .cli import main  # noqa: PLC0415 - imported once the collector is off

    sys.exit(main())


if __name__ == "__main__":
    run()
