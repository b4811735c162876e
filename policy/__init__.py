"""Stackyard's policies: pure functions over rendered Kubernetes objects (plain dicts).

They import neither the components nor the tooling, so the same functions can run offline on an
export and, later, inside a Pulumi policy pack under the real engine.
"""

from __future__ import annotations

from .pod_security import PodSecurityViolation, pod_spec_of, restricted_violations

__all__ = ["PodSecurityViolation", "pod_spec_of", "restricted_violations"]
