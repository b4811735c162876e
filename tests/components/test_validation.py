"""The quantity rules use the official Kubernetes client's parser, loaded without the rest of the client."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from kubernetes.utils.quantity import parse_quantity as official_parse_quantity

from components import validation
from tests.conftest import ROOT

SAMPLES = ["1", "250m", "0.5", "512Mi", "2Gi", "1.5G", "100k", "1e3", "3Ti", "10Ki", "1Ei"]


@pytest.mark.parametrize("value", SAMPLES)
def test_quantities_parse_as_the_official_client_parses_them(value: str) -> None:
    assert validation.quantity_value(value) == official_parse_quantity(value)


@pytest.mark.parametrize("value", ["lots", "1.5.0", "Mi", "5Mb", ""])
def test_what_the_official_parser_refuses_is_refused_with_what_is_allowed(value: str) -> None:
    with pytest.raises(ValueError, match="Kubernetes quantity"):
        validation.quantity(value)


def test_negative_quantities_are_refused() -> None:
    assert validation.quantity_value("-1") == Decimal(-1)
    with pytest.raises(ValueError, match="must not be negative"):
        validation.quantity("-1")


def test_importing_the_components_does_not_load_the_kubernetes_client() -> None:
    # The client's package imports its whole API client (about 0.09 s) just to reach the parser.
    code = "import sys, components; print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_should_loading_the_parser_on_its_own_fail_the_usual_import_takes_over(monkeypatch: pytest.MonkeyPatch) -> None:
    def moved(package: str, relative: str) -> None:
        raise AttributeError(f"{package} has no {relative}")

    monkeypatch.delitem(sys.modules, "kubernetes.utils.quantity", raising=False)
    monkeypatch.setattr(validation, "_load_module_file", moved)
    parser = validation._official_quantity_parser()
    assert parser.__module__ == "kubernetes.utils.quantity"
    assert [parser(value) for value in SAMPLES] == [official_parse_quantity(value) for value in SAMPLES]


def test_on_its_own_the_parser_is_loaded_from_the_clients_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "kubernetes.utils.quantity", raising=False)
    parser = validation._official_quantity_parser()
    assert parser.__module__ == "components.validation._kubernetes_quantity"
    assert [parser(value) for value in SAMPLES] == [official_parse_quantity(value) for value in SAMPLES]
