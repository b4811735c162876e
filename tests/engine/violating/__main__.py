"""One Deployment labelled as stackyard's whose pod runs privileged: `pod-security-restricted` must fail it."""

import pulumi
import pulumi_kubernetes as kubernetes

render = kubernetes.Provider("render", render_yaml_to_directory="rendered", kubeconfig="")
labels = {"app.kubernetes.io/name": "rogue", "app.kubernetes.io/managed-by": "stackyard"}
kubernetes.apps.v1.Deployment(
    "rogue",
    metadata={"name": "rogue", "namespace": "default", "labels": labels},
    spec={
        "selector": {"matchLabels": {"app.kubernetes.io/name": "rogue"}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [
                    {
                        "name": "rogue",
                        "image": "ghcr.io/stackyard-demo/rogue:1.0.0",
                        "securityContext": {"privileged": True},
                        "resources": {
                            "requests": {"cpu": "10m", "memory": "16Mi"},
                            "limits": {"cpu": "10m", "memory": "16Mi"},
                        },
                    }
                ]
            },
        },
    },
    opts=pulumi.ResourceOptions(provider=render),
)
