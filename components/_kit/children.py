"""Options for a component's children, and the name outputs a component exposes."""

from __future__ import annotations

import pulumi

__all__ = ["after", "child_options", "name_output"]


def child_options(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """Children parented to ``parent`` that also wait for what the caller made ``parent`` wait for."""
    # Deliberate break from "never merge the caller's opts into children": depends_on does not
    # flow from a component to its children, and the namespace must exist before they do.
    depends_on = opts.depends_on if opts is not None else None
    return pulumi.ResourceOptions(parent=parent, depends_on=depends_on)


def after(parent: pulumi.Resource, *dependencies: pulumi.Resource) -> pulumi.ResourceOptions:
    """Children parented to ``parent``, created after ``dependencies`` (e.g. their namespace)."""
    return pulumi.ResourceOptions(parent=parent, depends_on=list(dependencies))


def name_output(resource: pulumi.Resource, name: str) -> pulumi.Output[str]:
    """``name`` as an output that resolves once ``resource`` is registered, and depends on it.

    A consumer that reads the name (a route naming a Gateway, an app naming a Secret) thereby
    waits for the object, which a plain string would not make it do. The URN is used because
    every resource has one, and it is known in preview, as the name itself is.
    """
    named: pulumi.Output[str] = resource.urn.apply(lambda _: name)
    return named
