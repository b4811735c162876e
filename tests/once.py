"""A mapping that computes each value on first use, once: for the slow tiers' per-stack cycles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class Once(dict[str, V], Generic[V]):
    """``once[key]`` runs ``compute(key)`` the first time only. A failure is remembered and raised
    again at once for every later test of that key, instead of running the slow cycle again."""

    def __init__(self, compute: Callable[[str], V]) -> None:
        super().__init__()
        self._compute = compute
        self._failed: dict[str, BaseException] = {}

    def __missing__(self, key: str) -> V:
        if key in self._failed:
            raise self._failed[key]
        try:
            value = self._compute(key)
        except Exception as error:
            self._failed[key] = error
            raise
        self[key] = value
        return value
