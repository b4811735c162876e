"""The offline render: layout, determinism, atomic replacement and the CLI's behaviour."""

from __future__ import annotations

import gc
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from stackyard import mockrt
from stackyard.cli import EXIT_BAD_INPUT, main
from stackyard.project import placeholder
from stackyard.render import EXPORT_MARKER, Rendering, evaluate_stack, write_rendering
from tests.conftest import ROOT, STACKS


def tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of the project, so tests can break its files."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "out", ".git", "*cache*", "tests"))
    return copy


class TestRenderLayout:
    def test_files_follow_the_render_yaml_to_directory_naming(self, rendered: dict[str, Rendering]) -> None:
        files = rendered["dev"].files()
        assert "1-manifest/apps_v1-deployment-shop-dev-api.yaml" in files
        assert "1-manifest/v1-namespace-default-shop-dev.yaml" in files
        assert "1-manifest/policy_v1-poddisruptionbudget-shop-dev-frontend.yaml" in files
        assert {path.split("/")[0] for path in files} == {"1-manifest", "charts", "index.json", "kustomization.yaml"}

    def test_each_file_holds_one_object_whose_identity_matches_its_name(self, rendered: dict[str, Rendering]) -> None:
        for stack in STACKS:
            for path, text in rendered[stack].files().items():
                if not path.startswith("1-manifest/"):
                    continue
                (body,) = list(yaml.safe_load_all(text))
                meta = body["metadata"]
                api = body["apiVersion"].replace("/", "_")
                expected = f"{api}-{body['kind'].lower()}-{meta.get('namespace', 'default')}-{meta['name']}.yaml"
                assert path == f"1-manifest/{expected}"

    def test_keys_are_sorted_and_integers_stay_integers(self, rendered: dict[str, Rendering]) -> None:
        text = rendered["dev"].files()["1-manifest/apps_v1-deployment-shop-dev-api.yaml"]
        assert "replicas: 1\n" in text
        assert not re.search(r": -?[0-9]+\.0$", text, re.MULTILINE)
        top_level = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
        assert top_level == sorted(top_level)

    def test_the_three_stacks_differ_only_in_values_not_in_shape(self, rendered: dict[str, Rendering]) -> None:
        def shape(stack: str) -> set[tuple[str, str]]:
            # Replica bounds and the route API are per-environment values; the rest has one shape.
            varying = ("Namespace", "ConfigMap", "HorizontalPodAutoscaler", "Ingress", "HTTPRoute", "Gateway")
            varying += ("GatewayClass", "Secret")  # backend credentials differ per environment
            return {(m.kind, m.name) for m in rendered[stack].manifests if m.kind not in varying}

        assert shape("dev") == shape("staging") == shape("prod")
        assert len(shape("dev")) > 10

    def test_prod_pins_every_image_by_digest(self, rendered: dict[str, Rendering]) -> None:
        deployments = [m.body for m in rendered["prod"].manifests if m.kind == "Deployment"]
        assert len(deployments) == 3
        for body in deployments:
            for container in body["spec"]["template"]["spec"]["containers"]:
                assert "@sha256:" in container["image"]


class TestRenderDeterminism:
    def test_rendering_twice_gives_byte_identical_files(self, tmp_path: Path) -> None:
        for stack in STACKS:
            first, second = tmp_path / f"{stack}-1", tmp_path / f"{stack}-2"
            write_rendering(evaluate_stack(ROOT, stack), first)
            write_rendering(evaluate_stack(ROOT, stack), second)
            assert tree(first) == tree(second)
            assert len(tree(first)) > 10


