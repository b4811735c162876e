"""Fluent Bit's configuration language: plain settings in, the text of its YAML configuration out.

Fluent Bit's YAML format has a ``service`` section and a ``pipeline`` of ``inputs``, ``filters``
and ``outputs``, each a list of plugin sections whose keys are the plugin's own. This module knows
that language (section layout, key names, ``on``/``off`` switches, ``${VAR}`` environment
references, record accessors, Loki's label list) and nothing of Kubernetes objects or Pulumi, so
it is tested on literal inputs and outputs. :mod:`components.log_shipping` decides *what* is read
and where it goes, and calls it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

__all__ = [
    "KUBE_TAG",
    "KUBE_TAG_PREFIX",
    "Output",
    "OutputKind",
    "Section",
    "Service",
    "document",
    "env_reference",
    "kubernetes_filter",
    "label_list",
    "multiline_filter",
    "output_section",
    "record_accessor",
    "render",
    "service_section",
    "switch",
    "tail_input",
]

#: A plugin section: its keys in the order they are written.
Section = dict[str, Any]
OutputKind = Literal["stdout", "loki", "opensearch", "elasticsearch", "forward"]

#: The tag of every container log record: ``kube.`` and the file's path, with dots for slashes.
KUBE_TAG = "kube.*"
#: What the kubernetes filter strips from a tag to find the pod, namespace and container.
KUBE_TAG_PREFIX = "kube.var.log.containers."
#: Output plugins by kind, where Fluent Bit's name differs.
_PLUGIN_NAMES = {"elasticsearch": "es"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ACCESSOR_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


def switch(flag: bool) -> str:
    """A boolean as Fluent Bit writes it."""
    return "on" if flag else "off"


def env_reference(name: str) -> str:
    """``${NAME}``: Fluent Bit substitutes the environment variable when it loads the file.

    Values that are secrets reach the configuration only this way, never as text.
    """
    if not _ENV_NAME.match(name):
        raise ValueError(f"{name!r} is not an environment variable name Fluent Bit can substitute")
    return "${" + name + "}"


def record_accessor(*keys: str) -> str:
    """A record accessor such as ``$kubernetes['pod_name']``: a value of the record, by its path."""
    if not keys or not all(_ACCESSOR_KEY.match(key) for key in keys):
        raise ValueError(f"record accessor keys {list(keys)} must be non-empty names without quotes or brackets")
    head, *path = keys
    return "$" + head + "".join(f"['{key}']" for key in path)


def label_list(stream_labels: Mapping[str, str]) -> str:
    """Loki's ``labels`` setting: ``name=value`` pairs, sorted by name, comma-separated."""
    return ", ".join(f"{key}={value}" for key, value in sorted(stream_labels.items()))


@dataclass(frozen=True)
class Service:
    """The ``service`` section: the engine, its HTTP server, and the filesystem buffer."""

    log_level: str
    http_port: int
    storage_path: str
    max_chunks_up: int
    backlog_mem_limit: str


def service_section(service: Service) -> Section:
    """The engine flushes every second; its HTTP server answers health checks and serves metrics."""
    return {
        "flush": 1,
        "log_level": service.log_level,
        "http_server": "on",
        "http_listen": "0.0.0.0",
        "http_port": service.http_port,
        "health_check": "on",
        "storage.path": service.storage_path,
        "storage.sync": "normal",
        "storage.checksum": "off",
        "storage.max_chunks_up": service.max_chunks_up,
        "storage.backlog.mem_limit": service.backlog_mem_limit,
        "storage.metrics": "on",
        # Retries back off exponentially between these bounds (seconds); retry_limit ends them.
        "scheduler.base": 5,
        "scheduler.cap": 300,
    }


def tail_input(*, path: str, exclude_path: str, db: str) -> Section:
    """Container log files, tagged :data:`KUBE_TAG`, with their positions kept in ``db``."""
    return {
        "name": "tail",
        "tag": KUBE_TAG,
        "path": path,
        "exclude_path": exclude_path,
        "multiline.parser": "cri, docker",
        "db": db,
        # Files the position database has no offset for (written before Fluent Bit first
        # ran on the node) are read from their start instead of skipped; known files
        # resume where they were.
        "read_from_head": "on",
        "db.locking": "true",
        "skip_long_lines": "on",
        "refresh_interval": 10,
        "storage.type": "filesystem",
    }


