"""The provider's Go type round trip, offline: quantities, omitempty, unknown fields, and the oracle.

The expected values are derived from Kubernetes' and Go's documented rules (``resource.Quantity``'s
canonical form, ``encoding/json``'s ``omitempty``), not from running the code. Where the chart
expander is built, its ``check`` mode (the provider's own ``clients.Normalize``) is the oracle: the
offline conversion must give the same objects, on hand-written bodies and on every object of the
complete dev export.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from stackyard import apitypes
from stackyard.apitypes import TABLE_FILE, as_provider_writes, canonical_quantity, load_table
from stackyard.expander import Expander, ExpanderError, find_expander
from stackyard.manifests import is_manifest, normalise
from stackyard.mockrt import unwrap_secret
from stackyard.render import Rendering, evaluate_stack
from tests.conftest import ROOT, complete_charts


def expander_or_skip() -> Expander:
    """The built expander, or a skip that says why it is absent (as complete_charts() does)."""
    try:
        return find_expander()
    except ExpanderError as error:
        pytest.skip(f"the oracle is the chart expander: {error}")


def go_checked(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the provider's Check makes of each object, from the expander's ``check`` mode."""
    response = expander_or_skip().run({"mode": "check", "objects": objects})
    return [entry["object"] for entry in response["objects"]]


def pod_with_cpu(quantity: object) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": quantity}}}]},
    }


def cpu_of(body: dict[str, Any]) -> Any:
    return body["spec"]["containers"][0]["resources"]["limits"]["cpu"]


#: (given, canonical) by resource.Quantity's rules: the suffix family (decimal SI, binary SI,
#: decimal exponent) is kept; the mantissa is an integer with the exponent lowered to a multiple of
#: 3 (binary: of 10), trailing zeros moved into the suffix; binary amounts below 1024 or with a
#: fraction are written in decimal SI; precision below a nano rounds up, away from zero.
CANONICAL_QUANTITIES = [
    ("1000m", "1"),
    ("0.5", "500m"),
    ("0.1", "100m"),
    ("1.5", "1500m"),
    ("1500m", "1500m"),
    ("1.0", "1"),
    ("1000", "1k"),
    ("100M", "100M"),
    ("1024Mi", "1Gi"),
    ("3072Mi", "3Gi"),
    ("2000Mi", "2000Mi"),
    ("2Gi", "2Gi"),
    ("1.5Gi", "1536Mi"),
    ("1Ki", "1Ki"),
    ("1536Ki", "1536Ki"),
    ("0.5Ki", "512"),  # 512 bytes is below 1024: decimal SI
    ("1e3", "1e3"),  # the exponent form stays an exponent form (it does not become 1k)
    ("12e6", "12e6"),
    ("123e5", "12300e3"),
    ("1e-3", "1e-3"),
    ("0Gi", "0"),
    ("0.1n", "1n"),
    ("1.5n", "2n"),
    ("-0.1n", "-1n"),
    ("-1500m", "-1500m"),
    (" 250m ", "250m"),  # Quantity's UnmarshalJSON trims spaces
]


class TestCanonicalQuantity:
    @pytest.mark.parametrize(("given", "canonical"), CANONICAL_QUANTITIES)
    def test_a_quantity_is_written_in_kubernetes_canonical_form(self, given: str, canonical: str) -> None:
        assert canonical_quantity(given) == canonical

    def test_the_canonical_forms_are_the_providers(self) -> None:
        """The same quantities, through a Pod's limits, as the provider's Check writes them."""
        given = [pod_with_cpu(quantity) for quantity, _ in CANONICAL_QUANTITIES]
        expected = [canonical for _, canonical in CANONICAL_QUANTITIES]
        assert [cpu_of(body) for body in go_checked(given)] == expected

    @pytest.mark.parametrize("text", ["lots", "", "1.2.3", "5Kb", "1e", "Mi", "1 Gi"])
    def test_a_string_that_is_no_quantity_does_not_convert(self, text: str) -> None:
        with pytest.raises(apitypes._UnconvertibleError):
            canonical_quantity(text)

    @pytest.mark.parametrize("given", ["10E", "12345678901234567890123"])
    def test_a_quantity_of_more_than_28_digits_to_the_nano_is_canonical_too(self, given: str) -> None:
        # Both are already canonical (no trailing zeros to move into the suffix); the provider
        # writes them unchanged. Today this raises decimal.InvalidOperation, not even the
        # module's own "does not convert", so as_provider_writes crashes on such a Pod.
        assert canonical_quantity(given) == given

    @pytest.mark.parametrize("given", ["+1", "1E3", "1.500", "1.234k", "+1Ki"])
    def test_a_string_go_reuses_as_parsed_is_kept(self, given: str) -> None:
        # ParseQuantity's fast path caches the input as the Quantity's string when its scale is a
        # multiple of 3 and its digits neither end in 000 nor start with 0; MarshalJSON writes that.
        assert canonical_quantity(given) == given


