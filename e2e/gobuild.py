"""Build the engine and control-plane toolchains from our pinned Go wrapper modules, once, into a cache.

Each tool family is a small Go module of ours (``engine/pulumi``, ``engine/kubernetes``, ...) that only
*requires* the upstream module at a pinned version; ``go.sum`` pins the rest. A toolset (all the
families of the engine, or of the control plane) is built as a whole into one folder keyed by
everything that decides its bytes: the wrapper modules' files, the link flags, the recipe and the Go
version. So a changed pin is a new key, and an unchanged one is found again instantly.

Builds happen in a temporary folder beside the cache entry and are renamed into place at the end, so
an interrupted or failed build leaves nothing that looks finished. Go's own module and build caches
stay where Go keeps them (outside the repository); they are content-addressed already.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stackyard.cache import cache_root

from .interrupts import terminate_as_interrupt

REPO = Path(__file__).resolve().parent.parent
#: Bump when the build steps change in a way the hashed inputs (wrapper files, link flags, the
#: before/after steps' source) do not show.
RECIPE = "1"

PULUMI_VERSION_VAR = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
KUBERNETES_PROVIDER_VERSION_VAR = "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version"
#: The Kubernetes version Helm assumes when there is no cluster to ask (render mode). Helm's library
#: defaults to v1.20.0 unless its own build sets these variables, and pulumi-kubernetes' release
#: build does not, so every chart that requires kubeVersion >= 1.21 fails to render offline. We set
#: the version our exports target (kubernetes-validate, the control-plane tier).
HELM_OFFLINE_KUBE_VERSION = ("1", "36")
#: The provider module has no tags of its own; this is the release each pinned pseudo-version is.
#: (v4.25.0 is commit f47bc2d6f199 in pulumi/pulumi-kubernetes; no later commit is served here.)
KUBERNETES_PROVIDER_RELEASES = {"v4.0.0-20260115033456-f47bc2d6f199": "4.25.0"}


class BuildError(RuntimeError):
    """A build step failed; the message names the family, the pinned module and how to retry."""


@dataclass(frozen=True)
class GoMod:
    """The parts of a wrapper module's go.mod we need: its required versions."""

    path: Path
    requires: Mapping[str, str]

    @classmethod
    def read(cls, path: Path) -> GoMod:
        requires: dict[str, str] = {}
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:require\s+)?([\w.\-/~]+\.[\w.\-/~]+)\s+(v[^\s]+)", line)
            if match and "=>" not in line:
                requires[match.group(1)] = match.group(2)
        return cls(path, requires)

    def version(self, module: str) -> str:
        try:
            return self.requires[module]
        except KeyError:
            raise BuildError(f"{self.path}: no require line for {module}") from None


@dataclass(frozen=True)
class Target:
    """One binary: a main package built with link-time variables."""

    package: str
    """The main package, by import path, or ``.`` for the wrapper's own main."""
    binary: str
    """The file name in ``bin/``; several packages may share one build (see ``Family``)."""
    ldflags: Callable[[GoMod], dict[str, str]] = field(default=lambda _mod: {})
    """``-X`` variables, computed from the pinned versions."""


@dataclass(frozen=True)
class Family:
    """One wrapper module and what it builds."""

    name: str
    folder: str
    """The wrapper module, relative to the repository."""
    upstream: str
    """The module this family exists to build, named in messages."""
    targets: tuple[Target, ...]
    before: Callable[[Path, GoMod, Callable[[str], Path]], None] | None = None
    """Writes generated files into the build's copy of the module, given the module-dir lookup."""
    after: Callable[[Path, GoMod, Callable[[str], Path]], None] | None = None
    """Adds files beside the binaries (the build's output folder), given the module-dir lookup."""

    def source(self) -> Path:
        return REPO / self.folder

    def gomod(self) -> GoMod:
        return GoMod.read(self.source() / "go.mod")


@dataclass(frozen=True)
class Toolset:
    """Families that are built and cached together, because they are used together."""

    name: str
    families: tuple[Family, ...]


# -- the engine -----------------------------------------------------------------------------------


def _pulumi_version(mod: GoMod) -> dict[str, str]:
    return {PULUMI_VERSION_VAR: mod.version("github.com/pulumi/pulumi/sdk/v3")}


