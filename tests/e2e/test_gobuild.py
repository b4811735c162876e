"""Building the Go toolchains: cache keys, atomic builds, and failures that say what to do."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from e2e import gobuild
from e2e.gobuild import CONTROL_PLANE, ENGINE, BuildError, Family, GoMod, Target, Toolset
from tests.conftest import ROOT

FAKE_GO = textwrap.dedent(
    """\
    #!{python}
    import os, signal, sys, time
    args = sys.argv[1:]
    with open(os.environ["FAKE_GO_LOG"], "a") as log:
        log.write(" ".join(args) + "\\n")
    if args[:1] == ["env"]:
        print("go1.26.8\\nlinux\\namd64")
    elif args[:1] == ["build"]:
        if os.environ.get("FAKE_GO_REFUSE"):
            print("go: example.com/tool@v1.2.3: reading https://proxy.golang.org/example.com/tool/@v/v1.2.3.info: "
                  "403 Forbidden", file=sys.stderr)
            sys.exit(1)
        if os.environ.get("FAKE_GO_TERMINATE"):
            os.kill(os.getppid(), signal.SIGTERM)
            time.sleep(30)
        out = args[args.index("-o") + 1]
        with open(out, "w") as binary:
            binary.write("binary built with " + " ".join(args))
    """
)


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``go`` command that logs its calls and builds placeholder files, in a private cache."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    script = bin_dir / "go"
    script.write_text(FAKE_GO.format(python=sys.executable))
    script.chmod(0o755)
    log = tmp_path / "go.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GO_LOG", str(log))
    monkeypatch.setenv("STACKYARD_CACHE", str(tmp_path / "cache"))
    return log


def demo_toolset(tmp_path: Path, version: str = "v1.2.3") -> Toolset:
    module = tmp_path / "wrapper"
    module.mkdir(exist_ok=True)
    (module / "go.mod").write_text(f"module stackyard.dev/demo\n\ngo 1.26\n\nrequire example.com/tool {version}\n")
    target = Target("example.com/tool/cmd/tool", "tool", lambda mod: {"main.version": mod.version("example.com/tool")})
    return Toolset("demo", (Family("tool", str(module), "example.com/tool", (target,)),))


def cache_entries(tmp_path: Path) -> list[str]:
    home = tmp_path / "cache" / "demo"
    return sorted(p.name for p in home.iterdir() if p.name != ".lock") if home.is_dir() else []


class TestKeys:
    def test_the_key_is_stable_and_follows_every_pinned_input(self, tmp_path: Path) -> None:
        toolset = demo_toolset(tmp_path)
        first = gobuild.toolset_key(toolset, "go1.26.8 linux amd64")
        assert gobuild.toolset_key(toolset, "go1.26.8 linux amd64") == first
        assert gobuild.toolset_key(toolset, "go1.27.0 linux amd64") != first
        assert gobuild.toolset_key(demo_toolset(tmp_path, "v1.2.4"), "go1.26.8 linux amd64") != first

    def test_the_cache_lives_outside_the_repository(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("STACKYARD_CACHE", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/someone")
        assert gobuild.cache_root() == Path("/var/cache/someone/stackyard")
        assert not gobuild.cache_root().is_relative_to(ROOT)


class TestBuilding:
    def test_a_build_is_renamed_into_place_with_its_version_flags_and_found_again(
        self, tmp_path: Path, fake_go: Path
    ) -> None:
        toolset = demo_toolset(tmp_path)
        built = gobuild.ensure(toolset, log=lambda _line: None)
        assert (built.bin / "tool").read_text().count("-X main.version=v1.2.3") == 1
        assert built.manifest()["families"] == {
            "tool": {"module": "example.com/tool", "version": "v1.2.3", "binaries": ["tool"]}
        }
        assert cache_entries(tmp_path) == [built.root.name]
        builds = fake_go.read_text().count("build ")
        assert gobuild.ensure(toolset, log=lambda _line: None) == built
        assert fake_go.read_text().count("build ") == builds

    def test_go_runs_without_cgo_and_with_pinned_sums_only(self) -> None:
        env = gobuild.go_environment()
        assert env["CGO_ENABLED"] == "0"
        assert "-mod=readonly" in env["GOFLAGS"]

    @pytest.mark.usefixtures("fake_go")
    def test_a_refused_version_is_named_with_how_to_retry_and_nothing_is_cached(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("FAKE_GO_REFUSE", "1")
        with pytest.raises(BuildError) as raised:
            gobuild.ensure(demo_toolset(tmp_path), log=lambda _line: None)
        message = str(raised.value)
        assert "building tool (example.com/tool@v1.2.3) failed at `go build -trimpath`" in message
        assert "the module proxy refused example.com/tool@v1.2.3: that version is not served" in message
        assert "Nothing was cached. Retry with" in message
        assert cache_entries(tmp_path) == []

    @pytest.mark.usefixtures("fake_go")
    def test_an_interrupted_build_leaves_nothing_behind(self, tmp_path: Path) -> None:
        demo_toolset(tmp_path)
        program = textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(ROOT)!r})
            sys.path.insert(0, {str(Path(__file__).parent)!r})
            from e2e import gobuild
            from test_gobuild import demo_toolset
            from pathlib import Path
            gobuild.ensure(demo_toolset(Path({str(tmp_path)!r})), log=lambda line: None)
            """
        )
        env = {**os.environ, "FAKE_GO_TERMINATE": "1"}
        result = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode != 0
        assert "KeyboardInterrupt: signal 15" in result.stderr
        assert cache_entries(tmp_path) == []

    @pytest.mark.usefixtures("fake_go")
    def test_a_build_folder_left_by_a_killed_process_is_swept(self, tmp_path: Path) -> None:
        toolset = demo_toolset(tmp_path)
        home = tmp_path / "cache" / "demo"
        dead = subprocess.Popen(["true"])
        dead.wait()
        (home / f".build-0000-{dead.pid}" / "bin").mkdir(parents=True)
        gobuild.ensure(toolset, log=lambda _line: None)
        assert [name for name in cache_entries(tmp_path) if name.startswith(".build")] == []

    @pytest.mark.usefixtures("fake_go")
    def test_only_the_newest_builds_are_kept(self, tmp_path: Path) -> None:
        built = [gobuild.ensure(demo_toolset(tmp_path, f"v1.2.{patch}"), log=lambda _line: None) for patch in range(4)]
        assert cache_entries(tmp_path) == sorted(b.root.name for b in built[-gobuild.KEEP_BUILDS :])


