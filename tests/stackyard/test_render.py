"""The offline render: layout, determinism, atomic replacement and the CLI's behaviour."""

from __future__ import annotations

import gc
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
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
            alertmanager_only = {("NetworkPolicy", "allow-alertmanager-receivers")}  # dev runs no Alertmanager
            return {(m.kind, m.name) for m in rendered[stack].manifests if m.kind not in varying} - alertmanager_only

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

    def test_the_export_folder_is_as_readable_as_any_folder_the_user_makes(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        assert main(["render", "dev", "--project", str(ROOT), "--out", str(out)]) == 0
        (tmp_path / "made-by-hand").mkdir()
        assert out.stat().st_mode & 0o777 == (tmp_path / "made-by-hand").stat().st_mode & 0o777

    @pytest.mark.parametrize("receiver", ["main-thread", "other-thread"])
    def test_an_interruption_during_the_swap_waits_until_the_new_export_is_in_place(
        self, rendered: dict[str, Rendering], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: str
    ) -> None:
        out = tmp_path / "out"
        write_rendering(rendered["dev"], out)
        (out / "1-manifest" / "stale.yaml").write_text("kind: Stale\n")
        # The kernel hands a process's signal to any of its threads (the SDK leaves executor
        # threads behind); Python then runs the handler in the main thread all the same.
        release = threading.Event()
        bystander = threading.Thread(target=release.wait)
        bystander.start()
        rename = Path.rename

        def rename_then_get_interrupted(source: Path, target: Path) -> Path:
            # The signal arrives between the two renames of the swap: the old export is moved aside
            # and the new one not yet moved in.
            moved = rename(source, target)
            if target.name.endswith(".previous"):
                thread = threading.main_thread() if receiver == "main-thread" else bystander
                assert thread.ident is not None
                signal.pthread_kill(thread.ident, signal.SIGINT)
                time.sleep(0.2)  # time for the receiving thread to take the signal before the swap goes on
            return moved

        monkeypatch.setattr(Path, "rename", rename_then_get_interrupted)
        # A job a shell starts in the background without job control inherits SIGINT ignored, and
        # the export then rightly ignores it too: this test is about Python's default handler.
        inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with pytest.raises(KeyboardInterrupt):
                write_rendering(rendered["dev"], out)
        finally:
            signal.signal(signal.SIGINT, inherited)
            monkeypatch.undo()
            release.set()
            bystander.join()
        assert tree(out) == {path: text.encode() for path, text in rendered["dev"].files().items()} | {
            EXPORT_MARKER: (out / EXPORT_MARKER).read_bytes()
        }


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

    @pytest.mark.parametrize("jobs", ["0", "-1", "two"])
    def test_jobs_must_be_a_whole_number_of_processes(self, jobs: str, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["render", "dev", "staging", "--jobs", jobs])
        assert exit_info.value.code == EXIT_BAD_INPUT
        assert f"argument --jobs: '{jobs}': expected a whole number of processes, 1 or more" in capsys.readouterr().err

    def test_the_command_exits_2_on_bad_input_and_flushes_what_it_printed(self, project: Path) -> None:
        # Through `python -m stackyard`, which ends with os._exit: nothing buffered may be lost.
        stack_file = project / "Pulumi.dev.yaml"
        stack_file.write_text(stack_file.read_text().replace("replicas: 1", "replicas: -1", 1))
        out = project / "out"
        command = [sys.executable, "-m", "stackyard", "render", "dev", "--project", str(project), "--out", str(out)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == EXIT_BAD_INPUT
        assert "invalid stack configuration" in result.stderr
        preview = [sys.executable, "-m", "stackyard", "preview", "staging", "--project", str(project)]
        result = subprocess.run(preview, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert re.search(r"│ total +│ +\d+ │", result.stdout)
        assert result.stdout.endswith("┘\n")  # the table's last line: the output was flushed whole

    def test_one_job_renders_several_stacks_one_after_another(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        assert main(["render", "dev", "staging", "--jobs", "1", "--project", str(ROOT), "--out", str(out)]) == 0
        assert (out / "dev" / "index.json").is_file()
        assert (out / "staging" / "index.json").is_file()

    def test_a_missing_project_file_is_reported(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["preview", "dev", "--project", str(tmp_path)]) == EXIT_BAD_INPUT
        assert "no Pulumi.yaml here" in capsys.readouterr().err

    def test_render_prints_counts_and_the_placeholder_note(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["render", "dev", "--project", str(ROOT), "--out", str(tmp_path / "dev")]) == 0
        out = capsys.readouterr().out
        assert "Deployment" in out
        written = len(list((tmp_path / "dev" / "1-manifest").glob("*.yaml")))
        assert written > 40
        assert f"Rendered {written} objects of stackyard/dev" in out
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


def _prepend_to_program(project: Path, prologue: str) -> None:
    """Put ``prologue`` (which imports pulumi itself) at the top of the project's program."""
    main_file = project / "__main__.py"
    main_file.write_text(main_file.read_text().replace("import pulumi\n", prologue))


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

    def test_a_render_process_that_dies_loses_only_its_own_stack(self, project: Path, tmp_path: Path) -> None:
        # Not an exception the program raises (those are reported like a single render's) but a
        # process gone without a word, as after a segfault or the OOM killer. Five stacks, two
        # processes at a time: qa's dies, the stacks before and after it still render.
        for extra in ("qa", "uat"):
            shutil.copy(project / "Pulumi.dev.yaml", project / f"Pulumi.{extra}.yaml")
        stacks = [*STACKS, "qa", "uat"]
        prologue = "import os\n\nimport pulumi\n\nif pulumi.get_stack() == 'qa':\n    os._exit(7)\n"
        _prepend_to_program(project, prologue)
        out = tmp_path / "out"
        command = [sys.executable, "-m", "stackyard", "render", *stacks, "--jobs", "2", "--project", str(project)]
        result = subprocess.run([*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 1, result.stderr
        assert "qa: the render process exited with status 7 before reporting" in " ".join(result.stderr.split())
        assert not (out / "qa").exists()
        for stack in set(stacks) - {"qa"}:
            assert (out / stack / "index.json").is_file()
            assert f"objects of stackyard/{stack} to" in result.stdout

    def test_a_program_that_does_not_parse_is_reported_for_each_stack(self, project: Path, tmp_path: Path) -> None:
        (project / "__main__.py").write_text("import pulumi\n\ndef main(:\n")
        out = tmp_path / "out"
        command = [sys.executable, "-m", "stackyard", "render", "dev", "staging", "--project", str(project)]
        result = subprocess.run([*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 1
        assert result.stderr.startswith("error: dev: ")
        assert "error: staging: " in result.stderr
        assert result.stderr.count("SyntaxError") == 2
        assert not out.exists()

    @pytest.mark.parametrize(
        ("signal_number", "to_group", "exit_code"),
        [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)],
        ids=["ctrl-c-to-the-whole-group", "sigterm-to-the-command-alone"],
    )
    def test_an_interrupted_render_stops_every_process_quietly_and_writes_nothing(
        self, project: Path, tmp_path: Path, signal_number: int, to_group: bool, exit_code: int
    ) -> None:
        started = tmp_path / "started"
        started.mkdir()
        # Each stack's program says it has started, then waits to be interrupted.
        prologue = (
            "import time\nfrom pathlib import Path\n\nimport pulumi\n\n"
            f"Path({str(started)!r}, pulumi.get_stack()).touch()\ntime.sleep(60)\n"
        )
        _prepend_to_program(project, prologue)
        out = tmp_path / "out"
        command = [sys.executable, "-m", "stackyard", "render", *STACKS, "--project", str(project), "--out", str(out)]
        process = psutil.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while len(list(started.iterdir())) < len(STACKS) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(path.name for path in started.iterdir()) == sorted(STACKS)
        workers = process.children()
        assert workers
        if to_group:
            os.killpg(process.pid, signal_number)  # what a terminal's Ctrl-C does
        else:
            process.send_signal(signal_number)  # what a CI runner's cancel or `timeout` does
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == exit_code
        assert stderr == "stackyard: interrupted\n"
        assert not [worker for worker in workers if worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE]
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
