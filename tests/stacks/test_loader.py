"""Bad stack config fails before any resource is registered, naming the key path, value and what is allowed."""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from typing import Any

import pulumi
import pytest

from stacks import ConfigError
from stackyard.mockrt import Registration
from stackyard.project import StackInputs, load_stack
from tests.conftest import ROOT, run_program, with_change

NS, APPS, SECRETS = "stackyard:namespace", "stackyard:apps", "stackyard:secrets"
INGRESS, LOGGING, MONITORING = "stackyard:ingress", "stackyard:logging", "stackyard:monitoring"
LONG = "a" * 64

# (config key, path inside its value, new value or ... to delete, text the one problem must contain)
BAD_CONFIG: list[tuple[str, list[str | int], Any, str]] = [
    (NS, ["name"], "Shop_Dev", "stackyard:namespace.name: 'Shop_Dev' is not allowed: must be a DNS-1123 label"),
    (NS, ["name"], LONG, "stackyard:namespace.name: 'aaaa"),
    (
        NS,
        ["partOf"],
        "Not A Label!",
        "stackyard:namespace.partOf: 'Not A Label!' is not allowed: must be a label value",
    ),
    (NS, ["labels"], {"bad key!": "x"}, "stackyard:namespace.labels: label 'bad key!'='x': must be a label key"),
    (NS, ["labels"], {"team": "bad value!"}, "label 'team'='bad value!': must be a label value"),
    (NS, ["podSecurity", "enforce"], "strict", "stackyard:namespace.podSecurity.enforce: 'strict' is not allowed"),
    (NS, ["podSecurity", "version"], "latest", "stackyard:namespace.podSecurity.version: 'latest' is not allowed"),
    (NS, ["podSecurity", "enforcee"], "restricted", "did you mean 'enforce'?"),
    (NS, ["quota", "requestsCpu"], "10", "stackyard:namespace.quota: requests.cpu '10' must not exceed limits.cpu"),
    (NS, ["quota", "pods"], -1, "stackyard:namespace.quota.pods: -1 is not allowed"),
    (NS, ["quota", "limitsMemory"], "lots", "stackyard:namespace.quota.limitsMemory: 'lots' is not allowed"),
    (NS, ["containerDefaults"], {"maxCpu": "100m"}, "stackyard:namespace.containerDefaults: defaultLimitCpu '500m'"),
    (APPS, [0, "name"], "1frontend", "stackyard:apps[0].name: '1frontend' is not allowed: must be a DNS-1035 label"),
    (APPS, [0, "name"], "Frontend", "stackyard:apps[0].name: 'Frontend' is not allowed"),
    (APPS, [1, "name"], "frontend", "stackyard:apps: app names must be unique; ['frontend'] appear more than once"),
    (APPS, [1, "image"], "ghcr.io/x/api:latest", "stackyard:apps[1].image: 'ghcr.io/x/api:latest' is not allowed"),
    (APPS, [1, "image"], "ghcr.io/x/api", "stackyard:apps[1].image: 'ghcr.io/x/api' is not allowed: must name a tag"),
    (APPS, [1, "image"], "ghcr.io/x/api:1@sha256:abc", "stackyard:apps[1].image: 'ghcr.io/x/api:1@sha256:abc'"),
    (APPS, [0, "image"], "Ghcr.io/X/app:1", "stackyard:apps[0].image: 'Ghcr.io/X/app:1' is not allowed"),
    (APPS, [0, "port"], 0, "stackyard:apps[0].port: 0 is not allowed: must be a port number from 1 to 65535"),
    (APPS, [0, "port"], 70000, "stackyard:apps[0].port: 70000 is not allowed"),
    (APPS, [0, "portName"], "HTTP", "stackyard:apps[0].portName: 'HTTP' is not allowed: must be an IANA service name"),
    (APPS, [0, "portName"], "much-too-long-port", "stackyard:apps[0].portName: 'much-too-long-port'"),
    (APPS, [0, "servicePort"], -1, "stackyard:apps[0].servicePort: -1 is not allowed"),
    (
        APPS,
        [0, "replicas"],
        -1,
        "stackyard:apps[0].replicas: -1 is not allowed: Input should be greater than or equal to 0",
    ),
    (
        APPS,
        [0, "replicas"],
        "three",
        "stackyard:apps[0].replicas: 'three' is not allowed: Input should be a valid integer",
    ),
    (APPS, [0, "replicsa"], 3, "stackyard:apps[0].replicsa: unknown key (value 3); did you mean 'replicas'?"),
    (APPS, [1, "autoscaling"], {"minReplicas": 0}, "stackyard:apps[1].autoscaling.minReplicas: 0 is not allowed"),
    (APPS, [1, "autoscaling"], {"minReplicas": 5, "maxReplicas": 2}, "minReplicas 5 must not exceed maxReplicas 2"),
    (APPS, [0, "resources", "requests", "cpu"], "lots", "stackyard:apps[0].resources.requests.cpu: 'lots'"),
    (APPS, [0, "resources", "limits", "memory"], "12XB", "stackyard:apps[0].resources.limits.memory: '12XB'"),
    (APPS, [0, "resources", "requests", "memory"], "-1Gi", "stackyard:apps[0].resources.requests.memory: '-1Gi'"),
    (APPS, [0, "resources", "requests", "cpu"], "2", "stackyard:apps[0].resources: requests.cpu '2' must not exceed"),
    (APPS, [0, "component"], "front end", "stackyard:apps[0].component: 'front end' is not allowed"),
    (APPS, [0, "env"], {"1BAD": "x"}, "stackyard:apps[0].env.1BAD (the key): '1BAD' is not allowed"),
    (APPS, [0, "env"], {"A": 1}, "stackyard:apps[0].env.A: 1 is not allowed: Input should be a valid string"),
    (APPS, [0, "secretFiles"], ["Bad_Name"], "stackyard:apps[0].secretFiles[0]: 'Bad_Name' is not allowed"),
    (APPS, [0, "secretEnv"], {"X": {"secret": "s"}}, "stackyard:apps[0].secretEnv.X.key: required key is missing"),
    (APPS, [0, "runAsUser"], 1000, "stackyard:apps[0].runAsUser: 1000 is not allowed"),
    (APPS, [0, "readinessPath"], "healthz", "stackyard:apps[0].readinessPath: 'healthz' is not allowed"),
    (APPS, [0, "namespace"], "elsewhere", "app 'frontend' sets namespace 'elsewhere'"),
    (APPS, [], [], "stackyard:apps: an environment needs at least one app (a platform stack has no namespace)"),
    (APPS, [], ..., "stackyard:apps: an environment needs at least one app"),
    (APPS, [], "frontend,api", "stackyard:apps: 'frontend,api' is not a structured value; expected a list"),
    (NS, [], ..., "stackyard:namespace: required, since the stack has apps"),
    ("stackyard:app", [], "[]", "stackyard:app: unknown key (value '[]'); did you mean 'apps'?"),
    (
        SECRETS,
        [0, "values", "token"],
        "missingKey",
        "stackyard:secrets[0].values.token: config key stackyard:missingKey is not set",
    ),
    (SECRETS, [0, "name"], "Bad!", "stackyard:secrets[0].name: 'Bad!' is not allowed"),
    # Networking: the ingress controller, routes and network intents.
    (INGRESS, ["implementation"], "haproxy", "stackyard:ingress.implementation: 'haproxy' is not allowed"),
    (INGRESS, ["implementation"], "envoy-gateway", "'envoy-gateway' does not serve routeApi 'ingress'"),
    (INGRESS, ["serviceType"], "External", "stackyard:ingress.serviceType: 'External' is not allowed"),
    (INGRESS, ["replicas"], 0, "stackyard:ingress.replicas: 0 is not allowed"),
    (
        INGRESS,
        ["chartPath"],
        "/no/such/traefik",
        "stackyard:ingress.chartPath: '/no/such/traefik' is not allowed: '/no/such/traefik' does not exist",
    ),
    (
        INGRESS,
        ["gatewayApiCrdsPath"],
        "/no/such/crds.yaml",
        "stackyard:ingress.gatewayApiCrdsPath: '/no/such/crds.yaml' is not allowed: '/no/such/crds.yaml' does not",
    ),
    (APPS, [0, "route", "host"], "Shop.Example.com", "stackyard:apps[0].route.host: 'Shop.Example.com' is not allowed"),
    (APPS, [0, "route", "host"], "shop.*.example.com", "stackyard:apps[0].route.host: 'shop.*.example.com'"),
    (APPS, [0, "route", "host"], "10.1.2.3", "stackyard:apps[0].route.host: '10.1.2.3' is not allowed"),
    (APPS, [0, "route", "paths"], ["api"], "stackyard:apps[0].route.paths[0]: 'api' is not allowed"),
    (APPS, [0, "route", "clusterIssuer"], "le", "stackyard:apps[0].route: clusterIssuer writes the certificate"),
    (APPS, [1, "route", "paths"], ["/"], "stackyard:apps[1].route: host 'shop.dev.example.com' path '/' is already"),
    (APPS, [2, "route"], {"host": "w.example.com"}, "stackyard:apps[2].route: route needs the app's Service"),
    (APPS, [0, "egress", 0, "app"], "ghost", "stackyard:apps[0].egress[0]: app 'ghost' does not exist"),
    (APPS, [0, "egress", 0, "ports"], [{"port": 8080}], "stackyard:apps[0].egress[0]: port 8080 is not a port of app"),
    (APPS, [0, "ingress"], [{"app": "ghost"}], "stackyard:apps[0].ingress[0]: app 'ghost' does not exist"),
    (APPS, [0, "ingress"], [{"app": "api", "ports": [{"port": 81}]}], "ingress[0] allows port 81 but the app"),
    (APPS, [1, "egress", 0, "cidr"], "10.20.0.0/33", "stackyard:apps[1].egress[0]: cidr '10.20.0.0/33' is not a valid"),
    (APPS, [1, "egress", 0, "exceptCidrs"], ["10.99.0.0/24"], "stackyard:apps[1].egress[0]: exceptCidrs entry"),
    (APPS, [1, "egress", 0, "ports", 0, "port"], 70000, "stackyard:apps[1].egress[0].ports[0].port: 70000"),
    (APPS, [1, "egress", 0, "ports", 0, "protocol"], "ICMP", "stackyard:apps[1].egress[0].ports[0].protocol: 'ICMP'"),
    (APPS, [2, "egress", 2, "podLabels"], {"bad key!": "x"}, "stackyard:apps[2].egress[2].podLabels: label"),
    # Observability: the log pipeline and monitoring.
    (LOGGING, ["outputs"], [], "stackyard:logging.outputs: List should have at least 1 item"),
    (LOGGING, ["outputs", 0, "type"], "kafka", "stackyard:logging.outputs[0].type: 'kafka' is not allowed"),
    (LOGGING, ["outputs", 0], {"type": "loki"}, "stackyard:logging.outputs[0]: a 'loki' output needs host"),
    (LOGGING, ["outputs", 0, "index"], "x", "stackyard:logging.outputs[0]: ['index'] do not apply to a 'stdout'"),
    (LOGGING, ["outputs", 0, "totalLimitSize"], "1 GB", "stackyard:logging.outputs[0].totalLimitSize: '1 GB'"),
    (LOGGING, ["multilineLanguages"], ["cobol"], "stackyard:logging.multilineLanguages[0]: 'cobol' is not allowed"),
    (LOGGING, ["storageMaxChunksUp"], 0, "stackyard:logging.storageMaxChunksUp: 0 is not allowed"),
    (LOGGING, ["image"], "fluent/fluent-bit:latest", "stackyard:logging.image: 'fluent/fluent-bit:latest'"),
    (MONITORING, ["prometheus", "retention"], "2 days", "stackyard:monitoring.prometheus.retention: '2 days'"),
    (MONITORING, ["prometheus", "retentionSize"], "9G", "stackyard:monitoring.prometheus.retentionSize: '9G'"),
    (MONITORING, ["prometheus", "replicas"], 0, "stackyard:monitoring.prometheus.replicas: 0 is not allowed"),
    (MONITORING, ["chartPath"], "Pulumi.yaml", "stackyard:monitoring.chartPath: 'Pulumi.yaml' is not allowed: 'Pulumi"),
    (MONITORING, ["grafana"], "yes please", "stackyard:monitoring.grafana: 'yes please' is not allowed"),
    (APPS, [1, "monitoring", "alerts"], {"Oops": {}}, "stackyard:apps[1].monitoring.alerts.Oops (the key): 'Oops'"),
    (APPS, [0, "monitoring"], {"alerts": {"HpaAtMaxReplicas": {}}}, "KubeHpaMaxedOut fires on the same condition"),
    (APPS, [2, "monitoring"], {"interval": "often"}, "stackyard:apps[2].monitoring.interval: 'often'"),
    (APPS, [1, "metricsPort"], 0, "stackyard:apps[1].metricsPort: 0 is not allowed"),
    (SECRETS, [0, "namespace"], "kube-system", "stackyard:secrets[0].namespace: 'kube-system' is not a namespace"),
    (MONITORING, ["grafanaAdminSecret"], ..., "stackyard:monitoring: grafana needs grafanaAdminSecret"),
    # Capacity: the quota must hold the apps at their replica maxima plus a rollout surge.
    (NS, ["quota", "pods"], 5, "stackyard:namespace.quota: too small for the apps at their replica maxima"),
    # api at 9 replicas peaks at 12 pods x 500m, frontend and worker at 2 x 250m each: 7 CPU of limits.
    (APPS, [1, "replicas"], 9, "surge (limitsCpu '4' < 7 CPU); raise it, or lower the apps' maxima or resources"),
]


