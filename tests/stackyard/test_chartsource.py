"""Where a stack's charts and remote files come from: chart folders, the cache, or a single download."""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path

import pytest

from stackyard.cache import CACHE_ENV
from stackyard.chartsource import (
    ChartOptions,
    ChartSourceError,
    ChartSpec,
    ChartUnavailableError,
    chart_identity,
    find_chart,
    find_file,
    local_file_name,
)
from tests.conftest import REFERENCE

REPO = "https://charts.example.invalid"
GATEWAY_API = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml"


def chart_folder(parent: Path, name: str, version: str, folder_name: str | None = None) -> Path:
    """An unpacked chart: just enough of one (a Chart.yaml and a template) for the finder."""
    folder = parent / (folder_name or name)
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    (folder / "templates" / "configmap.yaml").write_text("kind: ConfigMap\n")
    return folder


def chart_archive(path: Path, name: str, version: str) -> Path:
    """A ``.tgz`` laid out as ``helm package`` writes it: everything under ``<name>/``."""
    members = {
        f"{name}/Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: {version}\n".encode(),
        f"{name}/templates/configmap.yaml": b"kind: ConfigMap\n",
    }
    return _archive(path, members)


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def no_pull(spec: ChartSpec, folder: Path) -> Path:
    raise AssertionError(f"{spec.describe()} was downloaded into {folder}, though it was at hand")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache per test: a chart another test (or the developer) downloaded must not be found."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


class TestChartFolders:
    """``--chart-dir`` folders are searched first, in each of the layouts the module documents."""

    def test_an_unpacked_chart_in_a_folder_named_after_it_is_found(self, tmp_path: Path) -> None:
        charts = tmp_path / "charts"
        chart = chart_folder(charts, "demo", "1.2.3")
        found = find_chart(ChartSpec("demo", "1.2.3", REPO), ChartOptions(chart_dirs=(charts,)), no_pull)
        assert found.path == chart
        assert found.found_by == f"--chart-dir {charts}"
        assert (found.name, found.version) == ("demo", "1.2.3")

    @pytest.mark.parametrize("file_name", ["demo.tgz", "demo-1.2.3.tgz"])
    def test_a_packaged_chart_is_found_by_either_file_name(self, tmp_path: Path, file_name: str) -> None:
        charts = tmp_path / "charts"
        archive = chart_archive(charts / file_name, "demo", "1.2.3")
        found = find_chart(ChartSpec("demo", "1.2.3", REPO), ChartOptions(chart_dirs=(charts,)), no_pull)
        assert (found.path, found.version) == (archive, "1.2.3")

    def test_a_v_prefixed_pin_finds_the_archive_helm_pull_names_without_it(self, tmp_path: Path) -> None:
        # Pins are often written as the tag (v1.5.1); helm writes <name>-1.5.1.tgz from Chart.yaml.
        charts = tmp_path / "charts"
        archive = chart_archive(charts / "demo-1.5.1.tgz", "demo", "1.5.1")
        assert (
            find_chart(ChartSpec("demo", "v1.5.1", REPO), ChartOptions(chart_dirs=(charts,)), no_pull).path == archive
        )

    def test_an_oci_chart_is_looked_for_by_its_last_segment(self, tmp_path: Path) -> None:
        charts = tmp_path / "charts"
        chart = chart_folder(charts, "gateway-helm", "1.0.0")
        spec = ChartSpec("oci://docker.io/envoyproxy/gateway-helm", "1.0.0")
        assert not spec.is_local
        assert find_chart(spec, ChartOptions(chart_dirs=(charts,)), no_pull).path == chart

    def test_folders_are_searched_in_the_order_given(self, tmp_path: Path) -> None:
        first = chart_folder(tmp_path / "first", "demo", "1.0.0")
        chart_folder(tmp_path / "second", "demo", "1.0.0")
        options = ChartOptions(chart_dirs=(tmp_path / "missing", tmp_path / "first", tmp_path / "second"))
        assert find_chart(ChartSpec("demo", "1.0.0", REPO), options, no_pull).path == first

    def test_the_digest_changes_with_any_file_of_an_unpacked_chart(self, tmp_path: Path) -> None:
        # The digest keys the expansion cache: an edited template must never reuse an old expansion.
        charts = tmp_path / "charts"
        chart = chart_folder(charts, "demo", "1.0.0")
        options, spec = ChartOptions(chart_dirs=(charts,)), ChartSpec("demo", "1.0.0", REPO)
        before = find_chart(spec, options, no_pull).digest
        (chart / "templates" / "configmap.yaml").write_text("kind: ConfigMap\nmetadata: {}\n")
        after = find_chart(spec, options, no_pull).digest
        assert before.startswith("sha256:")
        assert after != before

    def test_a_chart_path_is_used_as_it_is_without_a_pin(self, tmp_path: Path) -> None:
        chart = chart_folder(tmp_path, "local", "0.0.1")
        found = find_chart(ChartSpec(str(chart)), ChartOptions(), no_pull)
        assert (found.path, found.found_by, found.name, found.version) == (chart, "chartPath", "local", "0.0.1")


