"""Small validated value types that several components' args share.

Each checker returns the value when it is valid and raises ``ValueError`` saying what is allowed,
which pydantic reports at the field's config key path (see :mod:`components.validation`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated

from pydantic import AfterValidator, Field

from ..validation import DnsSubdomain
from .args import Args

__all__ = [
    "CidrBlock",
    "Duration",
    "Hostname",
    "SecretKeyRef",
    "check_cidr",
    "duration",
    "hostname",
    "repeated",
    "text_matching",
]


def text_matching(pattern: str, message: str) -> Callable[[str], str]:
    """A checker of text that must match ``pattern`` in full; ``message`` says what is allowed."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(message)
        return value

    return check


duration = text_matching(
    r"^(0|([0-9]+(ms|s|m|h|d|w|y))+)$", "must be a Prometheus duration such as '30s', '5m' or '1h30m'"
)
#: A Prometheus duration such as ``30s``, ``5m`` or ``1h30m``: scrape intervals, retention.
Duration = Annotated[str, AfterValidator(duration)]

_HOST_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def hostname(value: str) -> str:
    """An RFC 1123 host name, optionally with a leading ``*.`` wildcard label; never an IP."""
    host_labels = value.split(".")
    wildcard = host_labels[0] == "*"
    if wildcard:
        host_labels = host_labels[1:]
    if (
        len(value) > 253
        or len(host_labels) < (2 if wildcard else 1)
        or not all(len(label) <= 63 and _HOST_LABEL.match(label) for label in host_labels)
    ):
        raise ValueError(
            "must be a lowercase RFC 1123 host name such as 'shop.example.com'; a wildcard is allowed "
            "only as the whole first label ('*.example.com')"
        )
    if all(label.isdigit() for label in host_labels):
        raise ValueError("must be a host name, not an IP address")
    return value


#: A host name: routes, Gateway listeners, log backends.
Hostname = Annotated[str, AfterValidator(hostname)]


def check_cidr(cidr: str, exceptions: Sequence[str] = ()) -> None:
    """A network in CIDR notation, and sub-blocks of it to leave out, each inside it and not all of it."""
    try:
        block = ipaddress.ip_network(cidr, strict=True)
    except ValueError as error:
        raise ValueError(f"cidr {cidr!r} is not a valid network in CIDR notation ({error})") from None
    for item in exceptions:
        try:
            excluded = ipaddress.ip_network(item, strict=True)
        except ValueError as error:
            raise ValueError(f"exceptCidrs entry {item!r} is not a valid network ({error})") from None
        if excluded.version != block.version or not excluded.subnet_of(block):  # type: ignore[arg-type]
            raise ValueError(f"exceptCidrs entry {item!r} is not inside cidr {cidr!r}")
        if excluded == block:
            raise ValueError(f"exceptCidrs entry {item!r} removes all of cidr {cidr!r}, so the rule matches nothing")


def _cidr_block(value: str) -> str:
    """A network in CIDR notation, such as ``169.254.20.10/32``."""
    check_cidr(value)
    return value


CidrBlock = Annotated[str, AfterValidator(_cidr_block)]


def repeated(items: Iterable[str]) -> list[str]:
    """The items that occur more than once, sorted, for an error that names them."""
    seen: set[str] = set()
    twice: set[str] = set()
    for item in items:
        (twice if item in seen else seen).add(item)
    return sorted(twice)


class SecretKeyRef(Args):
    """One key of an existing Secret, exposed to the container as an environment variable."""

    secret: DnsSubdomain
    """The Secret's name, in the app's namespace."""
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]{1,253}$")
    """The key inside the Secret."""
