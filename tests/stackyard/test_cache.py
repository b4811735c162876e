"""The cache folder's location and its atomic writes, which concurrent renders rely on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stackyard.cache import CACHE_ENV, cache_root, write_atomically


class TestCacheRoot:
    def test_the_environment_variable_names_the_folder(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert cache_root() == tmp_path / "mine"  # used as given: no "stackyard" appended

    def test_without_it_the_xdg_cache_home_holds_a_stackyard_folder(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.delenv(CACHE_ENV, raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert cache_root() == tmp_path / "xdg" / "stackyard"

    @pytest.mark.parametrize("unset", ["absent", "empty"])
    def test_by_default_it_is_under_the_home_folders_cache(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, unset: str
    ) -> None:
        # An empty variable counts as unset, as the shell's ${VAR:-default} does.
        for name in (CACHE_ENV, "XDG_CACHE_HOME"):
            if unset == "absent":
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, "")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert cache_root() == tmp_path / "home" / ".cache" / "stackyard"


class TestWriteAtomically:
    def test_it_writes_the_bytes_creating_missing_folders(self, tmp_path: Path) -> None:
        target = tmp_path / "a" / "b" / "c.json"
        data = b'{"x": 1}\n\x00\xff'
        write_atomically(target, data)
        assert target.read_bytes() == data
        assert os.listdir(target.parent) == ["c.json"]  # no temporary file is left behind

    def test_it_replaces_an_existing_file_whole(self, tmp_path: Path) -> None:
        target = tmp_path / "c.txt"
        target.write_bytes(b"an old and much longer content")
        write_atomically(target, b"new")
        assert target.read_bytes() == b"new"
        assert os.listdir(tmp_path) == ["c.txt"]

    def test_a_reader_holding_the_old_file_keeps_reading_the_old_bytes(self, tmp_path: Path) -> None:
        # A rename over the file, not a rewrite in place: an open reader's file is untouched.
        target = tmp_path / "c.txt"
        target.write_bytes(b"old")
        with target.open("rb") as reader:
            write_atomically(target, b"new")
            assert reader.read() == b"old"
        assert target.read_bytes() == b"new"

    def test_the_temporary_file_is_beside_the_target(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        # Beside it, so the rename stays on one file system and is atomic.
        renames: list[tuple[str, str]] = []
        real_replace = os.replace

        def recording_replace(source: str, destination: Path) -> None:
            renames.append((str(source), str(destination)))
            real_replace(source, destination)

        monkeypatch.setattr(os, "replace", recording_replace)
        target = tmp_path / "sub" / "c.txt"
        write_atomically(target, b"x")
        [(source, destination)] = renames
        assert Path(source).parent == target.parent
        assert Path(source).name.startswith(".c.txt.")
        assert destination == str(target)

    def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        target = tmp_path / "c.txt"
        target.write_bytes(b"old")

        def failing_replace(*_: object) -> None:
            raise OSError("disk gone")

        monkeypatch.setattr(os, "replace", failing_replace)
        with pytest.raises(OSError, match="disk gone"):
            write_atomically(target, b"new")
        assert target.read_bytes() == b"old"
        assert os.listdir(tmp_path) == ["c.txt"]

    def test_an_interrupted_write_leaves_nothing_that_looks_finished(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Ctrl-C is a BaseException, not an Exception: it must clean up too.
        def interrupted_replace(*_: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "replace", interrupted_replace)
        with pytest.raises(KeyboardInterrupt):
            write_atomically(tmp_path / "c.txt", b"new")
        assert os.listdir(tmp_path) == []