def run_main(config: Mapping[str, str], secret_keys: list[str]) -> tuple[list[Registration], ConfigError | None]:
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        except ConfigError as error:
            caught.append(error)

    objects = run_program(program, config=config, secret_keys=secret_keys, stack="dev")
    return list(objects.run.registrations), caught[0] if caught else None


def app_names(registrations: list[Registration]) -> list[str]:
    return sorted(r.name for r in registrations if r.type == "stackyard:index:App")


def config_map_data(registrations: list[Registration]) -> list[dict[str, str]]:
    return [r.inputs.get("data") or {} for r in registrations if r.type == "kubernetes:core/v1:ConfigMap"]


class TestStackConfigErrors:
    def test_the_table_has_at_least_thirty_distinct_cases(self) -> None:
        assert len({(key, str(path), repr(value)) for key, path, value, _ in BAD_CONFIG}) >= 30

    @pytest.mark.parametrize(("key", "path", "value", "expected"), BAD_CONFIG, ids=[c[3][:60] for c in BAD_CONFIG])
    def test_bad_config_fails_before_any_resource_with_the_key_path(
        self, dev_inputs: StackInputs, key: str, path: list[str | int], value: Any, expected: str
    ) -> None:
        config = with_change(dev_inputs.config, key, path, value)
        registrations, error = run_main(config, dev_inputs.secret_keys)
        assert error is not None, "the program accepted bad config"
        assert registrations == []
        assert len(error.problems) == 1, error.problems
        assert expected in error.problems[0]
        assert isinstance(error, pulumi.RunError)  # the real CLI prints it without a traceback

    def test_every_problem_is_reported_at_once(self, dev_inputs: StackInputs) -> None:
        config = with_change(dev_inputs.config, APPS, [0, "port"], 0)
        config = with_change(config, APPS, [1, "image"], "ghcr.io/x/api:latest")
        _, error = run_main(config, dev_inputs.secret_keys)
        assert error is not None
        assert [problem.split(":")[1] for problem in error.problems] == ["apps[0].port", "apps[1].image"]

    def test_two_bad_egress_targets_are_two_problems_each_with_its_key_path(self, dev_inputs: StackInputs) -> None:
        config = with_change(dev_inputs.config, APPS, [0, "egress", 0, "app"], "ghost")
        config = with_change(config, APPS, [1, "egress", 0], {"app": "frontend", "ports": [{"port": 9999}]})
        registrations, error = run_main(config, dev_inputs.secret_keys)
        assert error is not None
        assert registrations == []
        assert str(error).splitlines()[0] == "invalid stack configuration (2 problems):"
        assert error.problems == [
            "stackyard:apps[0].egress[0]: app 'ghost' does not exist in this environment; "
            "apps: ['api', 'frontend', 'worker']",
            "stackyard:apps[1].egress[0]: port 9999 is not a port of app 'frontend' (it listens on 8080), "
            "so the rule can never match",
        ]

    def test_a_missing_ingress_controller_is_reported_on_every_routed_app(self, dev_inputs: StackInputs) -> None:
        _, error = run_main(with_change(dev_inputs.config, INGRESS, [], ...), dev_inputs.secret_keys)
        assert error is not None
        assert error.problems == [
            f"stackyard:apps[{index}].route: routes need an ingress controller, and none is configured"
            for index in (0, 1)
        ]

    def test_removing_monitoring_reports_what_depended_on_it(self, dev_inputs: StackInputs) -> None:
        _, error = run_main(with_change(dev_inputs.config, MONITORING, [], ...), dev_inputs.secret_keys)
        assert error is not None
        assert error.problems == [
            "stackyard:apps[1].monitoring: needs stackyard:monitoring, which is not set",
            "stackyard:secrets[0].namespace: 'monitoring' is not a namespace stackyard creates; "
            "use one of ['logging', 'shop-dev']",
        ]

    def test_checks_of_different_concerns_report_together(self, dev_inputs: StackInputs) -> None:
        config = with_change(dev_inputs.config, NS, ["quota", "pods"], 5)
        config = with_change(config, APPS, [0, "egress", 0, "app"], "ghost")
        config = with_change(config, SECRETS, [0, "namespace"], "kube-system")
        _, error = run_main(config, dev_inputs.secret_keys)
        assert error is not None
        assert [problem.split(": ")[0] for problem in error.problems] == [
            "stackyard:apps[0].egress[0]",
            "stackyard:namespace.quota",
            "stackyard:secrets[0].namespace",
        ]

    def test_rendering_gateway_routes_needs_a_local_gateway_api_install(self) -> None:
        staging = load_stack(ROOT, "staging")
        config = with_change(staging.config, "stackyard:renderDir", [], "out/real")
        registrations, error = run_main(config, staging.secret_keys)
        assert error is not None
        assert registrations == []
        assert [problem.split(": ")[0] for problem in error.problems] == ["stackyard:ingress.gatewayApiCrdsPath"]
        assert "required with renderDir" in error.problems[0]

    def test_the_example_config_itself_is_valid(self, dev_inputs: StackInputs) -> None:
        registrations, error = run_main(dev_inputs.config, dev_inputs.secret_keys)
        assert error is None
        assert app_names(registrations) == ["api", "frontend", "worker"]


AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl"


class TestSecretsInPlainConfig:
    """A secret given as a plain value is refused wherever it would land in a manifest."""

    @pytest.mark.parametrize(
        "case",
        [
            ("dev", APPS, [1, "env", "DB_PASSWORD"], "hunter2", "apps[1].env.DB_PASSWORD", "its name says 'password'"),
            ("dev", APPS, [1, "env", "DATABASE_URL"], "postgres://a:hunter2@db/x", "apps[1].env.DATABASE_URL",
             "a URL with a password"),
            ("dev", NS, ["labels"], {"owner": AWS_KEY}, "namespace.labels.owner", "an AWS access key id"),
            ("dev", NS, ["annotations"], {"deploy-token": "abc"}, "namespace.annotations.deploy-token",
             "its name says 'token'"),
            ("prod", LOGGING, ["outputs", 0, "tenantId"], JWT, "logging.outputs[0].tenantId", "a JSON Web Token"),
        ],
    )  # fmt: skip
    def test_it_is_refused_with_its_key_path_and_the_way_to_declare_it(
        self, case: tuple[str, str, list[str | int], object, str, str]
    ) -> None:
        stack, key, path, value, where, reason = case
        inputs = load_stack(ROOT, stack)
        config = with_change(inputs.config, key, path, value)
        registrations, error = run_main(config, inputs.secret_keys)
        assert error is not None
        assert registrations == []
        (problem,) = error.problems
        assert problem.startswith(f"stackyard:{where}: looks like a secret")
        assert reason in problem
        assert "secretEnv or secretFiles" in problem
        assert "stackyard:notSecrets" in problem
        secret = value if isinstance(value, str) else next(iter(value.values()))  # type: ignore[attr-defined]
        assert secret not in str(error)

    def test_a_declared_false_positive_passes_and_a_stale_declaration_is_refused(self, dev_inputs: StackInputs) -> None:
        config = with_change(dev_inputs.config, APPS, [0, "env", "TOKEN_AUDIENCE_ID"], "shop-frontend")
        _, error = run_main(config, dev_inputs.secret_keys)
        assert error is not None
        assert [problem.split(": looks like")[0] for problem in error.problems] == [
            "stackyard:apps[0].env.TOKEN_AUDIENCE_ID"
        ]
        declared = with_change(config, "stackyard:notSecrets", [], ["apps[0].env.TOKEN_AUDIENCE_ID"])
        registrations, error = run_main(declared, dev_inputs.secret_keys)
        assert error is None
        assert app_names(registrations) == ["api", "frontend", "worker"]
        audience = [data["TOKEN_AUDIENCE_ID"] for data in config_map_data(registrations) if "TOKEN_AUDIENCE_ID" in data]
        assert audience == ["shop-frontend"]  # the declared value reaches the app's env as it was given
        stale = with_change(dev_inputs.config, "stackyard:notSecrets", [], ["apps[0].env.NOPE"])
        _, error = run_main(stale, dev_inputs.secret_keys)
        assert error is not None
        assert error.problems == [
            "stackyard:notSecrets[0]: 'apps[0].env.NOPE' names no plain value that looks like a secret; remove it"
        ]

    def test_a_secret_config_key_given_as_a_plain_value_is_refused(self, dev_inputs: StackInputs) -> None:
        config = {**dev_inputs.config, "stackyard:apiDatabasePassword": "hunter2"}
        secret_keys = [k for k in dev_inputs.secret_keys if k != "stackyard:apiDatabasePassword"]
        registrations, error = run_main(config, secret_keys)
        assert error is not None
        assert registrations == []
        assert error.problems == [
            "stackyard:apiDatabasePassword: stackyard:secrets uses it as a secret, but it is a plain value; set it "
            "with `pulumi config set --secret apiDatabasePassword <value>`"
        ]
