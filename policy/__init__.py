"""Stackyard's policies: pure functions over rendered resource dicts.

They import neither the components nor the tooling, so the same functions load under the real
engine as a Pulumi policy pack (``pulumi preview --policy-pack policy``) and run offline in
``stackyard audit``.
"""

from __future__ import annotations

from .pod_security import PodSecurityViolation, pod_spec_of, restricted_violations, violations_at
from .rules import (
    EXCEPTION_PREFIX,
    HIGH_AVAILABILITY_LABEL,
    INGRESS_CONTROLLER_LABEL,
    RULES,
    Finding,
    Rule,
    evaluate,
    evaluate_charts,
    exception_reason,
)

__all__ = [
    "EXCEPTION_PREFIX",
    "HIGH_AVAILABILITY_LABEL",
    "INGRESS_CONTROLLER_LABEL",
    "RULES",
    "Finding",
    "PodSecurityViolation",
    "Rule",
    "evaluate",
    "evaluate_charts",
    "exception_reason",
    "pod_spec_of",
    "restricted_violations",
    "violations_at",
]
