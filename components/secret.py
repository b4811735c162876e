"""AppSecret: a Kubernetes Secret whose values stay secret all the way through Pulumi."""

from __future__ import annotations

from typing import Annotated

import pulumi
import pulumi_kubernetes.core.v1 as core
from pydantic import ConfigDict, Field, StringConstraints

from ._kit.args import Args
from ._kit.children import child_options, name_output
from ._kit.metadata import object_meta, standard_labels
from .validation import DnsLabel, DnsSubdomain, LabelValue

__all__ = ["TYPE_TOKEN", "AppSecret", "AppSecretArgs", "SecretKey"]

TYPE_TOKEN = "stackyard:index:AppSecret"

SecretKey = Annotated[str, StringConstraints(pattern=r"^[-._a-zA-Z0-9]{1,253}$")]


class AppSecretArgs(Args):
    """Inputs of :class:`AppSecret`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    namespace: DnsLabel
    """The namespace of the Secret."""
    name: DnsSubdomain
    """The Secret's name, as apps refer to it in ``secretFiles`` or ``secretEnv``."""
    values: dict[SecretKey, pulumi.Output[str]] = Field(min_length=1)
    """The Secret's keys and values. Every value is marked secret, whatever it was before, so it is
    encrypted in Pulumi state and redacted in every export."""
    part_of: LabelValue = ""
    """The ``app.kubernetes.io/part-of`` label. Default: no label."""


class AppSecret(pulumi.ComponentResource):
    """An Opaque Secret built from secret Pulumi values (for example ``secure:`` stack config)."""

    secret_name: pulumi.Output[str]
    """The Secret's name."""

    def __init__(self, name: str, args: AppSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        secret = core.Secret(
            name,
            metadata=object_meta(
                args.name, args.namespace, standard_labels(args.name, args.namespace, part_of=args.part_of)
            ),
            type="Opaque",
            string_data={key: _as_secret(value) for key, value in sorted(args.values.items())},
            opts=child_options(self, opts),
        )
        self.secret_name = name_output(secret, args.name)
        self.register_outputs({"secret_name": self.secret_name})


def _as_secret(value: pulumi.Output[str]) -> pulumi.Output[str]:
    secret: pulumi.Output[str] = pulumi.Output.secret(value)
    return secret