def multiline_filter(languages: Sequence[str], emitter_mem_buf_limit: str) -> Section:
    """Joins the lines of a stack trace (in the given languages' formats) into one record."""
    return {
        "name": "multiline",
        "match": KUBE_TAG,
        "multiline.key_content": "log",
        "multiline.parser": ", ".join(languages),
        # The records it joins are re-emitted through its own buffer: on disk too, so
        # backpressure still costs disk rather than logs.
        "emitter_storage.type": "filesystem",
        "emitter_mem_buf_limit": emitter_mem_buf_limit,
    }


def kubernetes_filter(*, merge_log: bool) -> Section:
    """Adds the pod's metadata and labels to each record, and honours the pods' logging annotations."""
    return {
        "name": "kubernetes",
        "match": KUBE_TAG,
        "kube_tag_prefix": KUBE_TAG_PREFIX,
        "merge_log": switch(merge_log),
        "keep_log": "off",
        "k8s-logging.parser": "on",
        "k8s-logging.exclude": "on",
        "labels": "on",
        "annotations": "off",
    }


@dataclass(frozen=True)
class Output:
    """One output plugin's settings. Credentials are environment variable names, never values."""

    kind: OutputKind
    match: str
    total_limit_size: str
    retry_limit: int
    host: str | None = None
    port: int | None = None
    tls: bool = True
    tls_verify: bool = True
    username_env: str | None = None
    password_env: str | None = None
    stream_labels: Mapping[str, str] = field(default_factory=dict)
    """loki only."""
    tenant_id: str | None = None
    """loki only."""
    index: str = "logs"
    """opensearch and elasticsearch only."""
    shared_key_env: str | None = None
    """forward only."""


def output_section(output: Output) -> Section:
    """An output plugin's section: the connection, then the kind's own keys, then the buffer limits."""
    result: Section = {"name": _PLUGIN_NAMES.get(output.kind, output.kind), "match": output.match}
    if output.kind == "stdout":
        result["format"] = "json_lines"
    else:
        result.update(
            {
                "host": output.host,
                "port": output.port,
                "tls": switch(output.tls),
                "tls.verify": switch(output.tls_verify),
            }
        )
    if output.username_env is not None and output.password_env is not None:
        result["http_user"] = env_reference(output.username_env)
        result["http_passwd"] = env_reference(output.password_env)
    if output.kind == "loki":
        result["labels"] = label_list(output.stream_labels)
        result["line_format"] = "json"
        if output.tenant_id:
            result["tenant_id"] = output.tenant_id
    if output.kind in ("opensearch", "elasticsearch"):
        # replace_dots: Kubernetes label keys (app.kubernetes.io/name) would otherwise clash with
        # the object mappings that their dots imply, and such documents are rejected.
        result.update({"index": output.index, "suppress_type_name": "on", "replace_dots": "on"})
        # A document id derived from the record: when a chunk is retried after a partial failure,
        # the documents it already indexed are overwritten, not indexed twice.
        result["generate_id"] = "on"
    if output.kind == "forward" and output.shared_key_env is not None:
        result["shared_key"] = env_reference(output.shared_key_env)
    result["storage.total_limit_size"] = output.total_limit_size
    result["retry_limit"] = output.retry_limit
    return result


def document(
    service: Service, inputs: Sequence[Section], filters: Sequence[Section], outputs: Sequence[Output]
) -> dict[str, Any]:
    """The whole configuration, as the mapping its YAML file holds."""
    return {
        "service": service_section(service),
        "pipeline": {
            "inputs": list(inputs),
            "filters": list(filters),
            "outputs": [output_section(output) for output in outputs],
        },
    }


def render(config: Mapping[str, Any]) -> str:
    """The configuration file's text, keys in the order given (Fluent Bit reads sections in order)."""
    return yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=False, width=120)
