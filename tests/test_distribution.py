"""Publishing: the wheel and sdist build, and a consumer renders its own program from the installed wheel."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "stackyard"
    # Build from a copy, so the build never leaves egg-info or build/ in the working tree.
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".venv*", "out", "audit", ".git", ".*_cache", "__pycache__", "build"),
    )
    run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", str(out)], source)
    run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(out), "."], source)
    return out


#: Run first in a subprocess: the command's extra (rich, the Kubernetes client, kubernetes-validate)
#: cannot be imported, as if ``pip install stackyard-k8s`` had been run without ``[cli]``.
WITHOUT_THE_CLI_EXTRA = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"rich", "kubernetes", "kubernetes_validate"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""


def run_from_wheel(wheel: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with the wheel first on the path (pure Python imports from a zip) and the extra blocked."""
    env = {**os.environ, "PYTHONPATH": str(wheel)}
    command = [sys.executable, "-c", WITHOUT_THE_CLI_EXTRA + code]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    return [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist:")]


class TestDistribution:
    def test_the_wheel_holds_the_library_the_policies_and_the_cli_under_distinct_names(self, dist: Path) -> None:
        (wheel,) = dist.glob("stackyard_k8s-*.whl")
        names = zipfile.ZipFile(wheel).namelist()
        tops = {name.split("/")[0] for name in names if not name.endswith(".dist-info/") and "/" in name}
        assert {t for t in tops if not t.endswith(".dist-info")} == {
            "stackyard",
            "stackyard_components",
            "stackyard_policy",
        }
        for package in ("stackyard", "stackyard_components", "stackyard_policy"):
            assert f"{package}/py.typed" in names
        entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        assert "stackyard = stackyard.__main__:run" in entry_points

    def test_the_library_requires_neither_rich_nor_the_kubernetes_client_and_the_cli_extra_does(
        self, dist: Path
    ) -> None:
        (wheel,) = dist.glob("stackyard_k8s-*.whl")
        required = requirements(wheel)
        names = {re.split(r"[ ;<>=!~\[]", requirement, maxsplit=1)[0].lower(): requirement for requirement in required}
        unconditional = {name for name, requirement in names.items() if ";" not in requirement}
        assert unconditional == {"pulumi", "pulumi-kubernetes", "pydantic", "pyyaml"}
        cli = {name for name, requirement in names.items() if re.search(r"""; *extra *== *["']cli["']""", requirement)}
        assert cli == {"rich", "kubernetes", "kubernetes-validate", "jsonschema"}

    def test_the_library_imports_without_the_cli_extra(self, dist: Path, tmp_path: Path) -> None:
        (wheel,) = dist.glob("stackyard_k8s-*.whl")
        code = (
            "import stackyard_components, stackyard_policy\n"
            "from stackyard_components import validation\n"
            f"print(stackyard_components.__file__.startswith({str(wheel)!r}), validation.quantity_value('1Ki'))\n"
            "import rich\n"
        )
        result = run_from_wheel(wheel, code, tmp_path)
        assert result.stdout == "True 1024\n", result.stderr
        # The blocker works: the last line could not import rich.
        assert result.stderr.rstrip().endswith("ModuleNotFoundError: No module named 'rich'")

    def test_without_the_cli_extra_the_command_names_the_extra_and_exits_2(self, dist: Path, tmp_path: Path) -> None:
        (wheel,) = dist.glob("stackyard_k8s-*.whl")
        # What the installed `stackyard` script does: load the console_scripts entry point and call it.
        code = (
            "from importlib.metadata import entry_points\n"
            "(command,) = entry_points(group='console_scripts', name='stackyard')\n"
            "sys.argv = ['stackyard', 'render', 'dev']\n"
            "sys.exit(command.load()())\n"
        )
        result = run_from_wheel(wheel, code, tmp_path)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr == (
            "stackyard: the command needs the [cli] extra (rich is missing): pip install 'stackyard-k8s[cli]'\n"
        )

    def test_the_version_is_single_sourced(self, dist: Path) -> None:
        match = re.search(r'__version__ = "([^"]+)"', (ROOT / "components" / "_version.py").read_text())
        assert match is not None
        version = match[1]
        assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", version)
        assert (dist / f"stackyard_k8s-{version}-py3-none-any.whl").is_file()
        assert (dist / f"stackyard_k8s-{version}.tar.gz").is_file()
        assert f"## {version}" in (ROOT / "CHANGELOG.md").read_text()

    def test_the_sdist_carries_the_sources_under_their_repository_names(self, dist: Path) -> None:
        (sdist,) = dist.glob("stackyard_k8s-*.tar.gz")
        with tarfile.open(sdist) as archive:
            members = {m.split("/", 1)[1] for m in archive.getnames() if "/" in m}
        assert {
            "components/workload.py",
            "policy/rules.py",
            "stackyard/cli.py",
            "pyproject.toml",
            "README.md",
        } <= members

    def test_a_consumer_installs_the_wheel_and_renders_its_own_program(self, dist: Path, tmp_path: Path) -> None:
        (wheel,) = dist.glob("stackyard_k8s-*.whl")
        venv = tmp_path / "venv"
        run([sys.executable, "-m", "venv", str(venv)], tmp_path)
        pip_env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        # The same pins as this repository, so the test does not depend on what PyPI released today.
        run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "-c",
                str(ROOT / "requirements.txt"),
                f"{wheel}[cli]",  # the command, which this test runs, needs its extra
            ],
            tmp_path,
            pip_env,
        )
        consumer = tmp_path / "consumer"
        shutil.copytree(ROOT / "examples" / "consumer", consumer)
        # Run outside the repository, so nothing can be imported from the working tree.
        out = tmp_path / "rendered"
        # No expander (a Go binary, not in the wheel) in this venv: the charts are exported as records.
        command = [str(venv / "bin" / "stackyard"), "render", "dev", "--project", str(consumer), "--out", str(out)]
        result = run([*command, "--charts", "record"], tmp_path)
        assert "Rendered" in result.stdout
        deployment = yaml.safe_load((out / "1-manifest" / "apps_v1-deployment-orders-dev-orders-api.yaml").read_text())
        assert deployment["spec"]["replicas"] == 2
        assert (
            deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/orders/api:2.3.1"
        )
        assert (out / "1-manifest" / "networking.k8s.io_v1-networkpolicy-orders-dev-default-deny.yaml").is_file()
        audit = run(
            [str(venv / "bin" / "stackyard"), "audit", str(out), "--report", str(tmp_path / "audit.json")], tmp_path
        )
        assert "audit passed" in audit.stdout
        probe = "import importlib.util as u; print(u.find_spec('components'), u.find_spec('policy'))"
        assert run([str(venv / "bin" / "python"), "-c", probe], tmp_path).stdout.strip() == "None None"
        # The worker's call to the API, compiled by the library's intent compiler, opened the API to it.
        api_policy = yaml.safe_load(
            (out / "1-manifest" / "networking.k8s.io_v1-networkpolicy-orders-dev-orders-api.yaml").read_text()
        )
        assert api_policy["spec"]["ingress"] == [
            {
                "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-worker"}}}],
                "ports": [{"port": 8080, "protocol": "TCP"}],
            }
        ]
        # A deprecation names the import the user wrote, not this repository's folder name.
        deprecated = (
            "import warnings, stackyard_components as s; s._DEPRECATED['WebApp'] = ('App', '1.0.0'); "
            "warnings.simplefilter('always'); s.WebApp"
        )
        warning = run([str(venv / "bin" / "python"), "-c", deprecated], tmp_path).stderr
        assert (
            "stackyard_components.WebApp is deprecated and goes away in 1.0.0; use stackyard_components.App" in warning
        )
