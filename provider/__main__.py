"""The stackyard multi-language component provider: ``pulumi package add <repo>/provider@<tag>``.

It hosts the published facade components (``stackyard_components.provider``); their schema is
inferred from the facade's type annotations.
"""

from __future__ import annotations

from pulumi.provider.experimental import component_provider_host
from stackyard_components import __version__
from stackyard_components.provider import PACKAGE_NAME, PUBLISHED

if __name__ == "__main__":
    component_provider_host(components=PUBLISHED, name=PACKAGE_NAME, version=__version__)
