"""Stackyard's tooling: the offline renderer and previewer for Pulumi Kubernetes programs."""

from __future__ import annotations

__all__: list[str] = []
