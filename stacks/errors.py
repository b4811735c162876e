"""Errors a stack raises for bad configuration."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

__all__ = ["ConfigError"]


class ConfigError(pulumi.RunError):
    """The stack config is invalid. ``problems`` holds one line per problem, each naming its key path.

    A ``pulumi.RunError``, so that the real CLI prints the message without a traceback.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([heading, *(f"  - {problem}" for problem in self.problems)]))