class TestThePins:
    def test_go_mod_versions_are_read_with_pseudo_versions_and_without_replacements(self, tmp_path: Path) -> None:
        path = tmp_path / "go.mod"
        path.write_text(
            "module x\n\nreplace a.io/b => a.io/b v0.0.1\n\nrequire (\n\ta.io/b v1.0.0\n"
            "\tc.io/d/v4 v4.0.0-20260115033456-f47bc2d6f199 // indirect\n)\n"
        )
        mod = GoMod.read(path)
        assert mod.version("a.io/b") == "v1.0.0"
        assert mod.version("c.io/d/v4") == "v4.0.0-20260115033456-f47bc2d6f199"
        with pytest.raises(BuildError, match=r"no require line for e\.io/f"):
            mod.version("e.io/f")

    def test_the_cli_and_the_language_host_come_from_one_pulumi_release(self) -> None:
        cli, host = (family.gomod() for family in ENGINE.families[:2])
        assert cli.version("github.com/pulumi/pulumi/pkg/v3") == cli.version("github.com/pulumi/pulumi/sdk/v3")
        assert host.version("github.com/pulumi/pulumi/sdk/v3") == cli.version("github.com/pulumi/pulumi/sdk/v3")

    def test_the_python_sdk_pin_is_the_release_of_the_provider_we_build(self) -> None:
        provider = ENGINE.families[2].gomod()
        pseudo = provider.version("github.com/pulumi/pulumi-kubernetes/provider/v4")
        release = gobuild.KUBERNETES_PROVIDER_RELEASES[pseudo]
        requirements = (ROOT / "requirements.txt").read_text()
        assert re.search(rf"^pulumi-kubernetes=={re.escape(release)}$", requirements, re.MULTILINE)
        assert provider.version("github.com/pulumi/pulumi-kubernetes/sdk/v4") == f"v{release}"

    def test_the_control_plane_pins_the_published_staging_modules_at_its_release(self) -> None:
        kubernetes = CONTROL_PLANE.families[1]
        text = (ROOT / kubernetes.folder / "go.mod").read_text()
        release = kubernetes.gomod().version("k8s.io/kubernetes")
        staging = re.findall(r"^\s+(k8s\.io/[\w-]+) => \1 (v\S+)$", text, re.MULTILINE)
        assert len(staging) >= 30
        assert {version for _module, version in staging} == {release.replace("v1.", "v0.", 1)}
        assert "=> ./" not in text

    def test_the_api_server_reports_its_version_to_clients(self) -> None:
        flags = CONTROL_PLANE.families[1].targets[0].ldflags(CONTROL_PLANE.families[1].gomod())
        assert flags["k8s.io/component-base/version.gitVersion"] == "v1.36.3"
        assert flags["k8s.io/client-go/pkg/version.gitMinor"] == "36"


@pytest.mark.usefixtures("fake_go")
def test_the_signal_handler_is_restored_after_a_build(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    gobuild.ensure(demo_toolset(tmp_path), log=lambda _line: None)
    assert signal.getsignal(signal.SIGTERM) is before
