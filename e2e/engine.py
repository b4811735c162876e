"""The real Pulumi engine, hermetically: our built toolchain, a throwaway backend and a copy of the project.

A :class:`Workspace` is one temporary folder holding everything a run touches: a local file
backend, ``PULUMI_HOME`` (where the Kubernetes provider is installed from our build), a copy of the
program and its stack config, and the render folder. ``KUBECONFIG`` points at a file that does not
exist, so nothing can reach a real cluster by accident. Leaving the ``with`` block removes it all,
also on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .gobuild import ENGINE, KUBERNETES_PROVIDER_RELEASES, REPO, ensure
from .interrupts import terminate_as_interrupt

#: The oldest CLI we accept on a user's PATH: the Python SDK we pin (requirements.txt).
MINIMUM_CLI = (3, 272, 0)
PROJECT = "stackyard"
#: The program's files, copied into each workspace (the same set the wheel would not need).
PROGRAM = ("__main__.py", "components", "stacks", "requirements.txt")
#: A passphrase for the throwaway backend's secrets provider; it protects nothing of value.
PASSPHRASE = "stackyard-e2e-passphrase"
#: Upstream charts and CRDs for offline runs (test data beside the checkout, never in it).
REFERENCE = Path(os.environ.get("STACKYARD_REFERENCE", REPO.parent / "shared" / "reference"))
#: Each implementation's chart folder under :data:`REFERENCE`.
REFERENCE_CHARTS = {
    "traefik": "charts/traefik",
    "envoy-gateway": "charts/gateway-helm",
    "kube-prometheus-stack": "charts/kube-prometheus-stack",
}
REFERENCE_GATEWAY_API_CRDS = "crds/gateway-api-v1.5.1-standard-install.yaml"


def committed_config(stack: str) -> dict[str, Any]:
    """The ``config:`` block of the committed ``Pulumi.<stack>.yaml``, keys without the project prefix."""
    document = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text()) or {}
    return {str(key).removeprefix(f"{PROJECT}:"): value for key, value in (document.get("config") or {}).items()}


def secure_keys(stack: str) -> list[str]:
    """The config keys the committed stack file holds as ``secure:`` placeholders."""
    return sorted(
        key for key, value in committed_config(stack).items() if isinstance(value, dict) and "secure" in value
    )


def canary(stack: str, key: str) -> str:
    """A recognisable test value for a secret config key: it must never appear in an export."""
    return f"e2e-canary-{stack}-{key}"


def air_gapped_sources(config: Mapping[str, Any]) -> dict[str, str]:
    """``--path`` config settings that take every chart and CRD file from :data:`REFERENCE`."""
    if not REFERENCE.is_dir():
        raise EngineError(
            f"the engine tier installs charts from {REFERENCE} (upstream test data beside the checkout), which "
            "is missing; set STACKYARD_REFERENCE to a copy of it"
        )
    paths: dict[str, str] = {}
    ingress = config.get("ingress")
    if isinstance(ingress, dict):
        implementation = ingress.get("implementation", "traefik")
        paths["ingress.chartPath"] = str(REFERENCE / REFERENCE_CHARTS[implementation])
        if ingress.get("routeApi") == "gateway" and implementation == "traefik":
            paths["ingress.gatewayApiCrdsPath"] = str(REFERENCE / REFERENCE_GATEWAY_API_CRDS)
    if isinstance(config.get("monitoring"), dict):
        paths["monitoring.chartPath"] = str(REFERENCE / REFERENCE_CHARTS["kube-prometheus-stack"])
    return paths


@dataclass(frozen=True)
class Toolchain:
    """The pulumi CLI to run, and our engine bin folder (language host and Kubernetes provider)."""

    pulumi: Path
    bin: Path
    users_cli: bool
    """True when ``pulumi`` is the user's own CLI found on PATH."""

    @property
    def provider(self) -> Path:
        return self.bin / "pulumi-resource-kubernetes"

    @property
    def provider_version(self) -> str:
        return next(iter(KUBERNETES_PROVIDER_RELEASES.values()))


