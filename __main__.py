"""Stackyard: one application environment per stack (dev, staging, prod).

Deploy with ``pulumi up -s <stack>``; render offline with ``stackyard render <stack>``.
"""

from __future__ import annotations

import pulumi

from stacks import build_environment, load_stack_config


def main() -> None:
    """Read the stack's config once, build the environment, export its outputs."""
    outputs = build_environment(load_stack_config())
    for name, value in outputs.items():
        pulumi.export(name, value)


main()
