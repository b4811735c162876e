"""The components' private kit: what several components share, so that none reaches into another.

A component module imports from here, from :mod:`components.validation` and :mod:`components.labels`,
and from the component modules it composes; never a sibling's helper (tests/components/test_layering.py
holds the rule). Nothing here is public API: it may change with any release. Import from the
modules themselves (``from ._kit.children import child_options``); this package re-exports nothing.

- :mod:`.args`: the base of every args model.
- :mod:`.children`: options for a component's children, and name outputs.
- :mod:`.metadata`: the recommended labels and object metadata.
- :mod:`.apis`: other projects' API versions, annotations and naming contracts.
- :mod:`.values`: small validated value types (host names, durations, CIDRs, Secret keys, ...).
- :mod:`.resources`: container requests and limits, and topology spread.
- :mod:`.policies`: NetworkPolicy building blocks shared by namespaces and platform services.
- :mod:`.prometheus`: Prometheus Operator objects (monitors, rule groups).
"""

__all__: list[str] = []