class TestAsProviderWrites:
    def test_omitempty_fields_that_are_empty_in_go_go(self) -> None:
        body = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "n", "annotations": {}, "labels": {"app": "web"}},
            "spec": {"podSelector": {}, "ingress": [], "policyTypes": ["Ingress"]},
        }
        written = as_provider_writes(body)
        # annotations {} and ingress [] are omitempty and empty; podSelector is a struct, which
        # omitempty never drops, so the empty selector (all pods) stays.
        assert written["metadata"] == {"name": "n", "labels": {"app": "web"}}
        assert written["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}

    def test_a_false_bool_goes_but_a_false_pointer_to_bool_stays(self) -> None:
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {
                "template": {
                    "spec": {
                        "hostNetwork": False,  # bool, omitempty
                        "automountServiceAccountToken": False,  # *bool, omitempty
                        "containers": [{"name": "c", "image": ""}],  # string, omitempty
                    }
                }
            },
        }
        pod = as_provider_writes(body)["spec"]["template"]["spec"]
        assert pod == {"automountServiceAccountToken": False, "containers": [{"name": "c"}]}

    def test_a_field_the_go_type_lacks_is_dropped_at_every_depth(self) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "colour": "red"},
            "data": {"a": "1"},
            "spec": {"replicas": 1},  # a ConfigMap has no spec
        }
        assert as_provider_writes(body) == {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c"},
            "data": {"a": "1"},
        }

    def test_int_or_string_keeps_strings_and_makes_integral_numbers_ints(self) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 80.0, "targetPort": 8080.0}, {"port": 81, "targetPort": "http"}]},
        }
        ports = as_provider_writes(body)["spec"]["ports"]
        assert ports == [{"port": 80, "targetPort": 8080}, {"port": 81, "targetPort": "http"}]
        assert all(type(port["port"]) is int for port in ports)
        assert type(ports[0]["targetPort"]) is int

    def test_a_number_in_a_quantity_field_becomes_a_canonical_quantity_string(self) -> None:
        assert cpu_of(as_provider_writes(pod_with_cpu(0.5))) == "500m"
        assert cpu_of(as_provider_writes(pod_with_cpu(1000))) == "1k"

    def test_times_are_written_in_utc_rfc_3339(self) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e"},
            "involvedObject": {},
            "firstTimestamp": "2024-01-02T03:04:05.7+01:00",  # v1.Time: whole seconds
            "eventTime": "2024-01-02T03:04:05.500000+01:00",  # v1.MicroTime: microseconds
        }
        written = as_provider_writes(body)
        assert written["firstTimestamp"] == "2024-01-02T02:04:05Z"
        assert written["eventTime"] == "2024-01-02T02:04:05.500000Z"

    def test_an_object_that_does_not_convert_is_written_as_given_less_read_only_metadata(self) -> None:
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d", "uid": "1234", "annotations": {}},
            "spec": {"replicas": "two", "paused": False},
        }
        assert as_provider_writes(body) == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d", "annotations": {}},
            "spec": {"replicas": "two", "paused": False},
        }

    def test_a_custom_resource_loses_only_read_only_metadata(self) -> None:
        body = {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "generation": 3, "resourceVersion": "9", "annotations": {}},
            "spec": {"ingress": [], "anything": ""},
        }
        assert as_provider_writes(body) == {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "annotations": {}},
            "spec": {"ingress": [], "anything": ""},
        }

    def test_a_crd_loses_its_status_and_a_false_preserve_unknown_fields(self) -> None:
        body = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "preserveUnknownFields": False},
            "status": {"acceptedNames": {}},
        }
        written = as_provider_writes(body)
        assert written == {**{k: v for k, v in body.items() if k != "status"}, "spec": {"group": "example.com"}}
        kept = {**body, "spec": {"group": "example.com", "preserveUnknownFields": True}}
        assert as_provider_writes(kept)["spec"]["preserveUnknownFields"] is True

    def test_the_given_body_is_not_modified(self) -> None:
        body = pod_with_cpu("1000m")
        body["metadata"]["uid"] = "u"
        before = json.dumps(body, sort_keys=True)
        as_provider_writes(body)
        assert json.dumps(body, sort_keys=True) == before

    def test_wrapped_base64_is_rewritten_unwrapped(self) -> None:
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "binaryData": {"x": "aGVs\nbG8="}}
        assert as_provider_writes(body)["binaryData"] == {"x": "aGVsbG8="}

    @pytest.mark.parametrize(
        ("field", "text"), [("firstTimestamp", "2024-01-02 03:04:05Z"), ("eventTime", "2024-01-02T03:04:05.5Z")]
    )
    def test_a_time_go_cannot_parse_leaves_the_object_as_given(self, field: str, text: str) -> None:
        # v1.Time parses RFC 3339 (a "T" between date and time); v1.MicroTime's layout wants six
        # fraction digits. The provider's conversion fails, so it writes the object as given.
        body = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "involvedObject": {}, field: text}
        assert as_provider_writes(body) == body


