"""The multi-language facade: the schema Pulumi infers for it, and that it is the same implementation."""

from __future__ import annotations

import json
from typing import Any

from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.schema import generate_schema

from components import App, AppArgs, AppNamespace, AppNamespaceArgs, __version__, provider
from tests.conftest import ROOT, run_program
from tests.golden import check_golden


def inferred_schema() -> dict[str, Any]:
    result = Analyzer(provider.PACKAGE_NAME).analyze(provider.PUBLISHED)
    spec = generate_schema(
        provider.PACKAGE_NAME,
        __version__,
        None,
        result["component_definitions"],
        result["type_definitions"],
        list(result["dependencies"]),
    )
    document: dict[str, Any] = spec.to_json()
    return document


class TestProviderSchema:
    def test_the_components_keep_their_type_tokens(self) -> None:
        resources = inferred_schema()["resources"]
        assert set(resources) == {"stackyard:index:App", "stackyard:index:AppNamespace"}
        assert all(resource["isComponent"] for resource in resources.values())

    def test_inputs_outputs_and_descriptions_are_inferred_from_the_facade(self) -> None:
        app = inferred_schema()["resources"]["stackyard:index:App"]
        assert app["requiredInputs"] == ["image", "name", "namespace"]
        assert {"port", "replicas", "autoscaling", "resources", "env", "secretFiles"} <= set(app["inputProperties"])
        assert app["inputProperties"]["image"]["type"] == "string"
        assert app["inputProperties"]["autoscaling"]["$ref"] == "#/types/stackyard:index:AutoscalingInputs"
        assert set(app["properties"]) == {"deploymentName", "serviceName"}
        assert "latest" in app["inputProperties"]["image"]["description"]
        assert all(prop.get("description") for prop in app["inputProperties"].values())

    def test_the_schema_matches_the_reviewed_golden_copy(self) -> None:
        text = json.dumps(inferred_schema(), indent=2, sort_keys=True) + "\n"
        check_golden(ROOT / "provider" / "schema.json", text)


class TestFacadeIsTheSameImplementation:
    def test_the_facade_app_registers_what_the_python_app_registers(self) -> None:
        inputs = {"namespace": "shop", "name": "api", "image": "registry.example.com/api:1.0.0", "replicas": 3}
        facade = run_program(lambda: provider.App("api", inputs))  # type: ignore[arg-type]
        native = run_program(lambda: App("api", AppArgs.model_validate(inputs)))
        assert sorted((m.path, str(m.body)) for m in facade.manifests) == sorted(
            (m.path, str(m.body)) for m in native.manifests
        )
        assert {r.type for r in facade.run.registrations if not r.custom} == {"stackyard:index:App"}

    def test_the_facade_namespace_validates_like_the_python_one(self) -> None:
        facade = run_program(lambda: provider.AppNamespace("shop", {"name": "shop", "highAvailability": True}))
        native = run_program(lambda: AppNamespace("shop", AppNamespaceArgs(name="shop", high_availability=True)))
        assert sorted(m.path for m in facade.manifests) == sorted(m.path for m in native.manifests)