class TestPinnedVersion:
    """A chart at hand must be the pinned one: stackyard's values were verified against that version."""

    def test_an_unpacked_chart_of_another_version_is_refused_naming_both(self, tmp_path: Path) -> None:
        charts = tmp_path / "charts"
        chart_folder(charts, "demo", "2.0.0")
        with pytest.raises(ChartSourceError) as error:
            find_chart(ChartSpec("demo", "1.2.3", REPO), ChartOptions(chart_dirs=(charts,)), no_pull)
        message = str(error.value)
        assert "demo 2.0.0" in message
        assert "not demo 1.2.3" in message
        assert str(charts / "demo") in message

    def test_an_archive_named_after_the_pin_but_holding_another_chart_is_refused(self, tmp_path: Path) -> None:
        charts = tmp_path / "charts"
        chart_archive(charts / "demo-1.2.3.tgz", "other", "1.2.3")
        with pytest.raises(ChartSourceError, match=r"is chart other 1\.2\.3, not demo 1\.2\.3"):
            find_chart(ChartSpec("demo", "1.2.3", REPO), ChartOptions(chart_dirs=(charts,)), no_pull)

    def test_a_downloaded_chart_of_another_version_is_refused_and_not_cached(self, cache: Path) -> None:
        def pull(spec: ChartSpec, folder: Path) -> Path:
            return chart_archive(folder / f"{spec.name}-{spec.version}.tgz", spec.name, "9.9.9")

        with pytest.raises(ChartSourceError, match=r"demo 9\.9\.9, not demo 1\.2\.3"):
            find_chart(ChartSpec("demo", "1.2.3", REPO), ChartOptions(), pull)
        # Cached, the wrong chart would be found (and refused) on every later render, even offline.
        assert not (cache / "charts" / "demo-1.2.3.tgz").exists()
        assert list((cache / "charts").iterdir()) == []  # nor is the download's scratch folder left


class TestUnreadableCharts:
    def test_a_corrupt_archive_is_refused_as_unreadable(self, tmp_path: Path) -> None:
        charts = tmp_path / "charts"
        charts.mkdir()
        (charts / "demo-1.2.3.tgz").write_bytes(b"this is not gzip data at all")
        with pytest.raises(ChartSourceError, match=r"demo-1\.2\.3\.tgz: not a readable chart archive \(\.tgz\)"):
            find_chart(ChartSpec("demo", "1.2.3", REPO), ChartOptions(chart_dirs=(charts,)), no_pull)

    def test_a_truncated_archive_is_refused_as_unreadable(self, tmp_path: Path) -> None:
        archive = chart_archive(tmp_path / "demo.tgz", "demo", "1.2.3")
        archive.write_bytes(archive.read_bytes()[:40])
        with pytest.raises(ChartSourceError, match="not a readable chart archive"):
            chart_identity(archive)

    def test_an_archive_corrupt_inside_a_member_before_chart_yaml_is_refused_as_unreadable(
        self, tmp_path: Path
    ) -> None:
        # Incompressible data is stored in raw deflate blocks of about 16 KiB; zeroing 20 KB of it
        # zeroes at least one block header, which zlib rejects while tarfile skips to Chart.yaml.
        big = random.Random(0).randbytes(100_000)
        archive = _archive(
            tmp_path / "demo.tgz",
            {"demo/templates/big.yaml": big, "demo/Chart.yaml": b"apiVersion: v2\nname: demo\nversion: 1.2.3\n"},
        )
        assert chart_identity(archive) == ("demo", "1.2.3")
        data = bytearray(archive.read_bytes())
        data[40_000:60_000] = bytes(20_000)
        archive.write_bytes(bytes(data))
        with pytest.raises(ChartSourceError, match="not a readable chart archive"):
            chart_identity(archive)

    def test_an_archive_without_a_chart_yaml_is_not_a_chart(self, tmp_path: Path) -> None:
        archive = _archive(tmp_path / "demo.tgz", {"demo/values.yaml": b"{}\n", "Chart.yaml": b"name: demo\n"})
        with pytest.raises(ChartSourceError, match=r"holds no <chart>/Chart\.yaml"):
            chart_identity(archive)

    def test_a_folder_without_a_chart_yaml_is_not_a_chart(self, tmp_path: Path) -> None:
        with pytest.raises(ChartSourceError, match=r"a folder without a Chart\.yaml"):
            chart_identity(tmp_path)

    @pytest.mark.parametrize(
        ("text", "problem"),
        [("name: [unclosed\n", "is not valid YAML"), ("name: demo\n", "has no name and version"), ("- a\n", "no name")],
    )
    def test_a_chart_yaml_without_a_name_and_version_is_refused(self, tmp_path: Path, text: str, problem: str) -> None:
        (tmp_path / "Chart.yaml").write_text(text)
        with pytest.raises(ChartSourceError, match=problem):
            chart_identity(tmp_path)