#: Bodies that exercise every rule above, for the oracle.
RULE_BODIES: list[dict[str, Any]] = [
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "n", "annotations": {}, "uid": "x", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"podSelector": {}, "ingress": [], "egress": [{}], "policyTypes": ["Ingress"], "bogus": 1},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": {}},
        "spec": {
            "replicas": 2.0,
            "strategy": {"rollingUpdate": {"maxSurge": 1.0, "maxUnavailable": "25%"}},
            "template": {
                "spec": {
                    "hostNetwork": False,
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": "c",
                            "image": "",
                            "ports": [{"containerPort": 80.0}],
                            "resources": {"requests": {"cpu": 0.25, "memory": "1024Mi"}},
                        }
                    ],
                }
            },
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80, "targetPort": 8080.0}, {"port": 81, "targetPort": "http"}], "type": ""},
    },
    {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e"},
        "involvedObject": {},
        "firstTimestamp": "2024-01-02T03:04:05+01:00",
        "eventTime": "2024-01-02T03:04:05.500000+01:00",
    },
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "binaryData": {"x": "aGVsbG8="}, "x": 1},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "binaryData": {"x": "aGVsbG8"}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "uid": "u"}, "spec": {"replicas": "two"}},
    pod_with_cpu("lots"),
    {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "c", "generation": 1},
        "spec": {"preserveUnknownFields": False, "group": "g"},
        "status": {"x": 1},
    },
    {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "annotations": {}}, "spec": {"a": []}},
]


@pytest.fixture(scope="module")
def dev_complete() -> Rendering:
    """The dev stack's complete export (charts expanded), evaluated once for this module."""
    return evaluate_stack(ROOT, "dev", charts=complete_charts())


def program_bodies(rendering: Rendering) -> list[dict[str, Any]]:
    """The program's own objects as registered, before the offline conversion (Secrets left out:
    their data is redacted in exports, so the provider's normalisation of it is not mirrored)."""
    bodies = []
    for registration in rendering.registrations:
        if is_manifest(registration) and registration.inputs.get("kind") != "Secret":
            bodies.append({key: normalise(unwrap_secret(value)[1]) for key, value in registration.inputs.items()})
    return bodies


class TestAgainstTheProvider:
    def test_the_rule_bodies_convert_as_the_provider_converts_them(self) -> None:
        assert [as_provider_writes(body) for body in RULE_BODIES] == go_checked(RULE_BODIES)

    def test_the_programs_objects_convert_as_the_provider_converts_them(self, dev_complete: Rendering) -> None:
        bodies = program_bodies(dev_complete)
        assert len(bodies) > 20, "the dev stack registers its objects"
        expected = go_checked(bodies)
        differing = [
            f"{body['kind']} {body['metadata'].get('name')}"
            for body, go in zip(bodies, expected, strict=True)
            if as_provider_writes(body) != go
        ]
        assert differing == []

    def test_every_exported_object_is_already_as_the_provider_writes_it(self, dev_complete: Rendering) -> None:
        """The export's objects (the program's and the charts') are fixed points of both conversions."""
        bodies = [m.body for m in dev_complete.manifests if m.kind != "Secret"]
        assert any(m.origin is not None for m in dev_complete.manifests), "the charts were expanded"
        expected = go_checked(bodies)
        differing = [
            f"{body['kind']} {body['metadata'].get('name')}"
            for body, go in zip(bodies, expected, strict=True)
            if as_provider_writes(body) != go or go != body
        ]
        assert differing == []


class TestTable:
    def test_the_checked_in_table_is_what_the_expander_generates(self) -> None:
        expander = expander_or_skip()
        generated = subprocess.run(
            [str(expander.path), "api-types"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        assert json.loads(generated) == load_table(), f"{TABLE_FILE} is stale: run `make api-types`"

    def test_every_kind_names_a_described_struct(self) -> None:
        table = load_table()
        assert "apps/v1/Deployment" in table["kinds"]
        assert {table["kinds"][kind] for kind in table["kinds"]} <= set(table["structs"])
        assert {"uid", "resourceVersion", "managedFields"} <= set(table["readOnlyMetadata"])
