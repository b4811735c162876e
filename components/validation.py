"""Kubernetes value rules shared by every component's args.

Each checker returns the value when it is valid and raises ``ValueError`` with what is allowed
otherwise; pydantic turns that into an error located at the field's key path.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator

__all__ = [
    "DnsLabel",
    "DnsSubdomain",
    "EnvVarName",
    "ImageReference",
    "LabelMap",
    "LabelValue",
    "PortName",
    "PortNumber",
    "Quantity",
    "ServiceName",
    "image_tag",
    "labels",
    "port_name",
    "quantity",
    "quantity_value",
]

# These mirror k8s.io/apimachinery/pkg/util/validation, which the API server applies.
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

# The distribution reference grammar (github.com/distribution/reference), simplified only in that
# the host and path components are matched together.
_IMAGE_REF = re.compile(
    r"^(?P<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?::[0-9]+)?"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_IMAGE_HOST = re.compile(r"^[a-zA-Z0-9.-]+(?::[0-9]+)?/")


def _check_name(value: str, pattern: re.Pattern[str], longest: int, rule: str) -> str:
    """``value`` when it matches ``pattern`` within ``longest`` characters; else ``ValueError(rule)``."""
    if len(value) > longest or not pattern.match(value):
        raise ValueError(rule)
    return value


def _dns1123_label(value: str) -> str:
    """A DNS-1123 label: namespaces, most object names."""
    return _check_name(
        value,
        _DNS1123_LABEL,
        63,
        "must be a DNS-1123 label: at most 63 characters of lowercase a-z, 0-9 and '-', "
        "starting and ending with an alphanumeric character",
    )


def _dns1035_label(value: str) -> str:
    """A DNS-1035 label: Service names, which must also start with a letter."""
    return _check_name(
        value,
        _DNS1035_LABEL,
        63,
        "must be a DNS-1035 label: at most 63 characters of lowercase a-z, 0-9 and '-', "
        "starting with a letter and ending with an alphanumeric character",
    )


def _dns1123_subdomain(value: str) -> str:
    """A DNS-1123 subdomain: ConfigMap and Secret names, label key prefixes."""
    return _check_name(
        value,
        _DNS1123_SUBDOMAIN,
        253,
        "must be a DNS-1123 subdomain: at most 253 characters of dot-separated DNS-1123 labels",
    )


def _label_key(value: str) -> str:
    """A label or annotation key: an optional DNS subdomain prefix and a name of at most 63 characters."""
    prefix, _, name = value.rpartition("/")
    if "/" in prefix or (prefix and not _DNS1123_SUBDOMAIN.match(prefix)) or len(prefix) > 253:
        raise ValueError("must be a label key: an optional DNS-1123 subdomain prefix and '/', then a name")
    if len(name) > 63 or not _LABEL_NAME.match(name):
        raise ValueError(
            "must be a label key: a name part of at most 63 characters of alphanumerics, '-', '_' "
            "and '.', starting and ending with an alphanumeric character"
        )
    return value


def _label_value(value: str) -> str:
    """A label value: empty, or at most 63 characters that start and end alphanumeric."""
    if not value:
        return value
    return _check_name(
        value,
        _LABEL_NAME,
        63,
        "must be a label value: empty, or at most 63 characters of alphanumerics, '-', '_' "
        "and '.', starting and ending with an alphanumeric character",
    )


def labels(value: dict[str, str]) -> dict[str, str]:
    """Every key and value of a label map."""
    for key, item in value.items():
        try:
            _label_key(key)
            _label_value(item)
        except ValueError as error:
            raise ValueError(f"label {key!r}={item!r}: {error}") from None
    return value


def _env_var_name(value: str) -> str:
    """An environment variable name as the API server accepts it."""
    if not _ENV_VAR_NAME.match(value):
        raise ValueError(
            "must be an environment variable name: letters, digits, '_', '-' and '.', not starting with a digit"
        )
    return value


def port_name(value: str) -> str:
    """An IANA service name: how a named port is referred to by probes, Services and ServiceMonitors."""
    if len(value) > 15 or not _IANA_SVC_NAME.match(value) or "--" in value or not re.search("[a-z]", value):
        raise ValueError(
            "must be an IANA service name: at most 15 characters of lowercase a-z, 0-9 and '-', "
            "with at least one letter and no '--'"
        )
    return value


def _port_number(value: int) -> int:
    """A TCP or UDP port."""
    if not 1 <= value <= 65535:
        raise ValueError("must be a port number from 1 to 65535")
    return value


# A resource quantity as the API server parses it (k8s.io/apimachinery/pkg/api/resource): an
# optional sign, a decimal number with at least one digit, then at most one suffix: a binary SI
# prefix (Ki .. Ei, powers of 1024), a decimal SI prefix (n u m k M G T P E, powers of 1000; kilo
# is a lowercase k, and a lone K is refused) or a decimal exponent (e3, E-2). ASCII digits only,
# and no spaces, underscores, NaN or Infinity, all of which Python's Decimal would otherwise take.
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<binary>[KMGTPE]i)|(?P<exponent>[eE][+-]?[0-9]+)|(?P<decimal>[numkMGTPE]))?",
    re.ASCII,
)
_BINARY_MULTIPLIERS = {prefix: Decimal(1024**power) for power, prefix in enumerate("KMGTPE", start=1)}
_DECIMAL_MULTIPLIERS = {
    prefix: Decimal(1000) ** power
    for prefix, power in {"n": -3, "u": -2, "m": -1, "k": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}.items()
}


def _parse_quantity(value: str) -> Decimal:
    """The value of a resource quantity; ``ValueError`` when the API server would refuse it."""
    match = _QUANTITY.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    number, binary, exponent, decimal = match.group("number", "binary", "exponent", "decimal")
    if exponent:
        return Decimal(number + exponent)
    if binary:
        return Decimal(number) * _BINARY_MULTIPLIERS[binary[0]]
    if decimal:
        return Decimal(number) * _DECIMAL_MULTIPLIERS[decimal]
    return Decimal(number)


def quantity(value: str) -> str:
    """A Kubernetes resource quantity, as the API server accepts it: ``250m``, ``1``, ``512Mi``, ``1e3``."""
    try:
        parsed = _parse_quantity(value)
    except ValueError:
        raise ValueError("must be a Kubernetes quantity such as '250m', '1', '512Mi' or '2Gi'") from None
    if parsed < 0:
        raise ValueError("must not be negative")
    return value


def quantity_value(value: str) -> Decimal:
    """The numeric value of an already validated quantity, for comparisons."""
    return _parse_quantity(value)


def _image_reference(value: str) -> str:
    """A pullable image pinned by tag or digest, never ``latest`` or untagged."""
    match = _IMAGE_REF.match(value)
    if match is None:
        raise ValueError(
            "must be an image reference such as 'registry.example.com/team/app:1.2.3' or 'repo:tag@sha256:<64 hex>'"
        )
    if not match.group("tag") and not match.group("digest"):
        raise ValueError("must name a tag or a digest: an untagged image means ':latest', which is not reproducible")
    if match.group("tag") == "latest":
        raise ValueError("must not use the 'latest' tag: pin a version tag or a digest")
    return value


def image_tag(value: str) -> str:
    """The tag of a validated image reference, or the short digest when only a digest is given."""
    match = _IMAGE_REF.match(value)
    assert match is not None  # only called on validated references
    if match.group("tag"):
        return str(match.group("tag"))
    return str(match.group("digest"))[len("sha256:") :][:12]


DnsLabel = Annotated[str, AfterValidator(_dns1123_label)]
DnsSubdomain = Annotated[str, AfterValidator(_dns1123_subdomain)]
ServiceName = Annotated[str, AfterValidator(_dns1035_label)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
LabelMap = Annotated[dict[str, str], AfterValidator(labels)]
PortName = Annotated[str, AfterValidator(port_name)]
PortNumber = Annotated[int, AfterValidator(_port_number)]
Quantity = Annotated[str, AfterValidator(quantity)]
ImageReference = Annotated[str, AfterValidator(_image_reference)]
EnvVarName = Annotated[str, AfterValidator(_env_var_name)]
