"""Entry point of the policy pack: ``pulumi preview --policy-pack policy``.

The engine runs this file as a script, from the ``policy/`` folder, so the repository root is put
on ``sys.path`` to import the rules as the package they are everywhere else. Run as a module of the
installed distribution (``python -m stackyard_policy``), it imports them relatively instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi_policy import PolicyPack

if __package__:
    from .pack import policies
else:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from policy.pack import policies

PolicyPack(name="stackyard-baseline", policies=policies())
