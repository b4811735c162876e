"""The base every component's args derive from: frozen, strict, camelCase on the wire.

Args are pydantic models rather than dataclasses so that a stack's YAML config validates straight
into them: one set of rules, one place, and error locations that are the config key paths.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["Args"]


class Args(BaseModel):
    """Frozen, keyword-only, unknown keys rejected; camelCase aliases, snake_case attribute names."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        str_strip_whitespace=False,
        validate_default=True,
        # Field docstrings become the fields' descriptions: one source for code, docs and schema.
        use_attribute_docstrings=True,
    )
