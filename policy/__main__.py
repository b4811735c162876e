"""Entry point of the policy pack: ``pulumi preview --policy-pack policy``.

The engine runs this file directly, with ``policy/`` as the working folder, so the repository root
is put on ``sys.path`` to import the rules as the package they are everywhere else.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.pack import policies

PolicyPack(name="stackyard-baseline", policies=policies())
