"""The offline render: evaluating a stack, and writing its export safely, whole and reproducibly."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from stackyard.chartsource import RECORD
from stackyard.cli import EXIT_BAD_INPUT, main
from stackyard.project import placeholder
from stackyard.render import Rendering, evaluate_stack, write_rendering
from tests.conftest import ROOT, STACKS
from tests.stackyard.conftest import tree

#: The marker file a render leaves in the dev export; later renders replace only folders holding one.
DEV_MARKER = "Rendered by stackyard from stackyard/dev. This folder is replaced as a whole on every render.\n"


class TestRenderLayout:
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
            write_rendering(evaluate_stack(ROOT, stack, charts=RECORD), first)
            write_rendering(evaluate_stack(ROOT, stack, charts=RECORD), second)
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
        assert main(["render", "--charts", "record", "dev", "--project", str(project), "--out", str(out)]) == 0
        before = tree(out)
        stack_file = project / "Pulumi.dev.yaml"
        stack_file.write_text(stack_file.read_text().replace("replicas: 1", "replicas: -1", 1))
        assert (
            main(["render", "--charts", "record", "dev", "--project", str(project), "--out", str(out)])
            == EXIT_BAD_INPUT
        )
        assert tree(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]  # no staging folder left

    def test_a_folder_that_is_not_an_export_is_never_replaced(self, tmp_path: Path) -> None:
        precious = tmp_path / "precious"
        precious.mkdir()
        (precious / "notes.txt").write_text("keep me")
        assert (
            main(["render", "--charts", "record", "dev", "--project", str(ROOT), "--out", str(precious)])
            == EXIT_BAD_INPUT
        )
        assert (precious / "notes.txt").read_text() == "keep me"

    def test_a_re_render_replaces_the_previous_export_as_a_whole(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        assert main(["render", "--charts", "record", "dev", "--project", str(ROOT), "--out", str(out)]) == 0
        stale = out / "1-manifest" / "stale.yaml"
        stale.write_text("kind: Stale\n")
        assert main(["render", "--charts", "record", "dev", "--project", str(ROOT), "--out", str(out)]) == 0
        assert not stale.exists()
        # The marker is how a later render recognises a folder it may replace: its name is a contract.
        assert (out / ".stackyard-export").read_text() == DEV_MARKER

    def test_the_export_folder_is_as_readable_as_any_folder_the_user_makes(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        assert main(["render", "--charts", "record", "dev", "--project", str(ROOT), "--out", str(out)]) == 0
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
            ".stackyard-export": DEV_MARKER.encode()
        }

    def test_an_export_of_another_stack_is_never_replaced(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = tmp_path / "out"
        assert main(["render", "--charts", "record", "prod", "--project", str(ROOT), "--out", str(out)]) == 0
        before = tree(out)
        assert (
            main(["render", "--charts", "record", "dev", "--project", str(ROOT), "--out", str(out)]) == EXIT_BAD_INPUT
        )
        assert (
            "holds the export of stackyard/prod, which rendering stackyard/dev would replace" in capsys.readouterr().err
        )
        assert tree(out) == before
