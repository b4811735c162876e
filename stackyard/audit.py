"""``stackyard audit``: the policy pack's rules and strict schema validation, on an export, offline."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .policies import RULES, Finding, evaluate, evaluate_charts
from .views import ExportView

__all__ = ["DEFAULT_KUBERNETES_VERSION", "AuditReport", "SchemaError", "audit", "check_version", "to_json", "to_sarif"]

DEFAULT_KUBERNETES_VERSION = "1.36"


def _supported_versions() -> tuple[str, str]:
    """The oldest and newest Kubernetes minor versions whose schemas kubernetes-validate ships."""
    import kubernetes_validate.utils  # noqa: PLC0415 - loaded by audits only, not by every command

    versions = sorted({".".join(v.split(".")[:2]) for v in kubernetes_validate.utils.all_versions()}, key=_minor)
    return versions[0], versions[-1]


def check_version(version: str) -> None:
    """Raise ``ValueError`` unless schemas for ``version`` ship with kubernetes-validate."""
    oldest, newest = _supported_versions()
    if not _minor(oldest) <= _minor(version) <= _minor(newest):
        raise ValueError(f"Kubernetes {version} has no schemas here; choose a version from {oldest} to {newest}")


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


@dataclass(frozen=True)
class SchemaError:
    """An object that the Kubernetes OpenAPI schema (strict: no unknown fields) rejects."""

    path: str
    message: str


@dataclass(frozen=True)
class AuditReport:
    """Everything one audit found."""

    target: str
    kubernetes_version: str
    findings: list[Finding]
    schema_errors: list[SchemaError]
    checked: int
    unchecked: list[str] = field(default_factory=list)
    """Paths of custom resources whose CRD is not in the export, so only the policies judged them."""
    by_crd: int = 0
    """How many custom resources were checked against the schema of their CRD in the export."""

    @property
    def failed(self) -> bool:
        """Whether the audit fails: a mandatory violation without exception, or a schema error."""
        return bool(self.schema_errors) or any(finding.counts for finding in self.findings)


def audit(view: ExportView, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION) -> AuditReport:
    """Run every policy and kubernetes-validate ``--strict`` over the view."""
    import kubernetes_validate  # noqa: PLC0415 - see _supported_versions

    findings = evaluate(view.bodies()) + evaluate_charts(list(view.records.values()))
    schema_errors: list[SchemaError] = []
    unchecked: list[str] = []
    crds = _crd_schemas(view.bodies())
    by_crd = 0
    for path, body in sorted(view.manifests.items()):
        try:
            kubernetes_validate.validate(body, kubernetes_version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            schema = crds.get((str(body.get("apiVersion")), str(body.get("kind"))))
            if schema is None:
                unchecked.append(path)
                continue
            by_crd += 1
            schema_errors += [SchemaError(path=path, message=message) for message in _custom_errors(body, schema)]
        except kubernetes_validate.ValidationError as error:
            location = "/".join(str(part) for part in error.path)
            schema_errors.append(SchemaError(path=path, message=f"{location}: {error.message}".lstrip(": ")))
    return AuditReport(
        target=view.label,
        kubernetes_version=kubernetes_version,
        findings=findings,
        schema_errors=schema_errors,
        checked=len(view.manifests) - len(unchecked),
        unchecked=unchecked,
        by_crd=by_crd,
    )


def _crd_schemas(bodies: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → the strict form of its CRD's schema, for every CRD version in the export."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for body in bodies:
        if body.get("kind") != "CustomResourceDefinition":
            continue
        spec = body.get("spec") or {}
        group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if group and kind and isinstance(schema, dict) and version.get("served", True):
                schemas[(f"{group}/{version.get('name')}", str(kind))] = _strict(schema)
    return schemas


def _strict(schema: Any) -> Any:
    """A CRD schema that refuses unknown fields, as the API server's strict field validation does:
    every object schema with ``properties`` and no ``x-kubernetes-preserve-unknown-fields`` gets
    ``additionalProperties: false``."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    closed = "properties" in schema and "additionalProperties" not in schema
    if closed and not schema.get("x-kubernetes-preserve-unknown-fields"):
        strict["additionalProperties"] = False
    return strict


def _custom_errors(body: dict[str, Any], schema: dict[str, Any]) -> Iterator[str]:
    """What the CRD's schema refuses in a custom resource; its metadata is the API server's to check."""
    import jsonschema  # noqa: PLC0415 - see _supported_versions

    top = dict(schema)
    top["properties"] = {**(schema.get("properties") or {}), "apiVersion": {}, "kind": {}, "metadata": {}}
    for error in jsonschema.Draft7Validator(top).iter_errors(body):
        location = "/".join(str(part) for part in error.path)
        yield f"{location}: {error.message} (the schema of its CRD in this export)".lstrip(": ")


def to_json(report: AuditReport) -> dict[str, Any]:
    """The machine-readable report."""
    return {
        "target": report.target,
        "kubernetesVersion": report.kubernetes_version,
        "passed": not report.failed,
        "policies": [
            {
                "name": rule.name,
                "description": rule.description,
                "enforcementLevel": rule.level,
                "severity": rule.severity,
            }
            for rule in RULES
        ],
        "findings": [
            {
                "policy": f.policy,
                "enforcementLevel": f.level,
                "object": {"kind": f.kind, "namespace": f.namespace or None, "name": f.name},
                "message": f.message,
                "status": "excepted" if f.exception else "violation",
                "exceptionReason": f.exception,
            }
            for f in report.findings
        ],
        "schema": {
            "validator": f"kubernetes-validate --strict, Kubernetes {report.kubernetes_version}",
            "checked": report.checked,
            "errors": [{"path": e.path, "message": e.message} for e in report.schema_errors],
            "customResourcesCheckedByTheirCrd": report.by_crd,
            "notCheckedCustomResources": report.unchecked,
        },
    }


def to_sarif(report: AuditReport) -> dict[str, Any]:
    """The report as SARIF 2.1.0, for code-scanning tools."""
    results: list[dict[str, Any]] = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.policy,
            "level": "error" if f.level == "mandatory" else "warning",
            "message": {"text": f"{f.object_ref}: {f.message}"},
        }
        if f.exception:
            result["suppressions"] = [{"kind": "inSource", "justification": f.exception}]
        results.append(result)
    results += [
        {
            "ruleId": "kubernetes-schema",
            "level": "error",
            "message": {"text": e.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": e.path}}}],
        }
        for e in report.schema_errors
    ]
    rules = [{"id": r.name, "shortDescription": {"text": r.description}} for r in RULES]
    rules.append(
        {"id": "kubernetes-schema", "shortDescription": {"text": "Objects match the Kubernetes OpenAPI schema."}}
    )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "stackyard", "rules": rules}}, "results": results}],
    }
