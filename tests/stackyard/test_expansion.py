"""Charts and remote files expanded into the objects ``pulumi up`` applies: URNs, origins, hooks, secrets, cache."""

from __future__ import annotations

import base64
import fnmatch
import functools
import hashlib
import http.server
import io
import shutil
import tarfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackyard import expansion
from stackyard.cache import CACHE_ENV
from stackyard.chartsource import RECORD, ChartMode, ChartOptions
from stackyard.cli import EXIT_BAD_INPUT, main
from stackyard.expander import Expander, ExpanderError, find_expander
from stackyard.expansion import ExpansionError, Expansions, child_urn, expand_all, type_token
from stackyard.manifests import SecretLeakError, redaction_marker
from stackyard.mockrt import SECRET_SIG_KEY, SECRET_SIG_VALUE, Registration
from stackyard.records import CHART_TYPE, CONFIG_FILE_TYPE, CONFIG_GROUP_TYPE, EXPANDED_NOTE
from stackyard.render import Rendering, evaluate_stack
from tests.conftest import REFERENCE_CHARTS, ROOT, complete_arguments, complete_charts
from tests.stackyard.conftest import tree

REPO = "https://charts.example.invalid"
#: The URN of a component that registers the test's chart: its children are typed under both.
PARENT = "urn:pulumi:dev::stackyard::stackyard:index:Demo"
DEFAULT_PASSWORD = "default-password"

