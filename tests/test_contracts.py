"""Contracts that only change on purpose: the public names and the URNs of the example stacks.

A rename or a move changes a URN, and Pulumi then replaces the resource (for a fixed-name object,
delete first: downtime). The committed URN lists make such a change visible in review; when it is
deliberate, add ``aliases=[...]`` for the moved resources and regenerate the lists with
``STACKYARD_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import warnings

import pytest

import components
from stackyard.render import Rendering
from tests.conftest import ROOT, STACKS
from tests.golden import check_golden

GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("stack", STACKS)
def test_the_urns_of_the_example_stacks_are_the_committed_ones(rendered: dict[str, Rendering], stack: str) -> None:
    urns = sorted(r.urn for r in rendered[stack].registrations)
    check_golden(GOLDEN / f"urns-{stack}.txt", "\n".join(urns) + "\n")


def test_public_names_only_disappear_through_a_deprecation() -> None:
    committed = (GOLDEN / "public-api.txt").read_text().split()
    missing = [name for name in committed if name not in components.__all__ and name not in components._DEPRECATED]
    assert missing == [], f"public names removed without a deprecation: {missing}"


def test_new_public_names_are_added_to_the_committed_list_on_purpose() -> None:
    check_golden(GOLDEN / "public-api.txt", "\n".join(sorted(components.__all__)) + "\n")


def test_a_deprecated_name_still_works_and_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(components._DEPRECATED, "WebApp", ("App", "1.0.0"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert components.WebApp is components.App  # type: ignore[attr-defined]
    assert [str(w.message) for w in caught] == [
        "components.WebApp is deprecated and goes away in 1.0.0; use components.App"
    ]
    with pytest.raises(AttributeError):
        _ = components.NoSuchThing  # type: ignore[attr-defined]
