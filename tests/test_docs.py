"""The reference pages are generated from the code and cannot drift; every documented default is there."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import pulumi
import pytest
from pydantic import BaseModel

import components
from components.network_policy import DNS_POD_LABELS
from stackyard import preflight
from tests.conftest import ROOT
from tests.golden import check_golden


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference", ROOT / "docs" / "reference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["reference"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()
PAGES: dict[str, str] = GENERATOR.pages()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_reference_page_matches_the_code(name: str) -> None:
    check_golden(ROOT / "docs" / "reference" / name, PAGES[name])


def args_models() -> list[type[BaseModel]]:
    return [
        getattr(components, name)
        for name in components.__all__
        if isinstance(getattr(components, name), type) and issubclass(getattr(components, name), BaseModel)
    ]


@pytest.mark.parametrize("model", args_models(), ids=lambda m: m.__name__)
def test_every_optional_arg_documents_its_default_behaviour(model: type[BaseModel]) -> None:
    for name, info in model.model_fields.items():
        assert info.description, f"{model.__name__}.{name} has no docstring"
        if not info.is_required():
            assert "Default:" in info.description, f"{model.__name__}.{name} does not say what its default does"


def test_every_component_in_the_library_has_a_page() -> None:
    documented = {entry.component.__name__ for entry in GENERATOR.PAGES}
    published = {
        name
        for name in components.__all__
        if isinstance(getattr(components, name), type)
        and issubclass(getattr(components, name), pulumi.ComponentResource)
    }
    assert documented == published


def test_every_relative_link_in_the_docs_points_at_a_file() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to missing {target}"


@pytest.mark.parametrize("document", ["README.md", "docs/architecture.md"])
def test_the_clusters_preconditions_stay_in_the_docs(document: str) -> None:
    text = " ".join((ROOT / document).read_text().split())
    minimum = ".".join(map(str, preflight.MINIMUM_KUBERNETES))
    dns = ",".join(f"{k}={v}" for k, v in DNS_POD_LABELS.items())
    for fact in (f"Kubernetes {minimum} or newer", preflight.METRICS_API_SERVICE, "metrics-server",
                 "cert-manager with Gateway API support", "HTTP-01", dns, "ValidatingAdmissionPolicy"):  # fmt: skip
        assert fact in text, f"{document} no longer says {fact!r}"
