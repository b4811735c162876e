"""The tests mirror the tooling: ``tests/stackyard/test_<module>.py`` tests ``stackyard/<module>.py``.

A test file must name a module that exists, and each module must have a test file unless it is
exempted below with a reason. Tests of the command line that drive several modules live in
``test_cli.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.conftest import ROOT

#: Modules of ``stackyard/`` with no test file of their own, each with the reason.
EXEMPT = {
    "__init__": "the package's docstring and an empty __all__: no behaviour of its own",
}


def layout_problems(package: Path, tests: Path, exempt: Mapping[str, str]) -> list[str]:
    """What breaks the mirror between ``package``'s modules and the test files in ``tests``."""
    modules = {path.stem for path in package.glob("*.py")}
    tested = {path.stem.removeprefix("test_") for path in tests.glob("test_*.py")}
    problems = [f"{tests.name}/test_{name}.py: no module {package.name}/{name}.py" for name in tested - modules]
    problems += [f"{package.name}/{name}.py: no test file" for name in modules - tested - exempt.keys()]
    problems += [f"exemption for {name}: no such module" for name in exempt.keys() - modules]
    problems += [f"exemption for {name}: it has a test file" for name in exempt.keys() & tested]
    return sorted(problems)


def test_the_tooling_tests_mirror_its_modules() -> None:
    assert layout_problems(ROOT / "stackyard", ROOT / "tests" / "stackyard", EXEMPT) == []


def test_the_mirror_check_names_orphans_untested_modules_and_stale_exemptions(tmp_path: Path) -> None:
    package, tests = tmp_path / "tool", tmp_path / "tests"
    package.mkdir()
    tests.mkdir()
    for name in ("__init__", "render", "views", "old"):
        (package / f"{name}.py").touch()
    for name in ("render", "secrets", "old"):
        (tests / f"test_{name}.py").touch()
    (tests / "conftest.py").touch()
    exempt = {"__init__": "nothing to test", "gone": "was removed", "old": "tested after all"}
    assert layout_problems(package, tests, exempt) == [
        "exemption for gone: no such module",
        "exemption for old: it has a test file",
        "tests/test_secrets.py: no module tool/secrets.py",
        "tool/views.py: no test file",
    ]
