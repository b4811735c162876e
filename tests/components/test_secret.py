"""AppSecret: values stay secret through Pulumi and are redacted in every export."""

from __future__ import annotations

import pulumi

from components import AppSecret, AppSecretArgs
from tests.conftest import run_program


class TestAppSecret:
    def test_plain_values_are_marked_secret_and_the_export_only_shows_a_marker(self) -> None:
        def program() -> None:
            values = {"password": pulumi.Output.from_input("canary-plain-1234")}
            AppSecret("db", AppSecretArgs(namespace="shop-test", name="db", values=values))

        objects = run_program(program)
        secret = objects.get("Secret", "db")
        assert secret["type"] == "Opaque"
        assert secret["stringData"]["password"].startswith("<redacted sha256:")
        assert "canary-plain-1234" not in repr(objects.manifests)
        registration = objects.registration("kubernetes:core/v1:Secret", "db")
        assert "4dabf18193072939515e22adb298388d" in registration.inputs["stringData"]

    def test_the_marker_changes_when_the_value_changes(self) -> None:
        def marker(value: str) -> str:
            objects = run_program(
                lambda: AppSecret(
                    "db",
                    AppSecretArgs(namespace="shop-test", name="db", values={"k": pulumi.Output.from_input(value)}),
                )
            )
            return str(objects.get("Secret", "db")["stringData"]["k"])

        assert marker("one") != marker("two")
        assert marker("one") == marker("one")
