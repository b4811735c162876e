"""Hostile and malformed files are refused quickly and cleanly: stack files, Pulumi.yaml, exports, index.json.

Each case runs the real command (``stackyard render``, ``audit`` or ``diff``) in-process and must
end with exit code 2 and a message naming the file (and the key path where there is one), with no
traceback, within two seconds, and with nothing written.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stackyard import inputs
from stackyard.cli import main
from tests.conftest import ROOT

PROGRAM = ("Pulumi.yaml", "__main__.py")


def _alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


#: name → (bytes of the stack file, text the one error must contain)
STACK_FILES: dict[str, tuple[bytes, str]] = {
    "not UTF-8": ("config:\n  stackyard:namespace:\n    name: caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00", "a binary file"),
    "alias expansion": (
        (
            "config:\n  stackyard:bomb:\n" + "".join("    " + line + "\n" for line in _alias_bomb().splitlines())
        ).encode(),
        "expands to more than 500,000 values",
    ),
    "recursive alias": (b"config:\n  stackyard:x: &x [*x]\n", "an alias refers to a value that contains it"),
    "deep nesting": (b"config:\n  stackyard:x: " + b"[" * 200 + b"]" * 200 + b"\n", "nested deeper than 64 levels"),
    "very large": (b"config:\n  stackyard:x: '" + b"x" * (2 << 20) + b"'\n", "over the limit of 1,048,576"),
    "duplicate key": (
        b"config:\n  stackyard:namespace: {name: a}\n  stackyard:namespace: {name: b}\n",
        "config: duplicate key 'stackyard:namespace'",
    ),
    "non-string key": (
        b"config:\n  stackyard:apps:\n    - 1: x\n",
        "config.stackyard:apps[0]: key '1' is not a string",
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project (program files linked from the repository) with the dev stack file."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name in PROGRAM:
        shutil.copy(ROOT / name, folder / name)
    for package in ("components", "stacks"):
        (folder / package).symlink_to(ROOT / package)
    shutil.copy(ROOT / "Pulumi.dev.yaml", folder / "Pulumi.dev.yaml")
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    code = main(list(args))
    seconds = time.monotonic() - started
    captured = capsys.readouterr()
    return code, captured.out + captured.err, seconds


def assert_refused(code: int, output: str, seconds: float, path: Path, expected: str) -> None:
    assert code == 2, output
    assert str(path) in output
    assert expected in " ".join(output.split())
    assert "Traceback" not in output
    assert seconds < 2, f"took {seconds:.1f} s"


@pytest.mark.parametrize("case", sorted(STACK_FILES))
def test_a_hostile_stack_file_is_refused_cleanly(
    case: str, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, expected = STACK_FILES[case]
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_bytes(content)
    out = tmp_path / "out"
    code, output, seconds = run(
        capsys, "render", "--charts", "record", "dev", "--project", str(project), "--out", str(out)
    )
    assert_refused(code, output, seconds, stack_file, expected)
    assert not out.exists()


def test_a_hostile_project_file_is_refused_cleanly(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "Pulumi.yaml").write_bytes(b"name: stackyard\nname: other\nruntime: python\n")
    code, output, seconds = run(
        capsys, "render", "--charts", "record", "dev", "--project", str(project), "--out", str(tmp_path / "o")
    )
    assert_refused(code, output, seconds, project / "Pulumi.yaml", "duplicate key 'name'")


@pytest.fixture
def export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = tmp_path / "export"
    assert main(["render", "--charts", "record", "dev", "--project", str(ROOT), "--out", str(folder)]) == 0
    capsys.readouterr()
    return folder


EXPORT_DAMAGE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a binary manifest": (
        lambda export: _write(export / "1-manifest" / "v1-namespace-default-shop-dev.yaml", b"\0\0\0"),
        "a binary file",
    ),
    "an alias bomb in a manifest": (
        lambda export: _write(export / "1-manifest" / "v1-namespace-default-shop-dev.yaml", _alias_bomb().encode()),
        "expands to more than 500,000 values",
    ),
    "a duplicate key in a manifest": (
        lambda export: _write(export / "1-manifest" / "v1-namespace-default-shop-dev.yaml", b"kind: A\nkind: B\n"),
        "duplicate key 'kind'",
    ),
}


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("command", ["audit", "diff"])
@pytest.mark.parametrize("damage", sorted(EXPORT_DAMAGE))
def test_a_damaged_export_is_refused_cleanly_by_audit_and_diff(
    damage: str, command: str, export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = EXPORT_DAMAGE[damage]
    path = make(export)
    args = ["audit", str(export), "--report", str(tmp_path / "r.json")] if command == "audit" else [
        "diff", "dev", "--charts", "record", "--project", str(ROOT), "--against", str(export)]  # fmt: skip
    code, output, seconds = run(capsys, *args)
    assert_refused(code, output, seconds, path, expected)
    assert not (tmp_path / "r.json").exists()


def test_an_index_with_a_duplicate_key_is_not_taken_for_an_export(tmp_path: Path) -> None:
    index = tmp_path / "index.json"
    index.write_text('{"project": "stackyard", "project": "other", "stack": "dev"}')
    with pytest.raises(inputs.InputError, match="duplicate key 'project'"):
        inputs.load_json(index)
    index.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(inputs.InputError, match="nested"):
        inputs.load_json(index)


def test_aliases_within_the_limits_are_read_as_yaml_defines_them(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("config:\n  a: &shared {replicas: 2}\n  b: *shared\n  c: {<<: *shared, extra: 1}\n")
    assert inputs.load_yaml(path) == {
        "config": {"a": {"replicas": 2}, "b": {"replicas": 2}, "c": {"replicas": 2, "extra": 1}}
    }


# -- a property: whatever a stack file becomes, the outcome is clean ---------------------------------

import json  # noqa: E402 - the property test's own imports
import re  # noqa: E402

import yaml  # noqa: E402
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.text(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated_stack_files(draw: st.DrawFn) -> bytes:
    stack = draw(st.sampled_from(["dev", "staging", "prod"]))
    text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
    if draw(st.booleans()):  # a structural change: replace or delete one value
        document = yaml.safe_load(text)
        path = draw(st.sampled_from([p for p in _paths(document["config"]) if p]))
        parent = document["config"]
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(_VALUES)
        return yaml.safe_dump(document, allow_unicode=True).encode()
    data = bytearray(text.encode())  # a textual change: a few bytes overwritten
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data[position] = draw(st.integers(min_value=0, max_value=255))
    return bytes(data)


_KEY_PATH = re.compile(r"(stackyard:[\w\[\].-]*|Pulumi\.dev\.yaml)")


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=mutated_stack_files())
def test_any_mutation_of_a_stack_renders_cleanly_or_fails_with_a_key_path(
    content: bytes, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "Pulumi.dev.yaml").write_bytes(content)
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    code, output, _seconds = run(
        capsys, "render", "--charts", "record", "dev", "--project", str(project), "--out", str(out)
    )
    assert "Traceback" not in output
    assert code in (0, 2), output
    event(f"exit {code}")
    if code == 2:
        assert _KEY_PATH.search(output), output
        assert not out.exists()
    else:
        index = json.loads((out / "index.json").read_text())
        assert index["files"]
        assert all((out / entry["path"]).is_file() for entry in index["files"])