def _provider_release(mod: GoMod) -> str:
    pseudo = mod.version("github.com/pulumi/pulumi-kubernetes/provider/v4")
    try:
        return KUBERNETES_PROVIDER_RELEASES[pseudo]
    except KeyError:
        raise BuildError(
            f"{mod.path}: provider/v4 {pseudo} is not in KUBERNETES_PROVIDER_RELEASES; name its release there"
        ) from None


def _provider_ldflags(mod: GoMod) -> dict[str, str]:
    major, minor = HELM_OFFLINE_KUBE_VERSION
    return {
        KUBERNETES_PROVIDER_VERSION_VAR: _provider_release(mod),
        "helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor": major,
        "helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor": minor,
    }


def _helm_ldflags(mod: GoMod) -> dict[str, str]:
    """Helm's own version variable, and the same offline Kubernetes version as the provider's."""
    major, minor = HELM_OFFLINE_KUBE_VERSION
    return {
        "helm.sh/helm/v3/internal/version.version": mod.version("helm.sh/helm/v3"),
        "helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor": major,
        "helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor": minor,
    }


def _provider_schema(build: Path, mod: GoMod, module_dir: Callable[[str], Path]) -> None:
    """The provider embeds its schema with the release version set, as upstream's generate step does."""
    command = module_dir("github.com/pulumi/pulumi-kubernetes/provider/v4") / "cmd" / "pulumi-resource-kubernetes"
    schema = json.loads((command / "schema.json").read_text())
    schema["version"] = _provider_release(mod)
    (build / "schema-embed.json").write_text(json.dumps(schema, separators=(",", ":")))
    mapping = json.loads((command / "terraform-mapping.json").read_text())
    (build / "terraform-mapping-embed.json").write_text(json.dumps(mapping, separators=(",", ":")))


def _python_exec_script(out: Path, _mod: GoMod, module_dir: Callable[[str], Path]) -> None:
    """The language host runs programs through the SDK's own exec script, which must sit beside it."""
    script = module_dir("github.com/pulumi/pulumi/sdk/v3") / "python" / "cmd" / "pulumi-language-python-exec"
    target = out / "bin" / script.name
    shutil.copyfile(script, target)
    target.chmod(0o755)


ENGINE = Toolset(
    "engine",
    (
        Family(
            "pulumi",
            "engine/pulumi",
            "github.com/pulumi/pulumi/pkg/v3",
            (Target("github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", "pulumi", _pulumi_version),),
        ),
        Family(
            "language-python",
            "engine/language-python",
            "github.com/pulumi/pulumi/sdk/v3",
            (Target(".", "pulumi-language-python", _pulumi_version),),
            after=_python_exec_script,
        ),
        Family(
            "kubernetes",
            "engine/kubernetes",
            "github.com/pulumi/pulumi-kubernetes/provider/v4",
            (Target(".", "pulumi-resource-kubernetes", _provider_ldflags),),
            before=_provider_schema,
        ),
    ),
)


# -- the control plane ----------------------------------------------------------------------------


