"""Object metadata as every component writes it: the recommended labels, names, namespaces."""

from __future__ import annotations

import pulumi_kubernetes.meta.v1 as meta

from .. import labels

__all__ = ["managed_by", "object_meta", "standard_labels"]


def standard_labels(
    name: str, namespace: str, *, instance_of: str = "", component: str = "", part_of: str = "", version: str = ""
) -> dict[str, str]:
    """The recommended labels of an object set named ``name`` in ``namespace``.

    ``instance_of`` names the instance when it is not ``name`` itself (a Helm release, say).
    """
    return labels.recommended_labels(
        name=name,
        instance=labels.instance_label(instance_of or name, namespace),
        component=component,
        part_of=part_of,
        version=version,
    )


def managed_by() -> dict[str, str]:
    """Only ``app.kubernetes.io/managed-by``: for objects of a namespace rather than of an app."""
    return {labels.MANAGED_BY_KEY: labels.MANAGED_BY}


def object_meta(
    name: str, namespace: str | None, object_labels: dict[str, str], annotations: dict[str, str] | None = None
) -> meta.ObjectMetaArgs:
    """An object's metadata: an explicit name (reproducible exports), its namespace and labels."""
    return meta.ObjectMetaArgs(name=name, namespace=namespace, labels=object_labels, annotations=annotations)
