"""Finding the chart expander, checking its protocol, and running it hermetically.

Most tests use small fake expanders (Python scripts in tmp_path), so the protocol handling is
tested where Go is absent too; the last class runs the real binary and skips without it.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from stackyard import expander as expander_module
from stackyard.expander import EXPANDER_ENV, EXPANDER_NAME, PROTOCOL, Expander, ExpanderError, find_expander


def script(folder: Path, body: str, name: str = EXPANDER_NAME) -> Path:
    """An executable Python script at ``folder/name`` running ``body`` (with json, os, sys imported)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport json, os, sys, time\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def version_script(folder: Path, described: dict[str, object], name: str = EXPANDER_NAME) -> Path:
    """A fake expander whose ``version`` prints ``described``; any request gets an empty answer."""
    return script(
        folder,
        f"if sys.argv[1:] == ['version']:\n    print(json.dumps({described!r}))\nelse:\n"
        "    print(json.dumps({'objects': [], 'hooks': []}))",
        name,
    )


GOOD_VERSION = {"protocol": PROTOCOL, "helm": "v3.99.1", "provider": "9.8.7", "kubeVersion": "v1.40.0"}


def fake(path: Path) -> Expander:
    return Expander(path=path, helm="v3.99.1", provider="9.8.7", kube_version="v1.40.0")


