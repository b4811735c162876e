"""Where the charts and remote YAML files of a stack come from, when the render expands them.

A chart the program installs from a local path (``chartPath``) is used as it is: the component
checked it when the config was read. A chart pinned to a repository is looked for, in order:

1. in each ``--chart-dir`` folder, as ``<name>/`` (an unpacked chart), ``<name>.tgz`` or
   ``<name>-<version>.tgz`` (what ``helm pull`` writes);
2. in the cache, ``<cache>/charts/<name>-<version>.tgz``, where a download is kept;
3. online, from its repository (or ``oci://`` registry), downloaded once into the cache by Helm's
   own getters, unless offline.

A chart found in a folder must be the pinned chart at the pinned version: stackyard's values were
verified for that version, and the index records what was expanded. A remote YAML file (the Gateway
API install) is looked for by its versioned file name in the same folders, then in the cache, then
downloaded. Nothing here writes outside the cache.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml

from .cache import cache_root, write_atomically

__all__ = [
    "RECORD",
    "ChartMode",
    "ChartOptions",
    "ChartSourceError",
    "ChartSpec",
    "ChartUnavailableError",
    "Found",
    "Pull",
    "chart_identity",
    "find_chart",
    "find_file",
    "local_file_name",
]

ChartMode = Literal["expand", "record", "auto"]

#: A remote file larger than this is refused (the Gateway API install is about 1 MiB).
_FILE_LIMIT = 32 << 20
_DOWNLOAD_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class ChartOptions:
    """How a render treats charts and remote files.

    ``expand`` writes every object they bring and fails when one is not at hand; ``record`` writes
    a record of each instead (the export before charts were expanded); ``auto`` expands what is at
    hand and records the rest, saying which.
    """

    mode: ChartMode = "expand"
    chart_dirs: tuple[Path, ...] = field(default=())
    offline: bool = False
    """Never download: only ``chartPath``, the folders and the cache are used."""


#: The records-only export.
RECORD = ChartOptions(mode="record")


class ChartUnavailableError(Exception):
    """A chart or file is not at hand; the message names it and every way to provide it."""


class ChartSourceError(Exception):
    """A chart or file at hand is not the one pinned, or cannot be read; the message says which."""


@dataclass(frozen=True)
class ChartSpec:
    """A chart as the program pins it (``helm.v4.Chart``'s chart, version and repository)."""

    chart: str
    version: str = ""
    repository: str = ""

    @property
    def name(self) -> str:
        """The chart's own name: the last segment of an ``oci://`` reference, else the chart."""
        return self.chart.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_local(self) -> bool:
        """A path on disk (the program's ``chartPath``) rather than a pinned remote chart."""
        return not self.repository and not self.chart.startswith("oci://") and "/" in self.chart

    def describe(self) -> str:
        where = self.repository or (self.chart if self.chart.startswith("oci://") else "")
        return f"chart {self.name} {self.version}" + (f" from {where}" if where else "")


@dataclass(frozen=True)
class Found:
    """A chart or file at hand."""

    path: Path
    found_by: str
    """``chartPath``, ``--chart-dir DIR``, ``cache`` or ``downloaded from URL``."""
    digest: str
    """SHA-256 of the archive or file, or of a folder's files (path and content)."""
    name: str = ""
    version: str = ""


Pull = Callable[[ChartSpec, Path], Path]
"""Downloads a chart into a folder and returns the archive it wrote (the expander's ``pull``)."""


def find_chart(spec: ChartSpec, options: ChartOptions, pull: Pull) -> Found:
    """The chart ``spec`` names, from the first source that has it (see the module's docs)."""
    if spec.is_local:
        name, version = chart_identity(Path(spec.chart))
        return Found(Path(spec.chart), "chartPath", _digest(Path(spec.chart)), name, version)
    for folder in options.chart_dirs:
        for candidate in _candidates(folder, spec):
            if candidate.exists():
                return _checked(candidate, spec, f"--chart-dir {folder}")
    cached = _cache_dir() / f"{spec.name}-{spec.version}.tgz"
    if cached.is_file():
        return _checked(cached, spec, "cache")
    if options.offline:
        raise ChartUnavailableError(_unavailable(spec, options, "offline, so it was not downloaded"))
    return _download(spec, options, pull, cached)


def _candidates(folder: Path, spec: ChartSpec) -> list[Path]:
    version = spec.version.lstrip("v")
    return [
        folder / spec.name,
        folder / f"{spec.name}.tgz",
        folder / f"{spec.name}-{spec.version}.tgz",
        folder / f"{spec.name}-{version}.tgz",
    ]


def _checked(path: Path, spec: ChartSpec, found_by: str) -> Found:
    name, version = chart_identity(path)
    if name != spec.name or version.lstrip("v") != spec.version.lstrip("v"):
        raise ChartSourceError(
            f"{spec.describe()}: {path} (from {found_by}) is chart {name} {version}, not {spec.name} {spec.version}; "
            "stackyard's values are verified for the pinned version, so give that chart"
        )
    return Found(path, found_by, _digest(path), name, version)


def _download(spec: ChartSpec, options: ChartOptions, pull: Pull, cached: Path) -> Found:
    where = spec.repository or spec.chart
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pull-", dir=cached.parent) as scratch:
        try:
            archive = pull(spec, Path(scratch))
        except ChartSourceError as error:
            raise ChartUnavailableError(
                _unavailable(spec, options, f"downloading it from {where} failed: {error}")
            ) from None
        found = _checked(archive, spec, f"downloaded from {where}")
        archive.replace(cached)
    return Found(cached, f"downloaded from {where}", found.digest, found.name, found.version)


def _unavailable(spec: ChartSpec, options: ChartOptions, why: str) -> str:
    folders = ", ".join(str(folder) for folder in options.chart_dirs) or "none given"
    return (
        f"{spec.describe()} is not at hand ({why}). Provide it in one of these ways: "
        f"--chart-dir DIR holding {spec.name}/ or {spec.name}-{spec.version}.tgz (folders searched: {folders}); "
        f"the component's chartPath config key; `helm pull` into {_cache_dir()}; or render online. "
        "Or export a record of it instead with --charts record (or --charts auto for every chart not at hand)"
    )


def chart_identity(path: Path) -> tuple[str, str]:
    """The name and version in the ``Chart.yaml`` of a chart folder or ``.tgz``."""
    if path.is_dir():
        chart_file = path / "Chart.yaml"
        if not chart_file.is_file():
            raise ChartSourceError(f"{path}: a folder without a Chart.yaml, so not a Helm chart")
        text = chart_file.read_text(encoding="utf-8", errors="replace")
    elif path.is_file():
        text = _archived_chart_yaml(path)
    else:
        raise ChartSourceError(f"{path}: no such chart folder or archive")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ChartSourceError(f"{path}: its Chart.yaml is not valid YAML ({error})") from None
    if not isinstance(document, dict) or not document.get("name") or not document.get("version"):
        raise ChartSourceError(f"{path}: its Chart.yaml has no name and version")
    return str(document["name"]), str(document["version"])


def _archived_chart_yaml(path: Path) -> str:
    """``<chart>/Chart.yaml`` of a ``helm package`` archive; a corrupt archive is refused."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        return extracted.read().decode("utf-8", errors="replace")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        # zlib.error: damage inside a member that tarfile skips over to reach the next header.
        raise ChartSourceError(f"{path}: not a readable chart archive (.tgz): {error}") from None
    raise ChartSourceError(f"{path}: holds no <chart>/Chart.yaml, so not a packaged Helm chart")


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = str(item.relative_to(path)).encode()
            content = item.read_bytes()
            digest.update(len(relative).to_bytes(8, "big") + relative + len(content).to_bytes(8, "big") + content)
    else:
        digest.update(path.read_bytes())
    return "sha256:" + digest.hexdigest()


def _cache_dir() -> Path:
    return cache_root() / "charts"


# -- remote YAML files --------------------------------------------------------------------------

_RELEASE_ASSET = re.compile(r"^/[^/]+/(?P<project>[^/]+)/releases/download/(?P<tag>[^/]+)/(?P<file>[^/]+)$")


def local_file_name(url: str) -> str:
    """The name a downloaded copy of ``url`` goes by: ``<project>-<tag>-<file>`` for a GitHub
    release asset (``gateway-api-v1.5.1-standard-install.yaml``), else the URL's file name."""
    parsed = urllib.parse.urlparse(url)
    match = _RELEASE_ASSET.match(parsed.path)
    if match:
        return f"{match['project']}-{match['tag']}-{match['file']}"
    return PurePosixPath(parsed.path).name or "file.yaml"


def find_file(url: str, options: ChartOptions) -> Found:
    """A remote YAML file: by its local name in each ``--chart-dir`` (or the ``crds/`` folder
    beside it, the layout of an air-gap bundle), then the cache, then downloaded."""
    name = local_file_name(url)
    for folder in options.chart_dirs:
        for candidate in (folder / name, folder.parent / "crds" / name):
            if candidate.is_file():
                return Found(candidate, f"--chart-dir {folder}", _digest(candidate))
    cached = cache_root() / "files" / hashlib.sha256(url.encode()).hexdigest()[:16] / name
    if cached.is_file():
        return Found(cached, "cache", _digest(cached))
    if options.offline:
        raise ChartUnavailableError(_file_unavailable(url, name, options, "offline, so it was not downloaded"))
    try:
        with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_SECONDS) as response:
            data = response.read(_FILE_LIMIT + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ChartUnavailableError(_file_unavailable(url, name, options, f"downloading it failed: {error}")) from None
    if len(data) > _FILE_LIMIT:
        raise ChartSourceError(f"{url}: over {_FILE_LIMIT:,} bytes, which no install file of ours is")
    write_atomically(cached, data)
    return Found(cached, f"downloaded from {url}", _digest(cached))


def _file_unavailable(url: str, name: str, options: ChartOptions, why: str) -> str:
    folders = ", ".join(str(folder) for folder in options.chart_dirs) or "none given"
    return (
        f"{url} is not at hand ({why}). Provide it as {name} in a --chart-dir folder or in a crds/ folder beside "
        f"it (folders searched: {folders}), or give the component a local copy (gatewayApiCrdsPath); or export "
        "a record of it instead with --charts record (or --charts auto)"
    )
