"""Resource quantities: our own parser, held to the official Kubernetes client's and the API server's rules."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from kubernetes.utils.quantity import parse_quantity as official_parse_quantity

from components import validation
from tests.conftest import ROOT

SAMPLES = ["1", "250m", "0.5", "512Mi", "2Gi", "1.5G", "100k", "1e3", "3Ti", "10Ki", "1Ei"]
BINARY_SUFFIXES = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
DECIMAL_SUFFIXES = ["n", "u", "m", "", "k", "M", "G", "T", "P", "E"]

_digits = st.text(alphabet="0123456789", max_size=30)


@st.composite
def api_server_quantities(draw: st.DrawFn) -> str:
    """Strings the API server accepts: sign, a number with at least one digit, one suffix at most."""
    whole, fraction = draw(_digits), draw(_digits)
    number = whole + "." + fraction if draw(st.booleans()) else whole + fraction
    if not whole + fraction:
        number = "0" + number
    exponent = draw(st.sampled_from(["e", "E"])) + draw(st.sampled_from(["", "+", "-"]))
    exponent += draw(st.text(alphabet="0123456789", min_size=1, max_size=4))
    suffix = draw(st.one_of(st.sampled_from(BINARY_SUFFIXES + DECIMAL_SUFFIXES), st.just(exponent)))
    return draw(st.sampled_from(["", "+", "-"])) + number + suffix


class TestQuantityValue:
    @pytest.mark.parametrize("value", SAMPLES)
    def test_quantities_parse_as_the_official_client_parses_them(self, value: str) -> None:
        assert validation.quantity_value(value) == official_parse_quantity(value)

    @given(api_server_quantities())
    @example("0")
    @example("-0")
    @example(".5")
    @example("5.")
    @example("+1.e3")
    @example("7E")
    @example("1E-2")
    def test_every_quantity_the_api_server_accepts_has_the_official_clients_value(self, value: str) -> None:
        assert validation.quantity_value(value) == official_parse_quantity(value)

    @given(st.text(alphabet="0123456789.+-eEinumkKMGTPi _", max_size=12))
    @example("1K")
    @example(" 1")
    @example("1_000")
    @example("1e3k")
    def test_what_is_accepted_is_accepted_by_the_official_client_with_the_same_value(self, value: str) -> None:
        try:
            ours = validation.quantity_value(value)
        except ValueError:
            return  # refusing more than the client is allowed (the API server refuses more, see below)
        assert ours == official_parse_quantity(value)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1Ki", Decimal(1024)),
            ("1Ei", Decimal(2**60)),
            ("250m", Decimal("0.25")),
            ("1n", Decimal("1e-9")),
            ("3u", Decimal("3e-6")),
            ("2k", Decimal(2000)),
            ("1E", Decimal(10**18)),
            ("1e3", Decimal(1000)),
            ("1E3", Decimal(1000)),
            ("15e-1", Decimal("1.5")),
            ("+.5Gi", Decimal(2**29)),
            ("-2M", Decimal(-2_000_000)),
            ("1.", Decimal(1)),
        ],
    )
    def test_suffixes_and_exponents_scale_the_number(self, value: str, expected: Decimal) -> None:
        assert validation.quantity_value(value) == expected


class TestQuantity:
    @pytest.mark.parametrize(
        "value",
        ["", "lots", "1.2.3", "1.5.0", "Mi", "5mi", "5ki", "1KiB", "5Mb", "e3", ".", "+", "-", "1e", "1e1.5", "Ki1"],
    )
    def test_what_the_official_parser_refuses_is_refused_with_what_is_allowed(self, value: str) -> None:
        with pytest.raises(ValueError, match="must be a Kubernetes quantity such as '250m'"):
            validation.quantity(value)

    @pytest.mark.parametrize(
        "value",
        # A lone K (kilo is k), spaces, underscores, a suffix after an exponent, non-ASCII digits,
        # NaN and Infinity: Python's Decimal, and so the client, take them; the API server does not.
        ["1K", " 1", "1 ", "1\n", "1_000", "1e3k", "\u0661", "NaN", "Infinity", "-inf"],
    )
    def test_what_the_api_server_refuses_is_refused_even_where_the_official_client_takes_it(self, value: str) -> None:
        official_parse_quantity(value)  # no error: the client is more lenient than the API server
        with pytest.raises(ValueError, match="must be a Kubernetes quantity"):
            validation.quantity(value)

    def test_a_valid_quantity_is_kept_as_written(self) -> None:
        assert validation.quantity("1.50Gi") == "1.50Gi"

    def test_negative_quantities_are_refused(self) -> None:
        assert validation.quantity_value("-1") == Decimal(-1)
        with pytest.raises(ValueError, match="must not be negative"):
            validation.quantity("-1")

    def test_importing_the_components_does_not_load_the_kubernetes_client(self) -> None:
        code = "import sys, components; print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))"
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        assert result.stdout.strip() == "[]"
