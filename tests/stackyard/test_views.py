"""One view of an export, whether it was just rendered or is read back from its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.chartsource import RECORD
from stackyard.render import RenderError, Rendering, write_rendering
from stackyard.views import ExportView, from_directory, from_rendering, is_export_dir, resolve
from tests.conftest import ROOT


class TestExportViews:
    def test_an_export_read_back_is_the_rendering_it_was_written_from(
        self, rendered: dict[str, Rendering], tmp_path: Path
    ) -> None:
        write_rendering(rendered["staging"], tmp_path / "staging")
        fresh, on_disk = from_rendering(rendered["staging"]), from_directory(tmp_path / "staging")
        assert on_disk.manifests == fresh.manifests
        assert on_disk.records == fresh.records
        assert (fresh.label, on_disk.label) == ("stackyard/staging", str(tmp_path / "staging"))

    def test_bodies_come_in_the_order_of_their_paths_crds_first(self) -> None:
        view = ExportView(
            label="x",
            manifests={
                "1-manifest/b.yaml": {"kind": "B"},
                "0-crd/z.yaml": {"kind": "Z"},
                "1-manifest/a.yaml": {"kind": "A"},
            },
            records={},
        )
        assert view.bodies() == [{"kind": "Z"}, {"kind": "A"}, {"kind": "B"}]

    def test_a_folder_is_an_export_when_it_holds_an_index_or_a_manifest_folder(self, tmp_path: Path) -> None:
        assert not is_export_dir(str(tmp_path))
        assert not is_export_dir("dev")  # a stack's name, not a folder
        (tmp_path / "1-manifest").mkdir()
        assert is_export_dir(str(tmp_path))

    def test_a_missing_or_empty_folder_is_refused_saying_what_was_expected(self, tmp_path: Path) -> None:
        with pytest.raises(RenderError, match="no such export folder"):
            from_directory(tmp_path / "missing")
        with pytest.raises(RenderError, match=r"holds no manifests \(expected 0-crd or 1-manifest/\*\.yaml\)"):
            from_directory(tmp_path)

    def test_a_manifest_that_is_not_one_object_is_refused_naming_the_file(self, tmp_path: Path) -> None:
        (tmp_path / "1-manifest").mkdir()
        (tmp_path / "1-manifest" / "list.yaml").write_text("- a\n- b\n")
        with pytest.raises(RenderError, match=r"1-manifest/list\.yaml: expected one object"):
            from_directory(tmp_path)

    def test_a_target_is_read_as_a_folder_if_it_is_an_export_and_rendered_as_a_stack_otherwise(
        self, rendered: dict[str, Rendering], tmp_path: Path
    ) -> None:
        write_rendering(rendered["dev"], tmp_path / "dev")
        assert resolve(str(tmp_path / "dev"), ROOT).label == str(tmp_path / "dev")
        assert resolve("dev", ROOT, charts=RECORD).label == "stackyard/dev"
