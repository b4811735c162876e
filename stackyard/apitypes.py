"""What the provider makes of a built-in object before it writes it: the Go type round trip, offline.

pulumi-kubernetes' ``Check`` converts every object of a built-in API version to its Go type and
back (``clients.Normalize``), then keeps only the fields the object was given
(``pruneLiveState``), and drops read-only metadata. So a field is written the way Go writes it:

- a field whose JSON tag says ``omitempty`` disappears when it is empty in Go terms: an empty list
  or map, ``""``, ``false`` or ``0`` (but not when the field is a pointer: ``*bool`` false stays);
  so ``ingress: []`` on a NetworkPolicy, ``annotations: {}`` and ``hostNetwork: false`` go, while
  ``automountServiceAccountToken: false`` stays;
- a field the Go type does not know disappears;
- quantities are written in canonical form (``0.5`` → ``500m``, ``1024Mi`` → ``1Gi``), times in
  RFC 3339, and byte fields in standard base64;
- an object that does not convert (a string where a number belongs) is written as given.

CRDs and Secrets are special-cased as the provider does. The Go types are read from the pinned
provider's module by ``stackyard-expand api-types`` into ``apitypes.json`` (generated, reviewed;
``make api-types`` regenerates it, and a test compares it with the expander's), so this runs
without Go. The expander's own conversion is the oracle the tests compare this with.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from datetime import UTC, datetime
from decimal import ROUND_UP, Decimal, InvalidOperation, localcontext
from importlib import resources
from typing import Any

__all__ = ["TABLE_FILE", "as_provider_writes", "canonical_quantity", "load_table"]

TABLE_FILE = "apitypes.json"


class _UnconvertibleError(Exception):
    """The value does not fit its Go type; the provider then writes the object as it was given."""


@functools.cache
def load_table() -> dict[str, Any]:
    """The generated table of Go types (see the module's docs)."""
    loaded: dict[str, Any] = json.loads(resources.files(__package__).joinpath(TABLE_FILE).read_text("utf-8"))
    return loaded


def as_provider_writes(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (nulls already dropped) as the provider's render writes it (see the module's docs)."""
    table = load_table()
    api_version, kind = str(body.get("apiVersion", "")), str(body.get("kind", ""))
    result = body
    if api_version in set(table["knownGroupVersions"]):
        if kind == "CustomResourceDefinition":
            result = _crd(body)
        elif kind == "Secret" and api_version == "v1":
            result = body  # the provider normalises only its data, which exports redact
        elif (type_name := table["kinds"].get(f"{api_version}/{kind}")) is not None:
            try:
                result = _convert(body, type_name, table["structs"])
            except _UnconvertibleError:
                result = body
    return _without_read_only_metadata(result, table["readOnlyMetadata"])


def _crd(body: dict[str, Any]) -> dict[str, Any]:
    result = {key: value for key, value in body.items() if key != "status"}
    spec = result.get("spec")
    if isinstance(spec, dict) and spec.get("preserveUnknownFields") is False:
        result["spec"] = {key: value for key, value in spec.items() if key != "preserveUnknownFields"}
    return result


def _without_read_only_metadata(body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    metadata = body.get("metadata")
    if not isinstance(metadata, dict) or not any(field in metadata for field in fields):
        return body
    return {**body, "metadata": {key: value for key, value in metadata.items() if key not in fields}}


def _convert(value: Any, type_name: str, structs: dict[str, Any]) -> Any:
    """``value`` read into Go type ``type_name`` and written back, keeping only given fields."""
    if type_name.startswith("*"):
        return _convert(value, type_name[1:], structs)
    if type_name.startswith("[]"):
        if not isinstance(value, list):
            raise _UnconvertibleError
        return [_convert(item, type_name[2:], structs) if item is not None else None for item in value]
    if type_name.startswith("map[]"):
        if not isinstance(value, dict):
            raise _UnconvertibleError
        return {key: _convert(item, type_name[5:], structs) for key, item in value.items()}
    if type_name in structs:
        if not isinstance(value, dict):
            raise _UnconvertibleError
        return _struct(value, structs[type_name], structs)
    return _scalar(value, type_name)


def _struct(value: dict[str, Any], fields: dict[str, Any], structs: dict[str, Any]) -> dict[str, Any]:
    written = {}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            continue  # a field the Go type does not have is dropped by the conversion
        converted = _convert(item, field["t"], structs)
        if field.get("o") and _empty_in_go(converted, field["t"]):
            continue
        written[key] = converted
    return written


def _empty_in_go(value: Any, type_name: str) -> bool:
    """Go's omitempty test on the typed value: a set pointer, a struct or a custom type never is."""
    if type_name.startswith("*"):
        return False
    if type_name.startswith(("[]", "map[]")) or type_name == "bytes":
        return len(value) == 0
    if type_name in ("string", "bool", "int", "float"):
        return not value
    return False


def _scalar(value: Any, type_name: str) -> Any:
    converter = _SCALARS.get(type_name)
    if converter is None:
        return value  # raw JSON (RawExtension, JSON schema types, FieldsV1, interfaces) as given
    return converter(value)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _UnconvertibleError
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _UnconvertibleError
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _UnconvertibleError
    return int(value)


def _float(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _UnconvertibleError
    return value


def _bytes(value: Any) -> str:
    # Go's base64 decoder skips line breaks (wrapped base64); every other stray character is an error.
    unwrapped = _string(value).replace("\r", "").replace("\n", "")
    try:
        return base64.b64encode(base64.b64decode(unwrapped, validate=True)).decode("ascii")
    except binascii.Error:
        raise _UnconvertibleError from None


def _int_or_string(value: Any) -> int | str:
    if isinstance(value, str):
        return value
    return _int(value)


#: What Go's time.Parse accepts for v1.Time (RFC 3339, any fraction) and v1.MicroTime (RFC 3339
#: with exactly six fraction digits); datetime.fromisoformat alone would accept more.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_RFC3339_MICRO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$")


def _time(value: Any) -> str:
    return _parsed_time(value, _RFC3339).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_time(value: Any) -> str:
    return _parsed_time(value, _RFC3339_MICRO).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parsed_time(value: Any, layout: re.Pattern[str]) -> datetime:
    text = _string(value)
    if not layout.match(text):
        raise _UnconvertibleError
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _UnconvertibleError from None
    if parsed.tzinfo is None:
        raise _UnconvertibleError
    return parsed.astimezone(UTC)


def _quantity(value: Any) -> str:
    if isinstance(value, bool):
        raise _UnconvertibleError
    if isinstance(value, int | float):
        value = json.dumps(value)
    return canonical_quantity(_string(value))


_SCALARS = {
    "string": _string,
    "bool": _bool,
    "int": _int,
    "float": _float,
    "bytes": _bytes,
    "intstr.IntOrString": _int_or_string,
    "resource.Quantity": _quantity,
    "v1.Time": _time,
    "v1.MicroTime": _micro_time,
}

# -- quantities -----------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?P<suffix>.*)$")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_BINARY_SUFFIX = {bits: suffix for suffix, bits in _BINARY.items()}
_EXPONENT = re.compile(r"^[eE][+-]?[0-9]+$")
_NANO = Decimal("1e-9")


def canonical_quantity(text: str) -> str:
    """A quantity as ``resource.Quantity`` writes it after parsing (``0.5`` → ``500m``, ``2048Mi`` → ``2Gi``).

    Like ParseQuantity, a string already in a form it deems canonical is kept as written (``1.500``,
    ``+1``, ``1E3``): see :func:`_kept_as_written`.
    """
    text = text.strip()  # as Quantity.UnmarshalJSON does before parsing
    match = _QUANTITY.match(text)
    if match is None:
        raise _UnconvertibleError
    suffix = match["suffix"]
    try:
        number = Decimal(match["number"])
    except InvalidOperation:
        raise _UnconvertibleError from None
    if suffix in _BINARY:
        exponent, form = _BINARY[suffix], "binary"
    elif suffix in _DECIMAL:
        exponent, form = _DECIMAL[suffix], "decimal"
    elif _EXPONENT.match(suffix):
        exponent, form = int(suffix[1:]), "exponent"
    else:
        raise _UnconvertibleError
    if _kept_as_written(match["number"], exponent, form):
        return text
    # Enough digits for the largest quantity to the nano (the default context has 28).
    with localcontext() as context:
        context.prec = 200
        value = number * (Decimal(2) ** exponent) if form == "binary" else number.scaleb(exponent)
        # Precision below a nano is rounded up, away from zero, as ParseQuantity does.
        value = value.quantize(_NANO, rounding=ROUND_UP) if value != value.quantize(_NANO) else value
        if value == 0:
            return "0"
        if form == "binary" and (abs(value) < 1024 or value != value.to_integral_value()):
            form = "decimal"
        if form == "binary":
            return _base_1024(int(value))
        return _base_10(value, form)


def _kept_as_written(number: str, exponent: int, form: str) -> bool:
    """Whether ParseQuantity's int64 fast path keeps the input string (and MarshalJSON writes it).

    It does when the value fits its precision and, for decimal forms, the scale is a multiple of 3
    and the digits neither start with 0 nor end in 000; for binary ones, when the digits are not a
    multiple of 8. (k8s.io/apimachinery, pkg/api/resource/quantity.go.)
    """
    unsigned = number.lstrip("+-").lstrip("0")
    whole, _, fraction = unsigned.partition(".")
    whole = whole or "0"
    shifted = whole + fraction
    if form == "binary":
        if fraction or 15 - len(whole) - int(exponent * 3 / 10) - 1 < 0:
            return False
        value = int(shifted)
        return value << exponent < 2**63 and value & 0x07 != 0
    scale = exponent - len(fraction)
    if 18 - len(shifted) < 0 or scale < -9:
        return False
    return scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"


def _base_1024(amount: int) -> str:
    bits = 0
    while amount % 1024 == 0 and bits < 60:
        amount //= 1024
        bits += 10
    return f"{amount}{_BINARY_SUFFIX.get(bits, '')}"


def _base_10(value: Decimal, form: str) -> str:
    sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = int("".join(map(str, digits))) * (-1 if sign else 1)
    shift = exponent % 3  # lower the exponent to a multiple of 3 (Python's % is never negative)
    mantissa, exponent = mantissa * 10**shift, exponent - shift
    if form == "decimal" and exponent in _DECIMAL_SUFFIX:
        return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"
    return f"{mantissa}e{exponent}" if exponent else str(mantissa)