DEMO_TEMPLATES = {
    "configmap.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-settings
          namespace: {{ .Release.Namespace }}
        data:
          greeting: {{ .Values.greeting | quote }}
        """,
    "secret.yaml": """
        apiVersion: v1
        kind: Secret
        metadata:
          name: {{ .Release.Name }}-credentials
          namespace: {{ .Release.Namespace }}
        data:
          password: {{ .Values.password | b64enc }}
        stringData:
          token: {{ .Values.token | quote }}
        """,
    "clusterrole.yaml": """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: {{ .Release.Name }}-reader
        rules: []
        """,
    # A hook: helm.v4.Chart does not apply hooks, so neither may the export.
    "hook.yaml": """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {{ .Release.Name }}-migrate
          namespace: {{ .Release.Namespace }}
          annotations:
            helm.sh/hook: pre-install,pre-upgrade
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: migrate, image: busybox}]
        """,
    "required.yaml": '{{- if .Values.strict }}{{ required "x is required" .Values.x }}{{- end }}\n',
}


def demo_chart(parent: Path, version: str = "0.1.0") -> Path:
    """A tiny chart with a ConfigMap, a Secret, a cluster-scoped object and a hook."""
    chart = parent / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: demo\nversion: {version}\nappVersion: '9.8.7'\n")
    (chart / "values.yaml").write_text(f"greeting: hello\npassword: {DEFAULT_PASSWORD}\ntoken: default-token\n")
    for name, text in DEMO_TEMPLATES.items():
        (chart / "templates" / name).write_text(textwrap.dedent(text).lstrip())
    return chart


def chart_registration(name: str = "demo-release", chart: str = "demo", **inputs: Any) -> Registration:
    """A ``helm.v4.Chart`` as the program registers it, pinned to ``demo`` 0.1.0."""
    return Registration(
        urn=f"{PARENT}$kubernetes:helm.sh/v4:Chart::{name}",
        parent_urn=PARENT,
        type=CHART_TYPE,
        name=name,
        custom=False,
        inputs={
            "chart": chart,
            "version": "0.1.0",
            "repositoryOpts": {"repo": REPO},
            "name": "rel",
            "namespace": "apps",
            **inputs,
        },
    )


def secret(value: str) -> dict[str, str]:
    """A value as the runtime marks it secret on the wire."""
    return {SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": value}


def by_kind(result: Expansions) -> dict[str, dict[str, Any]]:
    return {manifest.kind: manifest.body for manifest in result.manifests()}


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache per test, so that an expansion cached earlier (or by the developer) is never read."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def charts(tmp_path: Path) -> ChartOptions:
    """The demo chart at hand in a ``--chart-dir``, offline; skips without the expander."""
    complete_charts()  # skips, saying why, when the expander (or the reference charts) is absent
    folder = tmp_path / "charts"
    demo_chart(folder)
    return ChartOptions(mode="expand", chart_dirs=(folder,), offline=True)


def refuse_to_run(_self: Expander, request: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError(f"the expander ran ({request.get('mode')}) though the expansion is cached")


class TestUrns:
    @pytest.mark.parametrize(
        ("api_version", "kind", "token"),
        [
            ("v1", "ConfigMap", "kubernetes:core/v1:ConfigMap"),
            ("apps/v1", "Deployment", "kubernetes:apps/v1:Deployment"),
            ("gateway.networking.k8s.io/v1", "HTTPRoute", "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"),
        ],
    )
    def test_a_type_token_names_the_core_group_explicitly(self, api_version: str, kind: str, token: str) -> None:
        assert type_token(api_version, kind) == token

    def test_a_namespaced_child_is_named_prefix_namespace_name_under_its_parents_type(self) -> None:
        body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}
        assert (
            child_urn("urn:pulumi:dev::p::my:index:App$kubernetes:helm.sh/v4:Chart::web", body, "web")
            == "urn:pulumi:dev::p::my:index:App$kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:Deployment::web:shop/web"
        )

    def test_a_cluster_scoped_child_has_no_namespace_in_its_name(self) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
        assert (
            child_urn("urn:pulumi:dev::p::kubernetes:yaml/v2:ConfigFile::crds", body, "crds")
            == "urn:pulumi:dev::p::kubernetes:yaml/v2:ConfigFile$kubernetes:core/v1:Namespace::crds:shop"
        )


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rendering, Path]:
    """The dev stack's complete export, expanded once into a fresh cache, and that cache."""
    charts = complete_charts()
    cache = tmp_path_factory.mktemp("dev-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(cache))
        return evaluate_stack(ROOT, "dev", charts=charts), cache


class TestDevStack:
    """The dev stack's charts (traefik, kube-prometheus-stack), expanded from the reference charts."""

    def test_every_chart_the_program_registers_is_expanded_at_its_pinned_version(
        self, dev: tuple[Rendering, Path]
    ) -> None:
        rendering, _ = dev
        charts = {r.urn: r for r in rendering.registrations if r.type in (CHART_TYPE, CONFIG_FILE_TYPE)}
        assert {r.inputs["chart"] for r in charts.values()} == {"traefik", "kube-prometheus-stack"}
        assert set(rendering.expansions.by_urn) == set(charts)
        assert rendering.expansions.recorded == {}
        for urn, expanded in rendering.expansions.by_urn.items():
            about = expanded.expanded
            assert (about["chart"], about["version"]) == (charts[urn].inputs["chart"], charts[urn].inputs["version"])
            assert about["foundBy"] == f"--chart-dir {REFERENCE_CHARTS}"
            assert about["objects"] == len(expanded.manifests) > 10

    def test_chart_objects_are_part_of_the_export(self, dev: tuple[Rendering, Path]) -> None:
        rendering, _ = dev
        files = rendering.files()
        children = rendering.expansions.manifests()
        assert {m.kind for m in children} >= {"CustomResourceDefinition", "Deployment", "ClusterRole", "Service"}
        assert all(m.path in files for m in children)
        assert any(path.startswith("0-crd/") for path in files)  # the charts' CRDs, in their own folder

    def test_each_chart_object_has_a_urn_under_its_chart(self, dev: tuple[Rendering, Path]) -> None:
        rendering, _ = dev
        urns = [m.urn for m in rendering.expansions.manifests()]
        assert len(set(urns)) == len(urns)
        for chart_urn, expanded in rendering.expansions.by_urn.items():
            head, chart_type, release = chart_urn.rsplit("::", 2)
            for manifest in expanded.manifests:
                group, _, version = manifest.api_version.rpartition("/")
                where = f"{manifest.namespace}/{manifest.name}" if manifest.namespace else manifest.name
                token = f"kubernetes:{group or 'core'}/{version}:{manifest.kind}"
                assert manifest.urn == f"{head}::{chart_type}${token}::{release}:{where}"
        # One written out in full, as the provider's Chart component names it.
        assert (
            "urn:pulumi:dev::stackyard::stackyard:index:IngressController$kubernetes:helm.sh/v4:Chart"
            "$kubernetes:apps/v1:Deployment::traefik-chart:ingress/traefik"
        ) in urns

    def test_each_chart_object_names_its_chart_and_a_template_of_that_chart(self, dev: tuple[Rendering, Path]) -> None:
        rendering, _ = dev
        for chart_urn, expanded in rendering.expansions.by_urn.items():
            chart = expanded.expanded["chart"]
            for manifest in expanded.manifests:
                assert manifest.origin is not None
                assert manifest.origin.record == chart_urn
                assert manifest.origin.template.startswith(f"{chart}/")
                assert (REFERENCE_CHARTS / manifest.origin.template).is_file(), manifest.origin.template

    def test_hooks_are_not_applied_but_listed_with_the_chart(self, dev: tuple[Rendering, Path]) -> None:
        rendering, _ = dev
        hooks = [hook for e in rendering.expansions.by_urn.values() for hook in e.expanded["hooks"]]
        assert hooks, "kube-prometheus-stack's grafana has test hooks"
        exported = {(m.kind, m.name) for m in rendering.manifests}
        for hook in hooks:
            assert (hook["kind"], hook["name"]) not in exported
            assert "helm.sh/hook" in (REFERENCE_CHARTS / hook["template"]).read_text()

    def test_each_chart_record_says_how_it_was_expanded(self, dev: tuple[Rendering, Path]) -> None:
        rendering, _ = dev
        records = {record.urn: record for record in rendering.records}
        for urn, expanded in rendering.expansions.by_urn.items():
            assert records[urn].body["expanded"] == expanded.expanded
            assert records[urn].body["note"] == EXPANDED_NOTE

    def test_the_expansion_is_cached_and_a_second_render_reads_it_back_byte_for_byte(
        self, dev: tuple[Rendering, Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rendering, cache = dev
        assert len(list((cache / "expansions").glob("*.json"))) == len(rendering.expansions.by_urn)
        monkeypatch.setenv(CACHE_ENV, str(cache))
        monkeypatch.setattr(Expander, "run", refuse_to_run)
        again = evaluate_stack(ROOT, "dev", charts=complete_charts())
        assert again.files() == rendering.files()

    def test_expanding_again_without_the_cache_gives_the_same_export(
        self, dev: tuple[Rendering, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A fresh cache makes Helm template every chart again: its output must not vary by run.
        rendering, _ = dev
        fresh = tmp_path / "fresh-cache"
        monkeypatch.setenv(CACHE_ENV, str(fresh))
        again = evaluate_stack(ROOT, "dev", charts=complete_charts())
        assert (fresh / "expansions").is_dir()
        assert again.files() == rendering.files()


class TestChartObjects:
    """A tiny chart expanded through :func:`expand_all`, so the expected objects are known exactly."""

    def test_the_chart_is_expanded_with_the_release_name_and_namespace(self, charts: ChartOptions) -> None:
        registration = chart_registration()
        result = expand_all([registration], charts, known_secrets=())
        (expanded,) = result.by_urn.values()
        assert sorted((m.kind, m.namespace, m.name) for m in expanded.manifests) == [
            ("ClusterRole", "", "rel-reader"),
            ("ConfigMap", "apps", "rel-settings"),
            ("Secret", "apps", "rel-credentials"),
        ]
        assert by_kind(result)["ConfigMap"]["data"] == {"greeting": "hello"}  # the chart's own default
        assert {m.origin.template for m in expanded.manifests if m.origin} == {
            "demo/templates/clusterrole.yaml",
            "demo/templates/configmap.yaml",
            "demo/templates/secret.yaml",
        }

    def test_values_the_program_passes_override_the_charts_defaults(self, charts: ChartOptions) -> None:
        result = expand_all([chart_registration(values={"greeting": "bonjour"})], charts, known_secrets=())
        assert by_kind(result)["ConfigMap"]["data"] == {"greeting": "bonjour"}

    def test_children_are_named_after_the_chart_resource_or_its_resource_prefix(self, charts: ChartOptions) -> None:
        named = expand_all([chart_registration()], charts, known_secrets=())
        prefixed = expand_all([chart_registration(resourcePrefix="custom")], charts, known_secrets=())
        chart_type = "stackyard:index:Demo$kubernetes:helm.sh/v4:Chart"
        assert {m.urn for m in named.manifests() if m.kind != "Secret"} == {
            f"urn:pulumi:dev::stackyard::{chart_type}$kubernetes:core/v1:ConfigMap::demo-release:apps/rel-settings",
            f"urn:pulumi:dev::stackyard::{chart_type}$kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
            "::demo-release:rel-reader",
        }
        assert all(m.urn.split("::")[-1].startswith("custom:") for m in prefixed.manifests())

    def test_what_was_expanded_is_described(self, charts: ChartOptions) -> None:
        (expanded,) = expand_all([chart_registration()], charts, known_secrets=()).by_urn.values()
        about = expanded.expanded
        assert (about["chart"], about["version"], about["appVersion"]) == ("demo", "0.1.0", "9.8.7")
        assert about["foundBy"] == f"--chart-dir {charts.chart_dirs[0]}"
        assert about["digest"].startswith("sha256:")
        assert about["objects"] == 3
        assert {key: about[key] for key in ("helm", "provider", "kubeVersion")} == find_expander().identity()

    def test_a_hook_is_not_applied_but_listed(self, charts: ChartOptions) -> None:
        result = expand_all([chart_registration()], charts, known_secrets=())
        (expanded,) = result.by_urn.values()
        assert "Job" not in {m.kind for m in expanded.manifests}
        assert expanded.expanded["hooks"] == [
            {
                "template": "demo/templates/hook.yaml",
                "kind": "Job",
                "name": "rel-migrate",
                "events": ["pre-install", "pre-upgrade"],
            }
        ]

    def test_skip_crds_is_passed_to_helm(self, charts: ChartOptions) -> None:
        crd = charts.chart_dirs[0] / "demo" / "crds" / "widgets.yaml"
        crd.parent.mkdir()
        crd.write_text(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            "metadata: {name: widgets.example.com}\n"
            "spec: {group: example.com, names: {kind: Widget, plural: widgets}, scope: Namespaced, versions: []}\n"
        )
        with_crds = expand_all([chart_registration()], charts, known_secrets=())
        without = expand_all([chart_registration(skipCrds=True)], charts, known_secrets=())
        assert "CustomResourceDefinition" in by_kind(with_crds)
        assert "CustomResourceDefinition" not in by_kind(without)


class TestChartSecrets:
    def test_a_charts_secret_is_exported_with_markers_only(self, charts: ChartOptions) -> None:
        result = expand_all([chart_registration(values={"token": "tok-123456789"})], charts, known_secrets=())
        (credentials,) = [m for m in result.manifests() if m.kind == "Secret"]
        # data (base64) and stringData both reach the export as markers of the plain value, under
        # stringData: a marker is no base64, so under data the API server would refuse the Secret.
        assert "data" not in credentials.body
        assert credentials.body["stringData"] == {
            "password": redaction_marker(DEFAULT_PASSWORD),
            "token": redaction_marker("tok-123456789"),
        }
        text = credentials.exported_text
        for plain in (DEFAULT_PASSWORD, "tok-123456789"):
            assert plain not in text
            assert base64.b64encode(plain.encode()).decode() not in text

    def test_a_value_the_program_marks_secret_reaches_the_chart_unwrapped(self, charts: ChartOptions) -> None:
        result = expand_all([chart_registration(values={"password": secret("s3cret-from-config")})], charts, ())
        assert by_kind(result)["Secret"]["stringData"]["password"] == redaction_marker("s3cret-from-config")

    def test_the_cache_holds_no_plain_secret_value(self, charts: ChartOptions, cache: Path) -> None:
        expand_all([chart_registration(values={"token": "tok-123456789"})], charts, known_secrets=())
        (stored,) = (cache / "expansions").glob("*.json")
        text = stored.read_text()
        assert redaction_marker("tok-123456789") in text
        for plain in (DEFAULT_PASSWORD, "tok-123456789"):
            assert plain not in text
            assert base64.b64encode(plain.encode()).decode() not in text

    def test_a_known_secret_in_a_charts_plain_object_stops_the_expansion(self, charts: ChartOptions) -> None:
        leaked = "hunter2-but-longer"
        registration = chart_registration(values={"greeting": secret(leaked)})
        with pytest.raises(SecretLeakError) as error:
            expand_all([registration], charts, known_secrets={leaked})
        message = str(error.value)
        assert message.startswith("ConfigMap apps/rel-settings of demo-release: carries a secret value")
        assert "existingSecret" in message
        assert leaked not in message

    def test_a_known_secret_inside_a_charts_secret_is_not_a_leak(self, charts: ChartOptions) -> None:
        known = "hunter2-but-longer"
        result = expand_all([chart_registration(values={"password": known})], charts, known_secrets={known})
        assert by_kind(result)["Secret"]["stringData"]["password"] == redaction_marker(known)

    def test_a_refused_leak_leaves_no_plain_secret_in_the_cache(self, charts: ChartOptions, cache: Path) -> None:
        leaked = "hunter2-but-longer"
        with pytest.raises(SecretLeakError):
            expand_all([chart_registration(values={"greeting": leaked})], charts, known_secrets={leaked})
        stored = "".join(path.read_text() for path in cache.rglob("*.json"))
        assert leaked not in stored


class TestChartFailures:
    def test_a_template_failure_carries_helms_message_and_names_the_chart(self, charts: ChartOptions) -> None:
        with pytest.raises(ExpansionError) as error:
            expand_all([chart_registration(values={"strict": True})], charts, known_secrets=())
        message = str(error.value)
        assert message.startswith(f"chart demo 0.1.0 from {REPO} (release rel): ")
        assert "demo/templates/required.yaml" in message
        assert message.endswith("x is required")

    def test_a_chart_of_another_version_is_refused_even_in_auto_mode(self, charts: ChartOptions) -> None:
        # Only a chart not at hand may be recorded instead; a wrong one at hand is a mistake to fix.
        auto = ChartOptions(mode="auto", chart_dirs=charts.chart_dirs, offline=True)
        with pytest.raises(ExpansionError, match=r"is chart demo 0\.1\.0, not demo 0\.2\.0"):
            expand_all([chart_registration(version="0.2.0")], auto, known_secrets=())

    def test_a_chart_not_at_hand_fails_the_expansion(self, charts: ChartOptions) -> None:
        with pytest.raises(ExpansionError, match=r"chart absent 0\.1\.0 from .* is not at hand"):
            expand_all([chart_registration(chart="absent")], charts, known_secrets=())


class TestModes:
    def test_record_mode_expands_nothing_and_needs_no_expander(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def no_expander() -> Expander:
            raise AssertionError("the expander was looked for in record mode")

        monkeypatch.setattr(expansion, "find_expander", no_expander)
        demo_chart(tmp_path)
        record = ChartOptions(mode="record", chart_dirs=(tmp_path,), offline=True)
        for options in (record, RECORD):
            result = expand_all([chart_registration()], options, known_secrets=())
            assert (result.by_urn, result.recorded) == ({}, {})

    def test_without_an_expander_auto_records_every_chart_saying_why(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def no_expander() -> Expander:
            raise ExpanderError("stackyard-expand is not installed here")

        monkeypatch.setattr(expansion, "find_expander", no_expander)
        registrations = [chart_registration("one"), chart_registration("two")]
        result = expand_all(registrations, ChartOptions(mode="auto"), known_secrets=())
        assert result.by_urn == {}
        assert result.recorded == {r.urn: "stackyard-expand is not installed here" for r in registrations}

    def test_without_an_expander_expand_mode_fails_saying_why(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def no_expander() -> Expander:
            raise ExpanderError("stackyard-expand is not installed here")

        monkeypatch.setattr(expansion, "find_expander", no_expander)
        with pytest.raises(ExpansionError, match=r"^stackyard-expand is not installed here$"):
            expand_all([chart_registration()], ChartOptions(mode="expand"), known_secrets=())

    def test_auto_expands_what_is_at_hand_and_records_the_rest(self, charts: ChartOptions) -> None:
        auto = ChartOptions(mode="auto", chart_dirs=charts.chart_dirs, offline=True)
        present, absent = chart_registration("present"), chart_registration("absent", chart="absent")
        result = expand_all([present, absent], auto, known_secrets=())
        assert list(result.by_urn) == [present.urn]
        assert list(result.recorded) == [absent.urn]
        assert "chart absent 0.1.0" in result.recorded[absent.urn]
        assert "is not at hand" in result.recorded[absent.urn]

    def test_a_program_without_charts_needs_no_expander(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def no_expander() -> Expander:
            raise ExpanderError("not installed")

        monkeypatch.setattr(expansion, "find_expander", no_expander)
        deployment = Registration(
            urn="urn:pulumi:dev::p::kubernetes:apps/v1:Deployment::web",
            parent_urn="",
            type="kubernetes:apps/v1:Deployment",
            name="web",
            custom=True,
            inputs={},
        )
        result = expand_all([deployment], ChartOptions(mode="expand"), known_secrets=())
        assert (result.by_urn, result.recorded) == ({}, {})


class TestCache:
    def test_a_second_expansion_is_read_from_the_cache(
        self, charts: ChartOptions, cache: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first = expand_all([chart_registration()], charts, known_secrets=())
        assert len(list((cache / "expansions").glob("*.json"))) == 1
        monkeypatch.setattr(Expander, "run", refuse_to_run)
        second = expand_all([chart_registration()], charts, known_secrets=())
        assert [(m.urn, m.exported_text, m.origin) for m in second.manifests()] == [
            (m.urn, m.exported_text, m.origin) for m in first.manifests()
        ]
        assert second.by_urn[chart_registration().urn].expanded == first.by_urn[chart_registration().urn].expanded

    def test_changed_values_or_an_edited_chart_are_expanded_again(self, charts: ChartOptions, cache: Path) -> None:
        expand_all([chart_registration()], charts, known_secrets=())
        changed = expand_all([chart_registration(values={"greeting": "hi"})], charts, known_secrets=())
        assert by_kind(changed)["ConfigMap"]["data"] == {"greeting": "hi"}
        template = charts.chart_dirs[0] / "demo" / "templates" / "configmap.yaml"
        template.write_text(template.read_text().replace("greeting:", "salutation:"))
        edited = expand_all([chart_registration()], charts, known_secrets=())
        assert by_kind(edited)["ConfigMap"]["data"] == {"salutation": "hello"}
        assert len(list((cache / "expansions").glob("*.json"))) == 3

    def test_an_unreadable_cache_entry_is_expanded_again(self, charts: ChartOptions, cache: Path) -> None:
        first = expand_all([chart_registration()], charts, known_secrets=())
        (stored,) = (cache / "expansions").glob("*.json")
        stored.write_text("{not json")
        second = expand_all([chart_registration()], charts, known_secrets=())
        assert [m.exported_text for m in second.manifests()] == [m.exported_text for m in first.manifests()]
        assert stored.read_text().startswith('{"objects":')  # replaced by the fresh expansion


class TestRemoteFilesAndGroups:
    def test_a_config_group_brings_its_objects_with_secrets_redacted(self, charts: ChartOptions) -> None:
        group = Registration(
            urn="urn:pulumi:dev::stackyard::kubernetes:yaml/v2:ConfigGroup::extras",
            parent_urn="",
            type=CONFIG_GROUP_TYPE,
            name="extras",
            custom=False,
            inputs={
                "objs": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}},
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "metadata": {"name": "b", "namespace": "x"},
                        "stringData": {"key": "group-secret-value"},
                    },
                ]
            },
        )
        (expanded,) = expand_all([group], charts, known_secrets=()).by_urn.values()
        assert sorted(m.urn for m in expanded.manifests) == [
            "urn:pulumi:dev::stackyard::kubernetes:yaml/v2:ConfigGroup$kubernetes:core/v1:ConfigMap::extras:x/a",
            "urn:pulumi:dev::stackyard::kubernetes:yaml/v2:ConfigGroup$kubernetes:core/v1:Secret::extras:x/b",
        ]
        (secret_object,) = [m for m in expanded.manifests if m.kind == "Secret"]
        assert "group-secret-value" not in secret_object.exported_text
        assert redaction_marker("group-secret-value") in secret_object.exported_text
        assert expanded.expanded["foundBy"] == "the program"

    def test_a_remote_file_is_expanded_from_its_local_copy(self, charts: ChartOptions) -> None:
        url = "https://github.com/example/widgets/releases/download/v2.0.0/install.yaml"
        (charts.chart_dirs[0] / "widgets-v2.0.0-install.yaml").write_text(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: widgets}\n---\n"
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: widget, namespace: widgets}\n"
        )
        file = Registration(
            urn="urn:pulumi:dev::stackyard::kubernetes:yaml/v2:ConfigFile::widgets",
            parent_urn="",
            type=CONFIG_FILE_TYPE,
            name="widgets",
            custom=False,
            inputs={"file": url},
        )
        (expanded,) = expand_all([file], charts, known_secrets=()).by_urn.values()
        assert sorted((m.kind, m.namespace, m.name) for m in expanded.manifests) == [
            ("Namespace", "", "widgets"),
            ("ServiceAccount", "widgets", "widget"),
        ]
        assert expanded.expanded["foundBy"] == f"--chart-dir {charts.chart_dirs[0]}"

    def test_a_remote_file_not_at_hand_names_the_address(self, charts: ChartOptions) -> None:
        file = Registration(
            urn="urn:pulumi:dev::stackyard::kubernetes:yaml/v2:ConfigFile::widgets",
            parent_urn="",
            type=CONFIG_FILE_TYPE,
            name="widgets",
            custom=False,
            inputs={"file": "https://example.invalid/install.yaml"},
        )
        with pytest.raises(ExpansionError, match=r"^https://example\.invalid/install\.yaml is not at hand"):
            expand_all([file], charts, known_secrets=())


class TestRenderCommand:
    def test_a_failing_expansion_leaves_the_previous_export_untouched(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        complete_charts()  # the failure below must be the chart's absence, not the expander's
        out = tmp_path / "dev"
        assert main(["render", "--charts", "record", "dev", "--project", str(ROOT), "--out", str(out)]) == 0
        before = tree(out)
        capsys.readouterr()
        # Offline, with no chart folder and an empty cache, traefik is not at hand.
        code = main(["render", "--charts", "expand", "--offline", "dev", "--project", str(ROOT), "--out", str(out)])
        assert code == EXIT_BAD_INPUT
        assert "is not at hand" in capsys.readouterr().err
        assert tree(out) == before
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # nor a staging folder


# -- charts downloaded from a repository, values schemas, the render command on bad charts ------

TRAEFIK = REFERENCE_CHARTS / "traefik"
#: The version components/ingress_implementations.py pins (and the reference chart's).
TRAEFIK_VERSION = "41.3.0"
#: A fixed time for index.yaml, so that nothing depends on the clock.
CREATED = "2025-01-01T00:00:00Z"


def package(chart: Path, archive: Path) -> Path:
    """``chart`` as ``helm package`` lays it out: its files under ``<folder name>/``, Chart.yaml first,
    without what its ``.helmignore`` leaves out (Helm applies that file to a folder, not to an archive).

    Written from the files' bytes with ordinary modes, so a read-only source (the reference charts)
    gives an archive like any other.
    """
    files = sorted(path for path in chart.rglob("*") if path.is_file() and not _helm_ignored(chart, path))
    files.sort(key=lambda path: path.relative_to(chart) != Path("Chart.yaml"))
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in files:
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{chart.name}/{path.relative_to(chart).as_posix()}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return archive


def _helm_ignored(chart: Path, path: Path) -> bool:
    """Whether ``.helmignore`` leaves ``path`` out: the two forms the reference charts use, a folder
    (``tests/``) and a file's path or name (``crds/kustomization.yaml``)."""
    ignore = chart / ".helmignore"
    patterns = ignore.read_text().split() if ignore.is_file() else []
    relative = path.relative_to(chart)
    for pattern in (line for line in patterns if not line.startswith("#")):
        if pattern.endswith("/"):
            if any(fnmatch.fnmatch(str(parent), pattern.rstrip("/")) for parent in relative.parents):
                return True
        elif fnmatch.fnmatch(relative.as_posix(), pattern) or fnmatch.fnmatch(relative.name, pattern):
            return True
    return False


def writable_copy(source: Path, target: Path) -> Path:
    """A copy of a chart folder whose files can be edited (the reference charts are read-only)."""
    for path in source.rglob("*"):
        if path.is_file():
            copied = target / path.relative_to(source)
            copied.parent.mkdir(parents=True, exist_ok=True)
            copied.write_bytes(path.read_bytes())
    return target


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class ChartRepository:
    """A Helm chart repository served over HTTP on 127.0.0.1: ``index.yaml`` and the archives it lists."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = ""
        self.requests: list[str] = []
        """The path of every GET, in order."""
        self._entries: dict[str, list[dict[str, str | list[str]]]] = {}

    def publish(self, archive: Path, name: str, version: str, app_version: str = "1.0.0") -> None:
        """List ``archive`` (a file in the repository's folder) in the index as ``name`` ``version``."""
        assert archive.parent == self.folder
        self._entries.setdefault(name, []).append(
            {
                "apiVersion": "v2",
                "name": name,
                "version": version,
                "appVersion": app_version,
                "urls": [archive.name],
                "digest": sha256(archive),
                "created": CREATED,
            }
        )
        index = {"apiVersion": "v1", "entries": self._entries, "generated": CREATED}
        (self.folder / "index.yaml").write_text(yaml.safe_dump(index, sort_keys=False))

    def served(self, path: str) -> int:
        """How many times ``path`` was asked for."""
        return self.requests.count(path)


class _RepositoryHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, repository: ChartRepository, *args: Any, **kwargs: Any) -> None:
        self.repository = repository  # before the base class, whose constructor handles the request
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self.repository.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: a failing test shows the requests it made through ``requests``


@pytest.fixture
def chart_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChartRepository]:
    """An empty chart repository on 127.0.0.1, shut down after the test; skips without the expander."""
    complete_charts()
    # Should a download write outside the cache again (test_a_download_writes_nothing_outside_the_cache),
    # into the test's folder, not the developer's ~/.cache.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    repository = ChartRepository(tmp_path / "repository")
    repository.folder.mkdir()
    handler = functools.partial(_RepositoryHandler, repository, directory=str(repository.folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="chart-repository", daemon=True)
    thread.start()
    repository.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield repository
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def demo_archive(tmp_path: Path, chart_repository: ChartRepository) -> Path:
    """The demo chart 0.1.0, packaged into the repository and listed in its index."""
    archive = package(demo_chart(tmp_path / "demo-source"), chart_repository.folder / "demo-0.1.0.tgz")
    chart_repository.publish(archive, "demo", "0.1.0", app_version="9.8.7")
    return archive


ONLINE = ChartOptions(mode="expand")


def online_registration(repository: ChartRepository, **inputs: Any) -> Registration:
    return chart_registration(repositoryOpts={"repo": repository.url}, **inputs)


class TestChartDownload:
    """A chart not at hand is downloaded from its repository, once, by the expander's Helm (``pull``)."""

    def test_a_pinned_chart_is_downloaded_once_and_then_read_from_the_cache(
        self, chart_repository: ChartRepository, demo_archive: Path, cache: Path
    ) -> None:
        url = chart_repository.url
        first = expand_all([online_registration(chart_repository)], ONLINE, known_secrets=())
        expanded = first.by_urn[chart_registration().urn].expanded
        assert expanded["foundBy"] == f"downloaded from {url}"
        assert (expanded["chart"], expanded["version"], expanded["appVersion"]) == ("demo", "0.1.0", "9.8.7")
        assert expanded["digest"] == f"sha256:{sha256(demo_archive)}"
        assert set(by_kind(first)) == {"ConfigMap", "Secret", "ClusterRole"}
        assert by_kind(first)["ConfigMap"]["data"] == {"greeting": "hello"}
        # Kept in the cache as served, and nothing else left there (no scratch folder, no Helm cache).
        assert [path.name for path in (cache / "charts").iterdir()] == ["demo-0.1.0.tgz"]
        assert (cache / "charts" / "demo-0.1.0.tgz").read_bytes() == demo_archive.read_bytes()

        shutil.rmtree(cache / "expansions")  # a fresh expansion cache, the same chart cache
        second = expand_all([online_registration(chart_repository)], ONLINE, known_secrets=())
        assert second.by_urn[chart_registration().urn].expanded["foundBy"] == "cache"
        assert [m.exported_text for m in second.manifests()] == [m.exported_text for m in first.manifests()]
        assert chart_repository.served("/demo-0.1.0.tgz") == 1

        shutil.rmtree(cache / "expansions")
        offline = ChartOptions(mode="expand", offline=True)
        third = expand_all([online_registration(chart_repository)], offline, known_secrets=())
        assert third.by_urn[chart_registration().urn].expanded["foundBy"] == "cache"
        assert [m.exported_text for m in third.manifests()] == [m.exported_text for m in first.manifests()]
        assert chart_repository.served("/demo-0.1.0.tgz") == 1

    @pytest.mark.usefixtures("demo_archive")
    def test_a_download_writes_nothing_outside_the_cache(
        self, chart_repository: ChartRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        home = tmp_path / "home"
        home.mkdir()
        for variable in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            monkeypatch.setenv(variable, str(home / variable.lower()) if variable != "HOME" else str(home))
        result = expand_all([online_registration(chart_repository)], ONLINE, known_secrets=())
        assert result.by_urn[chart_registration().urn].expanded["foundBy"] == f"downloaded from {chart_repository.url}"
        assert chart_repository.served("/index.yaml") == 1
        assert list(home.rglob("*")) == []

    def test_the_real_traefik_chart_is_downloaded_and_expanded(self, chart_repository: ChartRepository) -> None:
        archive = package(TRAEFIK, chart_repository.folder / f"traefik-{TRAEFIK_VERSION}.tgz")
        chart_repository.publish(archive, "traefik", TRAEFIK_VERSION, app_version="v3.7.11")
        registration = online_registration(
            chart_repository, name="traefik", chart="traefik", version=TRAEFIK_VERSION, namespace="ingress"
        )
        result = expand_all([registration], ONLINE, known_secrets=())
        expanded = result.by_urn[registration.urn].expanded
        assert expanded["foundBy"] == f"downloaded from {chart_repository.url}"
        assert (expanded["chart"], expanded["version"]) == ("traefik", TRAEFIK_VERSION)
        assert expanded["digest"] == f"sha256:{sha256(archive)}"
        kinds = {m.kind for m in result.manifests()}
        assert kinds >= {"Deployment", "Service", "ClusterRole", "CustomResourceDefinition"}
        assert chart_repository.served(f"/traefik-{TRAEFIK_VERSION}.tgz") == 1

    @pytest.mark.parametrize("mode", ["expand", "auto"])
    def test_a_repository_serving_another_version_than_pinned_is_refused_naming_both(
        self, chart_repository: ChartRepository, tmp_path: Path, cache: Path, mode: ChartMode
    ) -> None:
        # The index says 0.1.0; the archive it points to holds 0.2.0. A wrong chart is refused even
        # in auto mode: only a chart not at hand may be recorded instead.
        archive = package(demo_chart(tmp_path / "other", version="0.2.0"), chart_repository.folder / "demo-0.2.0.tgz")
        chart_repository.publish(archive, "demo", "0.1.0")
        with pytest.raises(ExpansionError) as error:
            expand_all([online_registration(chart_repository)], ChartOptions(mode=mode), known_secrets=())
        message = str(error.value)
        assert message.startswith(f"chart demo 0.1.0 from {chart_repository.url} (release rel): ")
        assert f"(from downloaded from {chart_repository.url}) is chart demo 0.2.0, not demo 0.1.0" in message
        assert chart_repository.served("/demo-0.2.0.tgz") == 1
        assert list((cache / "charts").iterdir()) == []  # neither cached nor left in a scratch folder

    def test_a_version_the_repository_does_not_list_is_not_at_hand(
        self, chart_repository: ChartRepository, tmp_path: Path, cache: Path
    ) -> None:
        archive = package(demo_chart(tmp_path / "other", version="0.2.0"), chart_repository.folder / "demo-0.2.0.tgz")
        chart_repository.publish(archive, "demo", "0.2.0")
        with pytest.raises(ExpansionError) as error:
            expand_all([online_registration(chart_repository)], ONLINE, known_secrets=())
        message = str(error.value)
        url = chart_repository.url
        assert message.startswith(f"chart demo 0.1.0 from {url} is not at hand (downloading it from {url} failed: ")
        assert '"0.1.0" not found' in message
        assert chart_repository.served("/demo-0.2.0.tgz") == 0
        # In auto mode the chart is recorded instead, saying why.
        auto = expand_all([online_registration(chart_repository)], ChartOptions(mode="auto"), known_secrets=())
        assert auto.by_urn == {}
        assert '"0.1.0" not found' in auto.recorded[chart_registration().urn]
        assert list((cache / "charts").iterdir()) == []

    def test_an_archive_the_repository_cannot_serve_names_the_chart_and_the_repository(
        self, chart_repository: ChartRepository, demo_archive: Path, cache: Path
    ) -> None:
        demo_archive.unlink()  # listed in the index, but answered with 404
        with pytest.raises(ExpansionError) as error:
            expand_all([online_registration(chart_repository)], ONLINE, known_secrets=())
        message = str(error.value)
        url = chart_repository.url
        assert message.startswith(f"chart demo 0.1.0 from {url} is not at hand (downloading it from {url} failed: ")
        assert "404" in message
        assert chart_repository.served("/demo-0.1.0.tgz") == 1
        assert list((cache / "charts").iterdir()) == []


DEMO_SCHEMA = '{"type": "object", "properties": {"replicas": {"type": "integer"}}}'


class TestValuesSchema:
    """A chart's ``values.schema.json`` is enforced, as ``helm template`` enforces it."""

    def test_values_against_the_schema_are_refused_with_helms_message_and_the_key(self, charts: ChartOptions) -> None:
        (charts.chart_dirs[0] / "demo" / "values.schema.json").write_text(DEMO_SCHEMA)
        with pytest.raises(ExpansionError) as error:
            expand_all([chart_registration(values={"replicas": "two"})], charts, known_secrets=())
        message = str(error.value)
        assert message.startswith(f"chart demo 0.1.0 from {REPO} (release rel): ")
        assert "values don't meet the specifications of the schema(s) in the following chart(s):\ndemo:\n" in message
        assert "- at '/replicas': got string, want integer" in message

    def test_values_the_schema_allows_are_expanded(self, charts: ChartOptions) -> None:
        (charts.chart_dirs[0] / "demo" / "values.schema.json").write_text(DEMO_SCHEMA)
        result = expand_all([chart_registration(values={"replicas": 2})], charts, known_secrets=())
        assert "ConfigMap" in by_kind(result)

    def test_the_traefik_charts_schema_refuses_a_value_of_the_wrong_type_naming_its_key(self) -> None:
        registration = chart_registration(
            name="traefik",
            chart="traefik",
            version=TRAEFIK_VERSION,
            repositoryOpts={"repo": "https://traefik.github.io/charts"},
            values={"deployment": {"replicas": "two"}},
        )
        with pytest.raises(ExpansionError) as error:
            expand_all([registration], complete_charts(), known_secrets=())
        message = str(error.value)
        assert message.startswith(
            f"chart traefik {TRAEFIK_VERSION} from https://traefik.github.io/charts (release rel): "
        )
        assert "values don't meet the specifications of the schema(s) in the following chart(s):\ntraefik:\n" in message
        assert "- at '/deployment/replicas': got string, want null or integer" in message


@pytest.fixture
def previous_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The dev stack's records-only export in ``tmp_path/dev``, as a previous render left it."""
    complete_charts()
    out = tmp_path / "dev"
    assert main(["render", "--charts", "record", "dev", "--project", str(ROOT), "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def failing_traefik(folder: Path) -> str:
    """A copy of the reference traefik chart whose Deployment template calls ``fail``; what Helm then says."""
    chart = writable_copy(TRAEFIK, folder / "traefik")
    (chart / "templates" / "deployment.yaml").write_text('{{ fail "boom" }}\n')
    return "execution error at (traefik/templates/deployment.yaml:1:3): boom"


def garbage_traefik(folder: Path) -> str:
    """A ``traefik-41.3.0.tgz`` that is no archive at all; what stackyard then says (Helm never sees it)."""
    archive = folder / f"traefik-{TRAEFIK_VERSION}.tgz"
    archive.write_bytes(b"this is not a gzip stream\n" * 64)
    return f"{archive}: not a readable chart archive (.tgz): not a gzip file"


def truncated_traefik(folder: Path) -> str:
    """A ``traefik-41.3.0.tgz`` cut short after its Chart.yaml (so that its name and version read
    well) and before the rest, which only Helm reads; what Helm then says."""
    whole = package(TRAEFIK, folder / "whole.tgz")
    data = whole.read_bytes()
    whole.unlink()
    (folder / f"traefik-{TRAEFIK_VERSION}.tgz").write_bytes(data[: len(data) // 2])
    return "unable to load the chart: unexpected EOF"


class TestRenderCommandOnBadCharts:
    @pytest.mark.parametrize("bad_chart", [failing_traefik, garbage_traefik, truncated_traefik])
    def test_a_bad_chart_fails_the_render_naming_it_and_leaves_the_previous_export(
        self, previous_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_chart: Any
    ) -> None:
        before = tree(previous_export)
        bad = tmp_path / "bad-charts"
        bad.mkdir()
        said = bad_chart(bad)
        bad_before = tree(bad)
        beside = sorted(path.name for path in tmp_path.iterdir() if path.name != "cache")
        arguments = ["render", "dev", "--project", str(ROOT), "--out", str(previous_export), "--chart-dir", str(bad)]
        code = main([*arguments, *complete_arguments()])  # the bad folder before the reference charts
        captured = capsys.readouterr()
        assert code == EXIT_BAD_INPUT
        chart = f"chart traefik {TRAEFIK_VERSION} from https://traefik.github.io/charts (release traefik)"
        assert captured.err == f"error: dev: {chart}: {said}\n"
        assert captured.out == ""
        assert tree(previous_export) == before
        assert tree(bad) == bad_before
        assert sorted(path.name for path in tmp_path.iterdir() if path.name != "cache") == beside  # nor staging
