"""The chart expander: a Go program built from the pinned Kubernetes provider's own module.

``stackyard-expand`` links the provider's Helm, chart templating, YAML parsing and object
normalisation, so the objects it returns are the ones the provider writes in render mode
(docs/architecture.md, "The complete export"). ``make expander`` builds it into the project's
virtualenv; this module finds it, checks that it speaks our protocol, and runs one request at a
time, JSON in and JSON out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EXPANDER_ENV", "EXPANDER_NAME", "PROTOCOL", "Expander", "ExpanderError", "find_expander"]

EXPANDER_NAME = "stackyard-expand"
#: Names the expander binary explicitly (a path), before the virtualenv and PATH are searched.
EXPANDER_ENV = "STACKYARD_EXPANDER"
#: The request and response shapes this module speaks (the Go side's ``protocol``).
PROTOCOL = 1
#: A chart as large as kube-prometheus-stack expands in about a second; this only stops a hang.
_TIMEOUT_SECONDS = 300


class ExpanderError(Exception):
    """The expander is missing, of another protocol, or refused a request; the message says which."""


@dataclass(frozen=True)
class Expander:
    """A ``stackyard-expand`` binary and what it was built from."""

    path: Path
    helm: str
    """The Helm module it links (the provider's pin), e.g. ``v3.18.6``."""
    provider: str
    """The Kubernetes provider release whose code it links, e.g. ``4.25.0``."""
    kube_version: str
    """The Kubernetes version Helm assumes without a cluster, as the provider's render mode does."""

    def identity(self) -> dict[str, str]:
        """What decides its output, for cache keys and index.json."""
        return {"helm": self.helm, "provider": self.provider, "kubeVersion": self.kube_version}

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request; return the response, or raise :class:`ExpanderError` with the expander's message."""
        try:
            completed = subprocess.run(
                [str(self.path)],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_SECONDS,
                check=False,
                env=_hermetic_environment(),
            )
        except subprocess.TimeoutExpired:
            raise ExpanderError(f"{self.path} did not answer within {_TIMEOUT_SECONDS} s") from None
        except OSError as error:
            raise ExpanderError(f"{self.path} could not be run: {error.strerror or error}") from None
        try:
            response: dict[str, Any] = json.loads(completed.stdout)
        except json.JSONDecodeError:
            detail = (completed.stderr or completed.stdout).strip()[-2000:]
            raise ExpanderError(f"{self.path} exited {completed.returncode} without an answer: {detail}") from None
        if completed.returncode != 0 or "error" in response:
            raise ExpanderError(str(response.get("error") or f"exited {completed.returncode}"))
        return response


def _hermetic_environment() -> dict[str, str]:
    """The provider's render mode: no kubeconfig that could reach a cluster, no Helm repositories file.

    A chart that calls ``lookup`` then behaves as it does under the provider's render mode (see
    docs/architecture.md): there is no cluster to ask.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HELM_", "KUBE"))}
    env["KUBECONFIG"] = os.devnull + ".stackyard-no-cluster"
    return env


def find_expander() -> Expander:
    """``$STACKYARD_EXPANDER``, else ``stackyard-expand`` beside this Python (the virtualenv), else on PATH."""
    explicit = os.environ.get(EXPANDER_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ExpanderError(f"{EXPANDER_ENV}={explicit}: no such file")
    else:
        beside = Path(sys.executable).parent / EXPANDER_NAME
        found = beside if beside.is_file() else shutil.which(EXPANDER_NAME)
        if found is None:
            raise ExpanderError(
                f"{EXPANDER_NAME}, which expands charts as the pinned provider does, is not installed: run "
                "`make expander` (it builds it with Go 1.26+ into .venv/bin), or set "
                f"{EXPANDER_ENV} to one; `--charts record` exports chart records instead"
            )
        path = Path(found)
    return _describe(path)


def _describe(path: Path) -> Expander:
    try:
        completed = subprocess.run([str(path), "version"], capture_output=True, text=True, timeout=60, check=False)
        described = json.loads(completed.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        raise ExpanderError(f"{path} does not answer `version` as {EXPANDER_NAME} does: {error}") from None
    if described.get("protocol") != PROTOCOL:
        raise ExpanderError(
            f"{path} speaks protocol {described.get('protocol')!r}, this stackyard speaks {PROTOCOL}: rebuild it "
            "with `make expander`"
        )
    return Expander(
        path=path,
        helm=str(described.get("helm")),
        provider=str(described.get("provider")),
        kube_version=str(described.get("kubeVersion")),
    )
