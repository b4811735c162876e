"""The floor for the render benchmark: the same objects as plain dicts, dumped by PyYAML's C dumper.

python bench/floor.py OUT_DIR N
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ENVS = ("dev", "staging", "prod")


def objects(name: str, index: int, env: str, namespace: str) -> dict[str, dict[str, Any]]:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-{namespace}"}
    meta = {"name": name, "namespace": namespace, "labels": labels}
    container = {
        "name": name,
        "image": f"registry.example.com/bench/{name}:1.{index}.0",
        "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    backend = {"service": {"name": name, "port": {"name": "http"}}}
    host = f"{name}.{env}.bench.example.com"
    return {
        "apps_v1-deployment": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        },
        "v1-service": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        },
        "v1-serviceaccount": {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta,
            "automountServiceAccountToken": False,
        },
        "autoscaling_v2-horizontalpodautoscaler": {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta,
            "spec": {
                "minReplicas": 2,
                "maxReplicas": 8,
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            },
        },
        "policy_v1-poddisruptionbudget": {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta,
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}},
        },
        "networking.k8s.io_v1-ingress": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta,
            "spec": {
                "ingressClassName": "traefik",
                "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}],
            },
        },
        "networking.k8s.io_v1-networkpolicy": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta,
            "spec": {
                "podSelector": {"matchLabels": labels},
                "policyTypes": ["Ingress", "Egress"],
                "egress": [
                    {"to": [{"ipBlock": {"cidr": "10.60.0.0/24"}}], "ports": [{"port": 5432, "protocol": "TCP"}]}
                ],
            },
        },
    }


def main() -> None:
    out, size = Path(sys.argv[1]), int(sys.argv[2])
    for env in ENVS:
        namespace = f"bench-{env}"
        folder = out / env / "1-manifest"
        folder.mkdir(parents=True)
        for index in range(size):
            name = f"app{index:03d}"
            for prefix, body in objects(name, index, env, namespace).items():
                text = yaml.dump(body, Dumper=yaml.CSafeDumper, sort_keys=True, default_flow_style=False)
                (folder / f"{prefix}-{namespace}-{name}.yaml").write_text(text)


if __name__ == "__main__":
    main()
