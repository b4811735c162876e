"""Parity between ``stackyard render`` and what the real provider renders for the same stack.

Both write the ``renderYamlToDirectory`` layout, one object per file under ``0-crd/`` and
``1-manifest/``, so objects pair up by path. Objects the program registers itself must be equal
as data (the two sides format YAML differently). The only differences allowed are listed in
:data:`ALLOWED`, each explained in docs/verification.md. Files only the provider writes are the
objects of charts and remote files, which stackyard records instead of expanding.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackyard.inputs import EXPORT_LIMIT, load_yaml

LAYOUT = ("0-crd", "1-manifest")


@dataclass(frozen=True)
class AllowedDifference:
    """A field that may differ between the two sides for one kind, and why."""

    kind: str
    fields: tuple[str, ...]
    reason: str
    check: str
    """What is verified instead of equality."""


#: Every allowed difference. Anything else that differs is a bug on one side.
ALLOWED: tuple[AllowedDifference, ...] = (
    AllowedDifference(
        kind="Secret",
        fields=("data", "stringData"),
        reason="the provider writes Secret values in plain text (with a warning); stackyard writes a redaction "
        "marker, so that an export never holds a secret",
        check="the same keys on both sides (the provider writes stringData as base64 data), and each marker is "
        "the SHA-256 prefix of the provider's plain value",
    ),
)


def read_tree(folder: Path) -> dict[str, Any]:
    """Every object under the layout's folders, by path relative to ``folder``."""
    objects: dict[str, Any] = {}
    for sub in LAYOUT:
        for path in sorted((folder / sub).glob("*.yaml")):
            objects[f"{sub}/{path.name}"] = load_yaml(path, EXPORT_LIMIT)
    return objects


def differences(ours: Any, theirs: Any, path: str = "") -> Iterator[str]:
    """Field paths where two parsed objects differ."""
    if isinstance(ours, Mapping) and isinstance(theirs, Mapping):
        for key in sorted(set(ours) | set(theirs), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in ours:
                yield f"{where} (only the provider has it)"
            elif key not in theirs:
                yield f"{where} (only stackyard has it)"
            else:
                yield from differences(ours[key], theirs[key], where)
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for index, (left, right) in enumerate(zip(ours, theirs, strict=True)):
            yield from differences(left, right, f"{path}[{index}]")
    elif ours != theirs:
        yield path or "(the whole object)"


def _marker(value: object) -> str:
    return f"<redacted sha256:{hashlib.sha256(str(value).encode('utf-8')).hexdigest()[:8]}>"


def secret_values(secret: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's plain values, from ``stringData`` as written or ``data`` decoded from base64."""
    values = {
        str(key): base64.b64decode(str(value)).decode("utf-8") for key, value in (secret.get("data") or {}).items()
    }
    values.update({str(key): str(value) for key, value in (secret.get("stringData") or {}).items()})
    return values


def check_redacted_secret(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """Our Secret holds a marker per key where the provider holds the value: same keys, matching digests.

    The provider writes ``stringData`` as base64 ``data``; stackyard keeps the field the program
    used, with every value replaced by its marker.
    """
    markers = {str(k): str(v) for field in ("data", "stringData") for k, v in (ours.get(field) or {}).items()}
    plain = secret_values(theirs)
    if set(markers) != set(plain):
        return [f"secret keys {sorted(markers)} here, {sorted(plain)} in the provider's render"]
    return [
        f"secret key {key}: marker {markers[key]!r} is not the digest of the provider's value"
        for key in sorted(markers)
        if markers[key] != _marker(plain[key])
    ]


@dataclass
class Comparison:
    """How the two renders of one stack compare."""

    missing: list[str] = field(default_factory=list)
    """Objects stackyard exports that the provider did not render."""
    differing: dict[str, list[str]] = field(default_factory=dict)
    """Objects on both sides whose data differs outside :data:`ALLOWED`, with the field paths."""
    only_provider: list[str] = field(default_factory=list)
    """Objects only the provider rendered: chart and remote-file objects."""
    allowed: dict[str, list[str]] = field(default_factory=dict)
    """Objects where an allowed difference was found and verified, with the fields."""


def compare(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> Comparison:
    """Pair objects by path and compare them, applying :data:`ALLOWED`."""
    result = Comparison()
    for path, mine in sorted(ours.items()):
        if path not in theirs:
            result.missing.append(path)
            continue
        other = theirs[path]
        rules = [rule for rule in ALLOWED if isinstance(mine, Mapping) and mine.get("kind") == rule.kind]
        skipped = {name for rule in rules for name in rule.fields}
        found = list(
            differences(
                {k: v for k, v in mine.items() if k not in skipped},
                {k: v for k, v in other.items() if k not in skipped},
            )
        )
        checked = [name for name in sorted(skipped) if name in mine or name in other]
        if checked:
            found += check_redacted_secret(mine, other)
        if found:
            result.differing[path] = found
        elif checked:
            result.allowed[path] = checked
    result.only_provider = sorted(set(theirs) - set(ours))
    return result