def _kubernetes_version(mod: GoMod) -> dict[str, str]:
    """Without these the API server reports v0.0 and pulumi-kubernetes refuses to talk to it."""
    version = mod.version("k8s.io/kubernetes")
    major, minor, *_ = version.lstrip("v").split(".")
    values = {"gitVersion": version, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    return {
        f"{package}.{name}": value
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for name, value in values.items()
    }


def _kwok_stages(out: Path, _mod: GoMod, module_dir: Callable[[str], Path]) -> None:
    """kwok's own default stages (node and pod lifecycles), which the plain binary does not load."""
    stages = module_dir("sigs.k8s.io/kwok") / "kustomize" / "stage"
    target = out / "share" / "kwok-stages"
    target.mkdir(parents=True)
    for source in [
        *sorted((stages / "node" / "fast").glob("*.yaml")),
        *sorted((stages / "pod" / "fast").glob("*.yaml")),
    ]:
        shutil.copyfile(source, target / f"{source.parent.parent.name}-{source.name}")


CONTROL_PLANE = Toolset(
    "controlplane",
    (
        Family(
            "etcd",
            "controlplane/etcd",
            "go.etcd.io/etcd/server/v3",
            (Target("go.etcd.io/etcd/server/v3", "etcd"),),
        ),
        Family(
            "kubernetes",
            "controlplane/kubernetes",
            "k8s.io/kubernetes",
            tuple(
                Target(f"k8s.io/kubernetes/cmd/{name}", name, _kubernetes_version)
                for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
            ),
        ),
        Family(
            "kwok",
            "controlplane/kwok",
            "sigs.k8s.io/kwok",
            (Target("sigs.k8s.io/kwok/cmd/kwok", "kwok"),),
            after=_kwok_stages,
        ),
    ),
)

# -- the chart expander ---------------------------------------------------------------------------

#: ``stackyard-expand`` (engine/kubernetes/cmd/stackyard-expand): charts and YAML objects expanded as
#: the provider does. A main package of the provider's wrapper module, so it links exactly the
#: provider's Helm and normalisation at the same pins, built with the same link flags (Helm's
#: offline Kubernetes version above all). Its own toolset, so that `make render` and `make test`
#: build it without the whole engine.
EXPANDER = Toolset(
    "expander",
    (
        Family(
            "expander",
            "engine/kubernetes",
            "github.com/pulumi/pulumi-kubernetes/provider/v4",
            (
                Target("./cmd/stackyard-expand", "stackyard-expand", _provider_ldflags),
                # The same Helm as a command, for `helm template` beside our render (bench/) and
                # as the fidelity baseline in docs/architecture.md.
                Target("helm.sh/helm/v3/cmd/helm", "helm", _helm_ldflags),
            ),
        ),
    ),
)

TOOLSETS = {toolset.name: toolset for toolset in (ENGINE, CONTROL_PLANE, EXPANDER)}


# -- keys and the cache ---------------------------------------------------------------------------


def go_environment() -> dict[str, str]:
    """The environment every go command runs in: no cgo, pinned sums only, no VCS stamping."""
    env = dict(os.environ)
    env.update(CGO_ENABLED="0", GOFLAGS="-mod=readonly -buildvcs=false", GOWORK="off")
    return env


def go_identity() -> str:
    """What of the Go installation changes the binaries: version, OS and architecture."""
    try:
        result = subprocess.run(
            ["go", "env", "GOVERSION", "GOOS", "GOARCH"],
            capture_output=True,
            text=True,
            check=True,
            env=go_environment(),
        )
    except FileNotFoundError:
        raise BuildError("the go command is not on PATH: install Go 1.26 or newer, then retry") from None
    except subprocess.CalledProcessError as error:
        raise BuildError(f"`go env` failed: {error.stderr.strip()}") from None
    return " ".join(result.stdout.split())


def toolset_key(toolset: Toolset, go: str) -> str:
    """A short digest of everything that decides the toolset's bytes."""
    digest = hashlib.sha256()

    def feed(*parts: str | bytes) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big") + data)

    feed(RECIPE, go, toolset.name)
    for family in toolset.families:
        feed(family.name)
        for path in sorted(p for p in family.source().rglob("*") if p.is_file()):
            feed(str(path.relative_to(family.source())), path.read_bytes())
        mod = family.gomod()
        for target in family.targets:
            feed(target.package, target.binary, json.dumps(target.ldflags(mod), sort_keys=True))
        for step in (family.before, family.after):
            # A changed generation or copy step changes what lands in the cache.
            feed(inspect.getsource(step) if step is not None else "-")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Built:
    """A finished toolset in the cache."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def share(self) -> Path:
        return self.root / "share"

    def manifest(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads((self.root / "manifest.json").read_text())
        return loaded


def find(toolset: Toolset) -> Built | None:
    """The cached build of ``toolset`` at its current pins, if there is one."""
    entry = cache_root() / toolset.name / toolset_key(toolset, go_identity())
    return Built(entry) if (entry / "manifest.json").is_file() else None


def ensure(toolset: Toolset, *, log: Callable[[str], None] = print) -> Built:
    """Find ``toolset`` in the cache or build it there; raise ``BuildError`` with a retry hint on failure."""
    go = go_identity()
    key = toolset_key(toolset, go)
    home = cache_root() / toolset.name
    home.mkdir(parents=True, exist_ok=True)
    entry = home / key
    with _lock(home / ".lock"):
        if (entry / "manifest.json").is_file():
            return Built(entry)
        _sweep_abandoned(home)
        log(f"building the {toolset.name} toolset ({key}); with empty Go caches that takes minutes on 2 cores")
        with _scratch(home / f".build-{key}-{os.getpid()}") as scratch:
            started = time.monotonic()
            for family in toolset.families:
                _build_family(family, scratch, log)
            _write_manifest(scratch, toolset, key, go, time.monotonic() - started)
            scratch.rename(entry)
        _prune(home, keep=entry)
    return Built(entry)


#: Builds kept per toolset: the current one and the one before (a branch switch away).
KEEP_BUILDS = 2


def _prune(home: Path, keep: Path) -> None:
    """Remove all but the newest builds of a toolset (each is a few hundred MB)."""
    builds = sorted(
        (path for path in home.iterdir() if (path / "manifest.json").is_file() and path != keep),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for old in builds[KEEP_BUILDS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One build of a toolset at a time; a second caller waits, then finds the first one's result."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _sweep_abandoned(home: Path) -> None:
    """Remove build folders whose process is gone (a build killed with SIGKILL cannot clean up)."""
    for folder in home.glob(".build-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _scratch(path: Path) -> Iterator[Path]:
    """A build folder that is removed unless it was renamed into place, also on Ctrl-C and SIGTERM."""
    with terminate_as_interrupt():
        path.mkdir()
        (path / "bin").mkdir()
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def _build_family(family: Family, scratch: Path, log: Callable[[str], None]) -> None:
    mod = family.gomod()
    work = scratch / "src" / family.name
    shutil.copytree(family.source(), work)
    pin = f"{family.upstream}@{mod.version(family.upstream)}"
    log(f"  {family.name}: {pin}")

    def module_dir(module: str) -> Path:
        output = _go(family, pin, work, ["list", "-m", "-f", "{{.Dir}}", module])
        return Path(output.strip())

    _go(family, pin, work, ["mod", "download"])
    if family.before:
        family.before(work, mod, module_dir)
    for target in family.targets:
        flags = " ".join(f"-X {name}={value}" for name, value in sorted(target.ldflags(mod).items()))
        _go(
            family,
            pin,
            work,
            [
                "build",
                "-trimpath",
                "-ldflags",
                f"-s -w {flags}".strip(),
                "-o",
                str(scratch / "bin" / target.binary),
                target.package,
            ],
        )
    if family.after:
        family.after(scratch, mod, module_dir)


def _go(family: Family, pin: str, cwd: Path, args: list[str]) -> str:
    result = subprocess.run(["go", *args], cwd=cwd, env=go_environment(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(_failure(family, pin, args, result.stderr))
    return result.stdout


def _failure(family: Family, pin: str, args: list[str], stderr: str) -> str:
    """Name the module and version that failed, the step, and how to retry."""
    refused = sorted(set(re.findall(r"([\w.\-/~]+@v[\w.\-+]+): (?:reading|verifying|invalid version)", stderr)))
    lines = stderr.strip().splitlines()
    detail = "\n".join(f"    {line}" for line in lines[-15:])
    cause = (
        f"the module proxy refused {', '.join(refused)}: that version is not served; pin one that is in "
        f"{family.folder}/go.mod, then run `go mod tidy` there"
        if refused
        else f"see Go's output above; the pins are in {family.folder}/go.mod and go.sum"
    )
    retry = f"make {family.folder.split('/', 1)[0]}"
    return (
        f"building {family.name} ({pin}) failed at `go {' '.join(args[:2])}`:\n{detail}\n"
        f"{cause}.\nNothing was cached. Retry with `{retry}`."
    )


def _write_manifest(scratch: Path, toolset: Toolset, key: str, go: str, seconds: float) -> None:
    families = {
        family.name: {
            "module": family.upstream,
            "version": family.gomod().version(family.upstream),
            "binaries": [target.binary for target in family.targets],
        }
        for family in toolset.families
    }
    size = sum(path.stat().st_size for path in (scratch / "bin").iterdir())
    manifest = {
        "toolset": toolset.name,
        "key": key,
        "go": go,
        "families": families,
        "build_seconds": round(seconds, 1),
        "bin_bytes": size,
    }
    (scratch / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(scratch / "src")


def main(argv: list[str] | None = None) -> int:
    """``python -m e2e.gobuild engine|controlplane``: build or find the toolset, print its bin folder."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in TOOLSETS:
        print(f"usage: python -m e2e.gobuild {{{'|'.join(TOOLSETS)}}}", file=sys.stderr)
        return 2
    try:
        built = ensure(TOOLSETS[args[0]], log=lambda line: print(line, file=sys.stderr))
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing half-built was left in the cache", file=sys.stderr)
        return 130
    print(built.bin)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
