"""An application team's program: its own namespace and API, from the published components."""

from __future__ import annotations

import pulumi
from stackyard_components import App, AppArgs, AppNamespace, AppNamespaceArgs, EgressRule, Port

config = pulumi.Config()
environment = config.require("environment")
namespace_name = f"orders-{environment}"

namespace = AppNamespace(namespace_name, AppNamespaceArgs(name=namespace_name, part_of="orders"))
api = App(
    "orders-api",
    AppArgs(
        namespace=namespace_name,
        name="orders-api",
        image=config.require("image"),
        replicas=config.require_int("replicas"),
        part_of="orders",
        egress=[EgressRule.to_cidr("10.50.0.0/24", ports=[Port.tcp(5432)])],
    ),
    opts=pulumi.ResourceOptions(depends_on=[namespace]),
)

pulumi.export("namespace", namespace.namespace_name)
pulumi.export("service", api.service_name)
