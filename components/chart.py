"""Pinned Helm charts: moved to the components' private kit (:mod:`components._kit.chart`).

Kept as a module of its own because tests and e2e/ import it by this name; it only re-exports.
"""

from __future__ import annotations

from ._kit.chart import (
    HookRequirement,
    PinnedChart,
    check_hook_requirements,
    check_local_chart,
    install_chart,
    local_chart_warning,
    pinned_name,
    read_chart_metadata,
)

__all__ = [
    "HookRequirement",
    "PinnedChart",
    "check_hook_requirements",
    "check_local_chart",
    "install_chart",
    "local_chart_warning",
    "pinned_name",
    "read_chart_metadata",
]