class TestRenderSafety:
    def test_secure_config_becomes_a_marked_placeholder_and_never_reaches_the_export(
        self, rendered: dict[str, Rendering]
    ) -> None:
        rendering = rendered["dev"]
        assert "stackyard:apiDatabasePassword" in rendering.inputs.placeholders
        secret = rendering.files()["1-manifest/v1-secret-shop-dev-api-database.yaml"]
        assert "password: <redacted sha256:" in secret
        everything = "".join(rendering.files().values())
        assert placeholder("stackyard:apiDatabasePassword") not in everything
        assert "not decrypted" not in everything

    def test_a_failed_render_leaves_the_previous_export_untouched(self, project: Path, tmp_path: Path) -> None:
        out = tmp_path / "out"
        assert main(["render", "dev", "--project", str(project), "--out", str(out)]) == 0
        before = tree(out)
        stack_file = project / "Pulumi.dev.yaml"
        stack_file.write_text(stack_file.read_text().replace("replicas: 1", "replicas: -1", 1))
        assert main(["render", "dev", "--project", str(project), "--out", str(out)]) == EXIT_BAD_INPUT
        assert tree(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]  # no staging folder left

    def test_a_folder_that_is_not_an_export_is_never_replaced(self, tmp_path: Path) -> None:
        precious = tmp_path / "precious"
        precious.mkdir()
        (precious / "notes.txt").write_text("keep me")
        assert main(["render", "dev", "--project", str(ROOT), "--out", str(precious)]) == EXIT_BAD_INPUT
        assert (precious / "notes.txt").read_text() == "keep me"

    def test_a_re_render_replaces_the_previous_export_as_a_whole(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        assert main(["render", "dev", "--project", str(ROOT), "--out", str(out)]) == 0
        stale = out / "1-manifest" / "stale.yaml"
        stale.write_text("kind: Stale\n")
        assert main(["render", "dev", "--project", str(ROOT), "--out", str(out)]) == 0
        assert not stale.exists()
        assert (out / EXPORT_MARKER).is_file()


class TestCli:
    def test_bad_config_prints_every_problem_without_a_traceback(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stack_file = project / "Pulumi.dev.yaml"
        text = stack_file.read_text().replace(
            "      port: 8080\n      replicas: 1", "      port: 99999\n      replicsa: 1"
        )
        stack_file.write_text(text)
        code = main(["render", "dev", "--project", str(project), "--out", str(tmp_path / "out")])
        captured = capsys.readouterr()
        assert code == EXIT_BAD_INPUT
        assert "stackyard:apps[0].port: 99999 is not allowed" in captured.err
        assert "stackyard:apps[0].replicsa: unknown key (value 1); did you mean 'replicas'?" in captured.err
        assert "Traceback" not in captured.err + captured.out
        assert not (tmp_path / "out").exists()

    def test_an_unknown_stack_lists_the_stacks_there_are(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["render", "nosuchstack", "--project", str(ROOT), "--out", "unused"]) == EXIT_BAD_INPUT
        listed = capsys.readouterr().err.split("stacks here: ")[1].split("\n")[0]
        assert all(stack in listed.split(", ") for stack in STACKS)
        assert not (Path.cwd() / "unused").exists()

    def test_a_bad_stack_name_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["render", "../etc", "--project", str(ROOT)])
        assert exit_info.value.code == 2
        assert "a stack name has" in capsys.readouterr().err

    def test_a_missing_project_file_is_reported(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["preview", "dev", "--project", str(tmp_path)]) == EXIT_BAD_INPUT
        assert "no Pulumi.yaml here" in capsys.readouterr().err

    def test_render_prints_counts_and_the_placeholder_note(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["render", "dev", "--project", str(ROOT), "--out", str(tmp_path / "dev")]) == 0
        out = capsys.readouterr().out
        assert "Deployment" in out
        assert "Rendered 42 objects of stackyard/dev" in out
        assert "Recorded 2 chart(s) and remote file(s) under charts/" in out
        assert "stackyard:apiDatabasePassword is a secure value that cannot be decrypted offline" in out

    def test_preview_prints_the_component_tree_and_counts(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["preview", "prod", "--project", str(ROOT)]) == 0
        out = capsys.readouterr().out
        lines = out.splitlines()
        app = next(i for i, line in enumerate(lines) if "stackyard:index:App  api" in line)
        assert "kubernetes:apps/v1:Deployment  api" in lines[app + 1]
        assert "HorizontalPodAutoscaler" in out
        assert "total" in out


class TestInputChecks:
    def test_an_unknown_top_level_key_in_a_stack_file_is_named(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stack_file = project / "Pulumi.dev.yaml"
        stack_file.write_text(stack_file.read_text().replace("config:", "confg:", 1))
        assert main(["preview", "dev", "--project", str(project)]) == EXIT_BAD_INPUT
        assert "unknown top-level key 'confg'; did you mean 'config'?" in capsys.readouterr().err

    def test_an_export_of_another_stack_is_never_replaced(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = tmp_path / "out"
        assert main(["render", "prod", "--project", str(ROOT), "--out", str(out)]) == 0
        before = tree(out)
        assert main(["render", "dev", "--project", str(ROOT), "--out", str(out)]) == EXIT_BAD_INPUT
        assert (
            "holds the export of stackyard/prod, which rendering stackyard/dev would replace" in capsys.readouterr().err
        )
        assert tree(out) == before

    def test_secrets_the_stack_does_not_create_are_warned_about(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stack_file = project / "Pulumi.dev.yaml"
        text = stack_file.read_text().replace(
            "      secretFiles: [api-database]", "      secretFiles: [api-databse]", 1
        )
        stack_file.write_text(text)
        assert main(["preview", "dev", "--project", str(project)]) == 0
        err = capsys.readouterr().err
        assert "uses Secret 'api-databse', which stackyard:secrets does not create" in err


class TestSeveralStacks:
    def test_rendering_several_stacks_at_once_gives_the_files_of_one_at_a_time(self, tmp_path: Path) -> None:
        # A process of its own: the parallel path forks only where no other thread runs, unlike here.
        together = tmp_path / "together"
        command = [sys.executable, "-m", "stackyard", "render", *STACKS, "--out", str(together)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        for stack in STACKS:
            assert f"objects of stackyard/{stack} to {together / stack}" in out
            alone = tmp_path / f"alone-{stack}"
            assert main(["render", stack, "--project", str(ROOT), "--out", str(alone)]) == 0
            assert tree(together / stack) == tree(alone)

    def test_a_render_process_that_dies_fails_its_stack_and_the_others_still_render(
        self, project: Path, tmp_path: Path
    ) -> None:
        # Not an exception the program raises (those are reported like a single render's) but a
        # process gone without a word, as after a segfault or the OOM killer.
        main_file = project / "__main__.py"
        dies_in_staging = "import os\n\nimport pulumi\n\nif pulumi.get_stack() == 'staging':\n    os._exit(7)\n"
        main_file.write_text(main_file.read_text().replace("import pulumi\n", dies_in_staging))
        out = tmp_path / "out"
        command = [sys.executable, "-m", "stackyard", "render", *STACKS, "--project", str(project), "--out", str(out)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 1, result.stderr
        assert "staging: the render process exited with status 7 before reporting" in " ".join(result.stderr.split())
        assert not (out / "staging").exists()
        for stack in set(STACKS) - {"staging"}:
            assert (out / stack / "index.json").is_file()

    def test_ctrl_c_stops_every_render_process_quietly_and_writes_nothing(self, project: Path, tmp_path: Path) -> None:
        started = tmp_path / "started"
        started.mkdir()
        # Each stack's program says it has started, then waits to be interrupted.
        waits = (
            "import time\nfrom pathlib import Path\n\nimport pulumi\n\n"
            f"Path({str(started)!r}, pulumi.get_stack()).touch()\ntime.sleep(60)\n"
        )
        main_file = project / "__main__.py"
        main_file.write_text(main_file.read_text().replace("import pulumi\n", waits))
        out = tmp_path / "out"
        command = [sys.executable, "-m", "stackyard", "render", *STACKS, "--project", str(project), "--out", str(out)]
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while len(list(started.iterdir())) < len(STACKS) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(path.name for path in started.iterdir()) == sorted(STACKS)
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130
        assert stderr == "stackyard: interrupted\n"
        assert not out.exists()
        assert not [path for path in tmp_path.iterdir() if path.name.startswith(".out.")]

    def test_a_failing_stack_fails_the_run_and_the_others_still_render(
        self, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stack_file = project / "Pulumi.staging.yaml"
        stack_file.write_text(stack_file.read_text().replace("replicas: 2", "replicas: -2", 1))
        out = tmp_path / "out"
        assert main(["render", "dev", "staging", "--project", str(project), "--out", str(out)]) == EXIT_BAD_INPUT
        assert "staging: invalid stack configuration" in capsys.readouterr().err
        assert (out / "dev" / "index.json").is_file()
        assert not (out / "staging").exists()


class TestProgramRun:
    def test_the_cyclic_collector_is_paused_while_the_program_runs_and_restored_after(self) -> None:
        seen: list[bool] = []
        was_enabled = gc.isenabled()
        try:
            for enabled in (True, False):
                (gc.enable if enabled else gc.disable)()
                mockrt.evaluate(lambda: seen.append(gc.isenabled()), project="p", stack="s", config={}, secret_keys=[])
                assert gc.isenabled() is enabled
        finally:
            (gc.enable if was_enabled else gc.disable)()
        assert seen == [False, False]
