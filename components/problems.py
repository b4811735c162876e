"""What a whole-configuration check found: a key path and a message, one per problem.

Checks that look across several args (an app's egress against another app's port, two routes
claiming one path) cannot raise at the first problem: a user fixing a configuration wants every
problem at once. So they return a list of :class:`Problem`, and whoever asked decides whether to
raise (:class:`ProblemsError`) or to report them with its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Problem", "ProblemsError"]


@dataclass(frozen=True)
class Problem:
    """One problem: where it is (a key path such as ``apps[0].egress[1]``) and what is wrong."""

    path: str
    """The key path, in the config's own (camelCase) names; empty for the configuration as a whole."""
    message: str
    """What is wrong and what is allowed, without the key path."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ProblemsError(ValueError):
    """Every problem a library call found, raised together. ``problems`` holds each one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([heading, *(f"  - {problem}" for problem in self.problems)]))
