"""Reading files we did not write: stack files, ``Pulumi.yaml``, exports and ``index.json``.

Every file is read within limits, so that no file, hostile or careless, can hang, crash or exhaust
the tool: a size limit checked before reading; UTF-8 without NUL bytes; YAML whose node graph,
with every alias expanded, stays under a node count and a depth; no duplicate keys (PyYAML keeps
the last silently, so a misspelt copy would win), and only string keys. A violation raises
:class:`InputError` naming the file and, where there is one, the key path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CONFIG_LIMIT",
    "EXPORT_LIMIT",
    "MAX_DEPTH",
    "MAX_NODES",
    "InputError",
    "load_json",
    "load_yaml",
    "parse_yaml",
    "read_text",
]

#: A stack file or Pulumi.yaml: the largest example is a few KiB; 1,000 apps fit in 1 MiB.
CONFIG_LIMIT = 1 << 20
#: One object of an export (a CRD can be a MiB) or an index.json.
EXPORT_LIMIT = 16 << 20
#: Nodes of a document once every alias is expanded: what any consumer walking it would see.
MAX_NODES = 500_000
#: Nesting of mappings and sequences.
MAX_DEPTH = 64


class InputError(ValueError):
    """A file is unreadable, malformed or over a limit; the message names it."""


class _Loader(yaml.CSafeLoader):
    """PyYAML's safe C loader, reading a bare ``=`` as the string that Go's YAML reads.

    YAML 1.1 resolves a plain ``=`` to the ``value`` tag, which PyYAML cannot construct; the
    Prometheus Operator's AlertmanagerConfig CRD has ``=`` as an enum value.
    """


def _plain_string(loader: yaml.BaseLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:value", _plain_string)


def read_text(path: Path, limit: int) -> str:
    """The file's text: at most ``limit`` bytes, UTF-8, no NUL byte."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"{path}: {size:,} bytes is over the limit of {limit:,} for this kind of file")
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror or error}") from None
    if b"\0" in data:
        raise InputError(f"{path}: a binary file (it holds NUL bytes), not YAML or JSON text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); save it as UTF-8"
        ) from None


def load_yaml(path: Path, limit: int = CONFIG_LIMIT) -> Any:
    """One YAML document from ``path``, checked as the module docs say; ``None`` for an empty file."""
    return parse_yaml(read_text(path, limit), str(path))


def parse_yaml(text: str, source: str) -> Any:
    """One YAML document from ``text`` (named ``source`` in errors), checked as the module docs say."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(source, node)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        raise InputError(f"{source}: not valid YAML: {error}") from None
    except RecursionError:
        raise InputError(f"{source}: nested too deeply to read") from None
    finally:
        loader.dispose()


def load_json(path: Path, limit: int = EXPORT_LIMIT) -> Any:
    """One JSON document from ``path``, with the same limits (duplicate keys refused)."""
    text = read_text(path, limit)

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise InputError(f"{path}: duplicate key {duplicates[0]!r} in an object")
        return dict(pairs)

    try:
        document = json.loads(text, object_pairs_hook=unique)
    except RecursionError:
        raise InputError(f"{path}: nested too deeply to read") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON: {error}") from None
    _check_depth(path, document)
    return document


def _check_depth(path: Path, document: Any) -> None:
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{path}: nested deeper than {MAX_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)


def _check_graph(path: str, root: yaml.Node) -> None:
    """Depth, keys and expanded size of a composed document, in one pass over its (shared) nodes."""
    for node, where, depth in _walk(root):
        if depth > MAX_DEPTH:
            shown = where if len(where) <= 80 else where[:77] + "..."
            raise InputError(f"{path}: {shown}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.MappingNode):
            _check_keys(path, node, where)
    total = _expanded_size(path, root)
    if total > MAX_NODES:  # capped at MAX_NODES + 1 while counting
        raise InputError(
            f"{path}: expands to more than {MAX_NODES:,} values once its YAML aliases are followed; "
            "write the values out, or use fewer aliases"
        )


def _walk(root: yaml.Node) -> Iterator[tuple[yaml.Node, str, int]]:
    """Every node once (an aliased node is shared), with its key path and depth; iterative."""
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, str, int]] = [(root, "", 1)]
    while pending:
        node, where, depth = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node, where, depth
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                label = key.value if isinstance(key, yaml.ScalarNode) else "?"
                pending.append((value, f"{where}.{label}" if where else str(label), depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(node.value))


def _check_keys(path: str, node: yaml.MappingNode, where: str) -> None:
    seen: set[str] = set()
    for key, _value in node.value:
        if key.tag == "tag:yaml.org,2002:merge":
            continue
        if not isinstance(key, yaml.ScalarNode) or key.tag != "tag:yaml.org,2002:str":
            shown = key.value if isinstance(key, yaml.ScalarNode) else "a collection"
            raise InputError(f"{path}: {where or 'the top level'}: key {shown!r} is not a string; quote it")
        if key.value in seen:
            raise InputError(
                f"{path}: {where or 'the top level'}: duplicate key {key.value!r}; YAML forbids it, and the "
                "last one would silently win"
            )
        seen.add(key.value)


def _expanded_size(path: str, root: yaml.Node) -> int:
    """How many nodes the document has with every alias expanded: memoized over the shared nodes
    (linear time), capped just over the limit. A node that contains itself is refused."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in _children(node)), MAX_NODES + 1)
            continue
        if id(node) in open_nodes:
            raise InputError(f"{path}: an alias refers to a value that contains it; such a document never ends")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