class TestChartIdentity:
    def test_a_folder_and_its_packaged_form_have_the_same_identity(self, tmp_path: Path) -> None:
        folder = chart_folder(tmp_path, "demo", "3.1.4")
        archive = chart_archive(tmp_path / "packaged.tgz", "demo", "3.1.4")
        assert chart_identity(folder) == chart_identity(archive) == ("demo", "3.1.4")

    def test_a_subchart_chart_yaml_in_the_archive_is_not_taken_for_the_chart(self, tmp_path: Path) -> None:
        # tarfile yields members in archive order; the subchart's comes first here on purpose.
        archive = _archive(
            tmp_path / "parent.tgz",
            {
                "parent/charts/sub/Chart.yaml": b"name: sub\nversion: 0.0.1\n",
                "parent/Chart.yaml": b"name: parent\nversion: 5.0.0\n",
            },
        )
        assert chart_identity(archive) == ("parent", "5.0.0")

    def test_a_missing_path_is_named(self, tmp_path: Path) -> None:
        with pytest.raises(ChartSourceError, match="no such chart folder or archive"):
            chart_identity(tmp_path / "absent")


class TestDownloadAndCache:
    def test_a_chart_is_downloaded_once_and_then_read_from_the_cache(self, cache: Path) -> None:
        calls: list[tuple[ChartSpec, Path]] = []

        def pull(spec: ChartSpec, folder: Path) -> Path:
            calls.append((spec, folder))
            return chart_archive(folder / "whatever-helm-names-it.tgz", spec.name, spec.version)

        spec = ChartSpec("demo", "1.2.3", REPO)
        first = find_chart(spec, ChartOptions(), pull)
        second = find_chart(spec, ChartOptions(offline=True), pull)
        assert len(calls) == 1
        assert calls[0][0] == spec
        assert first.found_by == f"downloaded from {REPO}"
        assert second.found_by == "cache"
        assert first.path == second.path == cache / "charts" / "demo-1.2.3.tgz"
        assert first.digest == second.digest
        assert not calls[0][1].exists()  # the folder it was pulled into is gone

    def test_a_chart_in_a_folder_is_preferred_to_the_cache(self, tmp_path: Path, cache: Path) -> None:
        chart_archive(cache / "charts" / "demo-1.2.3.tgz", "demo", "1.2.3")
        charts = tmp_path / "charts"
        chart = chart_folder(charts, "demo", "1.2.3")
        assert find_chart(ChartSpec("demo", "1.2.3", REPO), ChartOptions(chart_dirs=(charts,)), no_pull).path == chart

    def test_a_failed_download_says_what_failed_and_how_else_to_provide_the_chart(self) -> None:
        def pull(_spec: ChartSpec, _folder: Path) -> Path:
            raise ChartSourceError("404 Not Found")

        with pytest.raises(ChartUnavailableError) as error:
            find_chart(ChartSpec("demo", "1.2.3", REPO), ChartOptions(), pull)
        message = str(error.value)
        assert f"downloading it from {REPO} failed: 404 Not Found" in message
        assert "--chart-dir DIR" in message

    def test_offline_with_the_chart_nowhere_lists_every_way_to_provide_it(self, tmp_path: Path, cache: Path) -> None:
        charts = tmp_path / "charts"
        chart_folder(charts, "other", "1.2.3")  # a folder that is searched but lacks the chart
        with pytest.raises(ChartUnavailableError) as error:
            find_chart(ChartSpec("demo", "1.2.3", REPO), ChartOptions(chart_dirs=(charts,), offline=True), no_pull)
        message = str(error.value)
        assert message.startswith(f"chart demo 1.2.3 from {REPO} is not at hand (offline")
        assert "--chart-dir DIR holding demo/ or demo-1.2.3.tgz" in message
        assert f"folders searched: {charts}" in message
        assert "chartPath" in message
        assert str(cache / "charts") in message  # where `helm pull` would put it for the cache
        assert "--charts record" in message
        assert "--charts auto" in message