def cli_version(pulumi: Path) -> tuple[int, int, int] | None:
    """The CLI's version as numbers, or ``None`` when it does not answer with one."""
    try:
        output = subprocess.run([str(pulumi), "version"], capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return None
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", output.stdout.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def users_cli() -> Path | None:
    """A compatible ``pulumi`` on PATH (at least :data:`MINIMUM_CLI`, major 3), unless told to ignore it."""
    if os.environ.get("STACKYARD_BUILD_PULUMI"):
        return None
    found = shutil.which("pulumi")
    if found is None:
        return None
    version = cli_version(Path(found))
    return Path(found) if version is not None and MINIMUM_CLI <= version < (4, 0, 0) else None


def toolchain() -> Toolchain:
    """Build or find our engine toolchain; prefer the user's own compatible CLI."""
    built = ensure(ENGINE)
    own = users_cli()
    return Toolchain(pulumi=own or built.bin / "pulumi", bin=built.bin, users_cli=own is not None)


class EngineError(RuntimeError):
    """A pulumi command failed; the message holds the command and its output."""


@dataclass
class Result:
    """One pulumi command's outcome."""

    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Workspace:
    """A temporary Pulumi home, file backend and project copy; see the module docs."""

    def __init__(self, root: Path, tools: Toolchain) -> None:
        self.root = root
        self.tools = tools
        self.project = root / "project"
        self.backend = root / "backend"
        self.home = root / "pulumi-home"
        self.render = root / "render"
        self.extra_env: dict[str, str] = {}
        """Variables added to every command's environment (after the hermetic ones)."""
        for folder in (self.project, self.backend, self.home):
            folder.mkdir(parents=True)

    # -- setup ----------------------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PULUMI_", "KUBE")) and key not in ("VIRTUAL_ENV",)
        }
        env.update(
            PULUMI_HOME=str(self.home),
            PULUMI_BACKEND_URL=f"file://{self.backend}",
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_IGNORE_AMBIENT_PLUGINS="true",
            PULUMI_SKIP_CONFIRMATIONS="true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="false",
            KUBECONFIG=str(self.root / "no-cluster" / "kubeconfig"),
            NO_COLOR="1",
        )
        env.update(self.extra_env)
        return env

    def copy_program(self, source: Path = REPO, files: Sequence[str] = PROGRAM) -> None:
        """Copy a program, its Pulumi.yaml and the policy pack, pointing both at the repository's virtualenv."""
        for name in files:
            origin = source / name
            if origin.is_dir():
                shutil.copytree(origin, self.project / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(origin, self.project / name)
        _use_our_virtualenv(source / "Pulumi.yaml", self.project / "Pulumi.yaml")
        policy = self.project / "policy"
        shutil.copytree(
            REPO / "policy", policy, ignore=shutil.ignore_patterns("__pycache__", "venv", "PulumiPolicy.yaml")
        )
        _use_our_virtualenv(REPO / "policy" / "PulumiPolicy.yaml", policy / "PulumiPolicy.yaml")

    def install_provider(self) -> None:
        """Install our Kubernetes provider build into this workspace's PULUMI_HOME at its release version."""
        self.pulumi(
            "plugin",
            "install",
            "resource",
            "kubernetes",
            f"v{self.tools.provider_version}",
            "--file",
            str(self.tools.provider),
        )

    def init_stack(
        self,
        stack: str,
        *,
        secrets: Mapping[str, str],
        settings: Mapping[str, str] = {},
        paths: Mapping[str, str] = {},
    ) -> None:
        """Create ``stack`` from the committed config, minus its ``secure:`` placeholders, set through the CLI.

        ``secrets`` are set with ``pulumi config set --secret``, ``settings`` as plain values and
        ``paths`` with ``--path`` (into structured values): all through the CLI, as a user would.
        """
        config = {
            f"{PROJECT}:{key}": value
            for key, value in committed_config(stack).items()
            if not (isinstance(value, dict) and "secure" in value)
        }
        self.pulumi("stack", "init", stack)
        stack_file = self.project / f"Pulumi.{stack}.yaml"
        existing = yaml.safe_load(stack_file.read_text()) if stack_file.exists() else {}
        existing = existing or {}
        existing["config"] = config
        stack_file.write_text(yaml.safe_dump(existing, sort_keys=False))
        for key, value in secrets.items():
            self.pulumi("config", "set", "--secret", "--stack", stack, f"{PROJECT}:{key}", "--", value)
        for key, value in settings.items():
            self.pulumi("config", "set", "--stack", stack, f"{PROJECT}:{key}", "--", value)
        for key, value in paths.items():
            self.pulumi("config", "set", "--path", "--stack", stack, f"{PROJECT}:{key}", "--", value)

    def prepare(
        self, stack: str, *, checkpoints: bool = False, kubeconfig: Path | None = None, **settings: str
    ) -> None:
        """Set ``stack`` up from the committed config: the program, our provider, canary secrets and
        local charts; rendered to :attr:`render` (renderDir), or deployed to ``kubeconfig``'s cluster.

        Unless ``checkpoints``, intermediate checkpoints are skipped (PULUMI_SKIP_CHECKPOINTS): with
        the charts' CRDs the state is about 12 MB, and writing it after every step makes ``up`` take
        minutes instead of seconds (bench/RESULTS.md). Nothing the tiers check depends on how often
        the state file is rewritten.
        """
        if not checkpoints:
            self.extra_env["PULUMI_SKIP_CHECKPOINTS"] = "true"
        if kubeconfig is not None:
            self.extra_env["KUBECONFIG"] = str(kubeconfig)
        else:
            settings = {"renderDir": str(self.render), **settings}
        self.copy_program()
        self.install_provider()
        self.init_stack(
            stack,
            secrets={key: canary(stack, key) for key in secure_keys(stack)},
            settings=settings,
            paths=air_gapped_sources(committed_config(stack)),
        )

    # -- running --------------------------------------------------------------------------------

    def pulumi(self, *args: str, check: bool = True, timeout: float = 1800) -> Result:
        """Run the CLI in the project copy; raise :class:`EngineError` on a non-zero exit when ``check``."""
        command = [str(self.tools.pulumi), *args]
        completed = subprocess.run(
            command,
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Result(args, completed.returncode, completed.stdout, completed.stderr)
        if check and result.returncode != 0:
            raise EngineError(f"`pulumi {' '.join(args)}` exited {result.returncode}:\n{result.output[-6000:]}")
        return result

    def spawn(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        """Start the CLI in the background, its output into ``log`` (for fault tests)."""
        with log.open("wb") as output:
            return subprocess.Popen(
                [str(self.tools.pulumi), *args], cwd=self.project, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )

    def preview_summary(self, stack: str, *extra: str) -> dict[str, int]:
        """``pulumi preview --json``'s change counts per operation."""
        result = self.pulumi("preview", "--stack", stack, "--json", *extra)
        return change_summary(result.stdout)

    def stack_resources(self, stack: str) -> list[dict[str, Any]]:
        """The resources in the stack's state, from ``pulumi stack export``."""
        exported = json.loads(self.pulumi("stack", "export", "--stack", stack).stdout)
        resources: list[dict[str, Any]] = exported.get("deployment", {}).get("resources") or []
        return resources


def _use_our_virtualenv(source: Path, target: Path) -> None:
    """Copy a Pulumi project or policy-pack file, with the runtime's virtualenv set to the repository's."""
    document = yaml.safe_load(source.read_text())
    document["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
    target.write_text(yaml.safe_dump(document, sort_keys=False))


def change_summary(preview_json: str) -> dict[str, int]:
    """Counts per operation (``create``, ``same``, ``update``, ``delete``, ``replace``...) of a JSON preview."""
    document = json.loads(preview_json)
    summary = document.get("changeSummary") or {}
    return {str(key): int(value) for key, value in summary.items()}


@contextmanager
def workspace(tools: Toolchain, *, keep: bool = False) -> Iterator[Workspace]:
    """A :class:`Workspace` in a new temporary folder, removed afterwards (also on Ctrl-C and SIGTERM)."""
    root = Path(tempfile.mkdtemp(prefix="stackyard-engine-"))
    with terminate_as_interrupt():
        try:
            yield Workspace(root, tools)
        finally:
            if not keep:
                shutil.rmtree(root, ignore_errors=True)
