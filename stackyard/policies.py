"""The baseline policies, by the name they have wherever stackyard runs.

Installed from the wheel, the policy pack's rules are the package ``stackyard_policy``; in this
repository they are the ``policy/`` pack itself. This is the only place that knows both names.
"""

from __future__ import annotations

try:
    from stackyard_policy import RULES, Finding, evaluate, evaluate_charts
except ModuleNotFoundError:  # running from the repository
    from policy import RULES, Finding, evaluate, evaluate_charts

__all__ = ["RULES", "Finding", "evaluate", "evaluate_charts"]