class TestRemoteFiles:
    def test_a_github_release_asset_is_named_after_its_project_and_tag(self) -> None:
        name = local_file_name(GATEWAY_API)
        assert name == "gateway-api-v1.5.1-standard-install.yaml"
        # The air-gap bundle beside the checkout holds the Gateway API install under that name.
        if (REFERENCE / "crds").is_dir():
            assert (REFERENCE / "crds" / name).is_file()

    @pytest.mark.parametrize(
        ("url", "name"),
        [
            ("https://example.com/deploy/install.yaml?ref=main", "install.yaml"),
            ("https://example.com/", "file.yaml"),
            ("https://github.com/org/project/blob/main/install.yaml", "install.yaml"),
        ],
    )
    def test_any_other_address_is_named_after_its_last_segment(self, url: str, name: str) -> None:
        assert local_file_name(url) == name

    def test_a_file_is_found_by_its_local_name_in_a_chart_folder(self, tmp_path: Path) -> None:
        copy = tmp_path / "bundle" / "gateway-api-v1.5.1-standard-install.yaml"
        copy.parent.mkdir()
        copy.write_text("kind: CustomResourceDefinition\n")
        found = find_file(GATEWAY_API, ChartOptions(chart_dirs=(copy.parent,), offline=True))
        assert (found.path, found.found_by) == (copy, f"--chart-dir {copy.parent}")

    def test_a_file_is_found_in_the_crds_folder_beside_a_chart_folder(self, tmp_path: Path) -> None:
        # The air-gap bundle's layout: charts/ and crds/ side by side, only charts/ given.
        charts = tmp_path / "bundle" / "charts"
        charts.mkdir(parents=True)
        copy = tmp_path / "bundle" / "crds" / "gateway-api-v1.5.1-standard-install.yaml"
        copy.parent.mkdir()
        copy.write_text("kind: CustomResourceDefinition\n")
        assert find_file(GATEWAY_API, ChartOptions(chart_dirs=(charts,), offline=True)).path == copy

    def test_a_file_is_downloaded_once_then_read_from_the_cache(self, tmp_path: Path, cache: Path) -> None:
        # A file:// address goes through the same urlopen as https://, without a network.
        source = tmp_path / "upstream" / "install.yaml"
        source.parent.mkdir()
        source.write_text("kind: Namespace\n")
        url = source.as_uri()
        downloaded = find_file(url, ChartOptions())
        source.unlink()
        cached = find_file(url, ChartOptions(offline=True))
        assert downloaded.found_by == f"downloaded from {url}"
        assert cached.found_by == "cache"
        assert cached.path == downloaded.path
        assert cached.path.is_relative_to(cache)
        assert cached.path.read_text() == "kind: Namespace\n"
        assert cached.digest == downloaded.digest

    def test_a_failed_download_is_unavailable_naming_the_local_name(self, tmp_path: Path) -> None:
        url = (tmp_path / "absent.yaml").as_uri()
        with pytest.raises(ChartUnavailableError, match="downloading it failed") as error:
            find_file(url, ChartOptions())
        assert "Provide it as absent.yaml in a --chart-dir folder" in str(error.value)

    def test_offline_with_the_file_nowhere_lists_every_way_to_provide_it(self, tmp_path: Path) -> None:
        with pytest.raises(ChartUnavailableError) as error:
            find_file(GATEWAY_API, ChartOptions(chart_dirs=(tmp_path,), offline=True))
        message = str(error.value)
        assert message.startswith(f"{GATEWAY_API} is not at hand (offline")
        assert "gateway-api-v1.5.1-standard-install.yaml in a --chart-dir folder or in a crds/ folder" in message
        assert f"folders searched: {tmp_path}" in message
        assert "gatewayApiCrdsPath" in message
        assert "--charts record" in message
