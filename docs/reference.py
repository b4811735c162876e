"""Generate the component reference pages (docs/reference/*.md) from the components themselves.

Every page lists each arg with its config key, type and documented default, then runs a short
example under the Pulumi SDK's mocks and shows the YAML it renders. A test regenerates the pages
and fails when the committed ones differ, so the reference cannot drift from the code:

    .venv/bin/python docs/reference.py          # rewrite docs/reference/
"""

from __future__ import annotations

import inspect
import sys
import textwrap
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402 - after the path set-up above
from pydantic import BaseModel  # noqa: E402

import components  # noqa: E402
from stackyard import mockrt  # noqa: E402
from stackyard.manifests import dump, is_manifest, to_manifest  # noqa: E402

OUT = ROOT / "docs" / "reference"


@dataclass(frozen=True)
class Page:
    """One component's page: its class, its args model and a short example program."""

    component: type[pulumi.ComponentResource]
    args: type[BaseModel]
    example: str


PAGES = [
    Page(
        components.AppNamespace,
        components.AppNamespaceArgs,
        """
        AppNamespace("shop-dev", AppNamespaceArgs(name="shop-dev", part_of="shop"))
        """,
    ),
    Page(
        components.App,
        components.AppArgs,
        """
        App(
            "api",
            AppArgs(
                namespace="shop-dev",
                name="api",
                image="registry.example.com/shop/api:1.4.0",
                port=9000,
                autoscaling=Autoscaling(min_replicas=2, max_replicas=6),
                env={"LOG_LEVEL": "info"},
                egress=[EgressRule.to_cidr("10.20.0.0/24", ports=[Port.tcp(5432)])],
            ),
        )
        """,
    ),
    Page(
        components.AppSecret,
        components.AppSecretArgs,
        """
        AppSecret(
            "db",
            AppSecretArgs(namespace="shop-dev", name="db", values={"password": pulumi.Output.secret("s3cret")}),
        )
        """,
    ),
    Page(
        components.AppRoute,
        components.AppRouteArgs,
        """
        AppRoute(
            "web",
            AppRouteArgs(
                namespace="shop-dev",
                service="web",
                service_port=80,
                service_port_name="http",
                route=Route(host="shop.example.com", paths=["/"], tls_secret="shop-tls"),
                api="gateway",
                gateway="public",
            ),
        )
        """,
    ),
    Page(
        components.AppGateway,
        components.AppGatewayArgs,
        """
        AppGateway(
            "public",
            AppGatewayArgs(
                namespace="shop-dev",
                name="public",
                gateway_class="traefik",
                http_port=8000,
                https_port=8443,
                tls=[TlsListener(host="shop.example.com", tls_secret="shop-tls")],
            ),
        )
        """,
    ),
    Page(
        components.IngressController,
        components.IngressControllerArgs,
        """
        IngressController("traefik", IngressControllerArgs(route_api="gateway", replicas=2))
        """,
    ),
    Page(
        components.LogShipping,
        components.LogShippingArgs,
        """
        LogShipping("fluent-bit", LogShippingArgs(outputs=[LogOutput(type="loki", host="loki.example.com")]))
        """,
    ),
    Page(
        components.Monitoring,
        components.MonitoringArgs,
        """
        Monitoring("kube-prometheus-stack", MonitoringArgs(grafana_admin_secret="grafana-admin"))
        """,
    ),
    Page(
        components.AppMonitoring,
        components.AppMonitoringArgs,
        """
        AppMonitoring(
            "api",
            AppMonitoringArgs(
                namespace="shop-dev",
                app="api",
                selector={"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api-shop-dev"},
                metrics_port_name="metrics",
            ),
        )
        """,
    ),
]


def type_name(annotation: Any) -> str:  # noqa: PLR0911 - one return per kind of annotation reads clearest
    """A reader's rendering of a field's type: validators dropped, models named."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(arguments[0])
    if origin is typing.Literal:
        return " | ".join(f'"{value}"' for value in arguments)
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(argument) for argument in arguments)
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(type_name(a) for a in arguments)}]"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def nested_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The args models a model's fields refer to, depth first, each once."""
    found: list[type[BaseModel]] = []

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in found:
                found.append(annotation)
                for info in annotation.model_fields.values():
                    visit(info.annotation)
            return
        for argument in typing.get_args(annotation):
            visit(argument)

    for info in model.model_fields.values():
        visit(info.annotation)
    return [m for m in found if m is not model]


def field_table(model: type[BaseModel]) -> str:
    rows = ["| config key | Python | type | description |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        description = " ".join((info.description or "").split()).replace("|", "\\|")
        required = " **Required.**" if info.is_required() else ""
        kind = type_name(info.annotation).replace("|", "\\|")
        rows.append(f"| `{info.alias or name}` | `{name}` | {kind} | {description}{required} |")
    return "\n".join(rows)


def example_yaml(example: str) -> str:
    namespace: dict[str, Any] = {name: getattr(components, name) for name in components.__all__}
    namespace["pulumi"] = pulumi
    run = mockrt.evaluate(
        lambda: exec(textwrap.dedent(example), namespace),
        project="docs",
        stack="example",
        config={},
        secret_keys=[],
    )
    manifests = sorted((to_manifest(r) for r in run.registrations if is_manifest(r)), key=lambda m: m.path)
    charts = sorted(r.type + " " + r.name for r in run.registrations if r.type.startswith("kubernetes:helm.sh"))
    text = "\n---\n".join(dump(m.body).rstrip("\n") for m in manifests)
    if charts:
        text += "\n# plus, expanded only by the real engine: " + ", ".join(charts)
    return text


def page(entry: Page) -> str:
    doc = inspect.cleandoc(entry.component.__doc__ or "")
    sections = [
        f"# {entry.component.__name__}",
        "",
        "<!-- Generated by docs/reference.py from the component's code; a test fails if it drifts. -->",
        "",
        doc,
        "",
        f"Python: `from stackyard_components import {entry.component.__name__}, {entry.args.__name__}` "
        f"(in this repository, `components`). Type token: `{sys.modules[entry.component.__module__].TYPE_TOKEN}`.",
        "",
        f"## {entry.args.__name__}",
        "",
        field_table(entry.args),
    ]
    for model in nested_models(entry.args):
        sections += ["", f"### {model.__name__}", "", inspect.cleandoc(model.__doc__ or ""), "", field_table(model)]
    sections += [
        "",
        "## Example",
        "",
        "```python",
        textwrap.dedent(entry.example).strip(),
        "```",
        "",
        "renders (under the SDK's mocks, as `stackyard render` would):",
        "",
        "```yaml",
        example_yaml(entry.example),
        "```",
        "",
    ]
    return "\n".join(sections)


def pages() -> dict[str, str]:
    """File name → page text, for every documented component, plus the index."""
    result = {f"{entry.component.__name__}.md": page(entry) for entry in PAGES}
    lines = ["# Component reference", "", "<!-- Generated by docs/reference.py; a test fails if it drifts. -->", ""]
    for entry in PAGES:
        summary = " ".join(inspect.cleandoc(entry.component.__doc__ or "").split("\n\n")[0].split())
        lines.append(f"- [{entry.component.__name__}]({entry.component.__name__}.md): {summary}")
    result["README.md"] = "\n".join(lines) + "\n"
    return result


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in pages().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