class TestFindExpander:
    def test_the_variable_comes_first_and_its_description_is_read(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = version_script(tmp_path / "explicit", GOOD_VERSION, name="my-expander")
        monkeypatch.setenv(EXPANDER_ENV, str(path))
        found = find_expander()
        assert found.path == path
        assert found.identity() == {"helm": "v3.99.1", "provider": "9.8.7", "kubeVersion": "v1.40.0"}

    def test_a_missing_path_in_the_variable_is_named(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        missing = tmp_path / "nowhere" / EXPANDER_NAME
        monkeypatch.setenv(EXPANDER_ENV, str(missing))
        with pytest.raises(ExpanderError) as raised:
            find_expander()
        assert str(raised.value) == f"{EXPANDER_ENV}={missing}: no such file"

    def test_a_folder_in_the_variable_is_no_expander(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv(EXPANDER_ENV, str(tmp_path))
        with pytest.raises(ExpanderError, match="no such file"):
            find_expander()

    def test_a_file_that_cannot_be_run_is_named_with_the_reason(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / EXPANDER_NAME
        path.write_text("#!/bin/sh\necho '{}'\n")  # not executable
        monkeypatch.setenv(EXPANDER_ENV, str(path))
        with pytest.raises(ExpanderError) as raised:
            find_expander()
        message = str(raised.value)
        assert message.startswith(f"{path} does not answer `version` as {EXPANDER_NAME} does")
        assert "Permission denied" in message

    def test_a_program_that_answers_garbage_is_refused(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        path = script(tmp_path, "print('stackyard-expand 1.0, built today')")
        monkeypatch.setenv(EXPANDER_ENV, str(path))
        with pytest.raises(ExpanderError) as raised:
            find_expander()
        assert str(raised.value).startswith(f"{path} does not answer `version` as {EXPANDER_NAME} does: ")
        assert "Expecting value" in str(raised.value)  # the JSON decoder's own reason

    @pytest.mark.parametrize("protocol", [PROTOCOL + 1, "1", None])
    def test_another_protocol_is_refused_with_both_protocols_named(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, protocol: object
    ) -> None:
        described = {**GOOD_VERSION, "protocol": protocol}
        path = version_script(tmp_path, {k: v for k, v in described.items() if v is not None})
        monkeypatch.setenv(EXPANDER_ENV, str(path))
        with pytest.raises(ExpanderError) as raised:
            find_expander()
        message = str(raised.value)
        assert message.startswith(f"{path} speaks protocol {protocol!r}, this stackyard speaks {PROTOCOL}")
        assert "make expander" in message

    def test_without_the_variable_the_one_beside_python_is_used_before_path(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        beside = version_script(tmp_path / "venv" / "bin", GOOD_VERSION)
        on_path = version_script(tmp_path / "path", {**GOOD_VERSION, "helm": "v0.0.1"})
        monkeypatch.delenv(EXPANDER_ENV, raising=False)
        monkeypatch.setattr(sys, "executable", str(beside.parent / "python"))
        monkeypatch.setenv("PATH", str(on_path.parent))
        assert find_expander().path == beside

    def test_else_the_one_on_path_is_used(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        on_path = version_script(tmp_path / "path", GOOD_VERSION)
        monkeypatch.setenv(EXPANDER_ENV, "")  # empty counts as unset
        monkeypatch.setattr(sys, "executable", str(tmp_path / "bare" / "python"))
        monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "empty"), str(on_path.parent)]))
        found = find_expander()
        assert found.path == on_path
        assert found.helm == "v3.99.1"

    def test_when_none_is_installed_the_message_says_how_to_get_one(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.delenv(EXPANDER_ENV, raising=False)
        monkeypatch.setattr(sys, "executable", str(tmp_path / "bare" / "python"))
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        with pytest.raises(ExpanderError) as raised:
            find_expander()
        message = str(raised.value)
        assert f"{EXPANDER_NAME}, which expands charts as the pinned provider does, is not installed" in message
        assert "make expander" in message
        assert EXPANDER_ENV in message
        assert "--charts record" in message


class TestHermeticEnvironment:
    def test_kubeconfig_and_helm_settings_are_stripped_and_the_rest_kept(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KUBECONFIG", "/home/me/.kube/config")
        monkeypatch.setenv("KUBE_CONTEXT", "prod")
        monkeypatch.setenv("HELM_REPOSITORY_CONFIG", "/home/me/repositories.yaml")
        monkeypatch.setenv("HELM_KUBECONTEXT", "prod")
        monkeypatch.setenv("STACKYARD_KEEP_ME", "yes")
        env = expander_module._hermetic_environment()
        assert env["KUBECONFIG"] == os.devnull + ".stackyard-no-cluster"  # a file that is never there
        assert not Path(env["KUBECONFIG"]).exists()
        assert [key for key in env if key.startswith(("HELM_", "KUBE")) and key != "KUBECONFIG"] == []
        assert env["STACKYARD_KEEP_ME"] == "yes"
        assert env["PATH"] == os.environ["PATH"]

    def test_the_expander_runs_with_it_and_gets_the_request_on_stdin(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        echo = script(
            tmp_path,
            "print(json.dumps({'argv': sys.argv[1:], 'request': json.load(sys.stdin), 'env': dict(os.environ)}))",
        )
        monkeypatch.setenv("KUBECONFIG", "/home/me/.kube/config")
        monkeypatch.setenv("HELM_REPOSITORY_CONFIG", "/home/me/repositories.yaml")
        monkeypatch.setenv("STACKYARD_KEEP_ME", "yes")
        request = {"mode": "chart", "chart": "/charts/traefik", "values": {"a": [1, "ü"]}}
        answer = fake(echo).run(request)
        assert answer["argv"] == []
        assert answer["request"] == request
        assert answer["env"]["KUBECONFIG"] == os.devnull + ".stackyard-no-cluster"
        assert "HELM_REPOSITORY_CONFIG" not in answer["env"]
        assert answer["env"]["STACKYARD_KEEP_ME"] == "yes"


class TestRun:
    def test_the_expanders_error_field_is_raised_as_its_message(self, tmp_path: Path) -> None:
        path = script(tmp_path, "print(json.dumps({'error': 'chart traefik: no Chart.yaml'}))\nsys.exit(1)")
        with pytest.raises(ExpanderError) as raised:
            fake(path).run({"mode": "chart"})
        assert str(raised.value) == "chart traefik: no Chart.yaml"

    def test_an_error_field_is_an_error_even_with_exit_status_0(self, tmp_path: Path) -> None:
        path = script(tmp_path, "print(json.dumps({'error': 'half done', 'objects': []}))")
        with pytest.raises(ExpanderError, match=r"^half done$"):
            fake(path).run({"mode": "chart"})

    def test_a_failing_exit_status_without_an_error_field_is_reported(self, tmp_path: Path) -> None:
        path = script(tmp_path, "print(json.dumps({'objects': []}))\nsys.exit(3)")
        with pytest.raises(ExpanderError, match=r"^exited 3$"):
            fake(path).run({"mode": "chart"})

    def test_an_answer_that_is_no_json_reports_the_status_and_stderr(self, tmp_path: Path) -> None:
        path = script(
            tmp_path, "print('partial {')\nprint('panic: runtime error: nil map', file=sys.stderr)\nsys.exit(2)"
        )
        with pytest.raises(ExpanderError) as raised:
            fake(path).run({"mode": "chart"})
        assert str(raised.value) == f"{path} exited 2 without an answer: panic: runtime error: nil map"

    def test_without_stderr_the_stdout_is_the_detail(self, tmp_path: Path) -> None:
        path = script(tmp_path, "print('not json at all')")
        with pytest.raises(ExpanderError) as raised:
            fake(path).run({"mode": "chart"})
        assert str(raised.value) == f"{path} exited 0 without an answer: not json at all"

    def test_a_long_stderr_is_cut_to_its_end(self, tmp_path: Path) -> None:
        path = script(tmp_path, "sys.stderr.write('x' * 5000 + 'THE END')\nsys.exit(1)")
        with pytest.raises(ExpanderError) as raised:
            fake(path).run({"mode": "chart"})
        detail = str(raised.value).split("without an answer: ", 1)[1]
        assert len(detail) == 2000
        assert detail.endswith("THE END")

    def test_a_binary_that_vanished_is_reported(self, tmp_path: Path) -> None:
        with pytest.raises(ExpanderError) as raised:
            fake(tmp_path / "gone").run({"mode": "chart"})
        assert str(raised.value).startswith(f"{tmp_path / 'gone'} could not be run: ")

    def test_a_hang_is_stopped(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(expander_module, "_TIMEOUT_SECONDS", 0.5)
        path = script(tmp_path, "time.sleep(30)")
        with pytest.raises(ExpanderError) as raised:
            fake(path).run({"mode": "chart"})
        assert str(raised.value) == f"{path} did not answer within 0.5 s"


def real_expander() -> Expander:
    """The built expander, or a skip saying why it is absent (as complete_charts() does)."""
    try:
        return find_expander()
    except ExpanderError as error:
        pytest.skip(f"needs the chart expander: {error}")


class TestRealExpander:
    def test_its_identity_names_the_modules_it_links(self) -> None:
        found = real_expander()
        assert os.access(found.path, os.X_OK)
        assert all(found.identity().values())
        assert "unknown" not in found.identity().values()  # moduleVersion's answer without build info
        assert found.helm.startswith("v3.")
        assert found.helm.count(".") == 2
        assert all(part.isdigit() for part in found.helm.removeprefix("v").split("."))
        assert all(part.isdigit() for part in found.provider.split("."))
        assert found.kube_version.startswith("v1.")

    def test_an_unknown_mode_is_refused_with_its_name(self) -> None:
        with pytest.raises(ExpanderError, match='mode "bogus"'):
            real_expander().run({"mode": "bogus"})

    def test_a_malformed_request_is_refused(self) -> None:
        with pytest.raises(ExpanderError, match="reading the request"):
            real_expander().run({"mode": ["chart"]})

    def test_objects_mode_defaults_the_namespace_and_normalises(self) -> None:
        config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "uid": "u"}, "data": {}}
        answer = real_expander().run({"mode": "objects", "objects": [config_map]})
        assert answer["hooks"] == []
        [entry] = answer["objects"]
        # Namespaced kind without a namespace: the provider's render mode puts it in "default";
        # the read-only uid and the omitempty empty data go.
        assert entry["object"] == {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default"},
        }

    def test_a_chart_that_does_not_exist_is_helms_error(self, tmp_path: Path) -> None:
        with pytest.raises(ExpanderError) as raised:
            real_expander().run({"mode": "chart", "chart": str(tmp_path / "missing"), "release": "r", "namespace": "n"})
        assert str(tmp_path / "missing") in str(raised.value)
