"""An application team's program: its own namespace and apps, from the published components.

The worker calls the API. That is written once, as the worker's egress intent; the library's intent
compiler turns it into both ends (the worker may send, the API accepts from the worker, on the API's
port) before the apps are made, and refuses an intent that names no app of the environment.
"""

from __future__ import annotations

import pulumi
from stackyard_components import (
    App,
    AppArgs,
    AppNamespace,
    AppNamespaceArgs,
    EgressRule,
    Port,
    compile_network_intents,
)

config = pulumi.Config()
environment = config.require("environment")
namespace_name = f"orders-{environment}"
database = EgressRule.to_cidr("10.50.0.0/24", ports=[Port.tcp(5432)])

namespace = AppNamespace(namespace_name, AppNamespaceArgs(name=namespace_name, part_of="orders"))
intents = [
    AppArgs(
        namespace=namespace_name,
        name="orders-api",
        image=config.require("image"),
        replicas=config.require_int("replicas"),
        part_of="orders",
        egress=[database],
    ),
    AppArgs(
        namespace=namespace_name,
        name="orders-worker",
        image=config.require("workerImage"),
        service=False,
        part_of="orders",
        egress=[EgressRule.to_app("orders-api"), database],
    ),
]
apps = {
    args.name: App(args.name, args, opts=pulumi.ResourceOptions(depends_on=[namespace]))
    for args in compile_network_intents(intents)
}

pulumi.export("namespace", namespace.namespace_name)
pulumi.export("service", apps["orders-api"].service_name)
