"""``python -m e2e engine``: build or find the engine toolchain, and print its bin folder."""

from __future__ import annotations

import sys

from .engine import toolchain
from .gobuild import BuildError


def main(argv: list[str]) -> int:
    if argv != ["engine"]:
        print("usage: python -m e2e engine", file=sys.stderr)
        return 2
    try:
        tools = toolchain()
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing half-built was left in the cache", file=sys.stderr)
        return 130
    if tools.users_cli:
        print(f"using your own pulumi CLI: {tools.pulumi}", file=sys.stderr)
    print(tools.bin)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
