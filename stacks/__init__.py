"""Composition: how one environment is assembled from the components, driven by stack config.

A one-way pipeline: :mod:`~stacks.model` (what each key holds), :mod:`~stacks.checks` and
:mod:`~stacks.secret_checks` (problems across the config, never raised), :mod:`~stacks.loader`
(raw config, then the model, then the checks, then one error with every problem), and
:mod:`~stacks.environment` (the components, composed).
"""

from __future__ import annotations

from .environment import build_environment
from .errors import ConfigError
from .loader import EnvironmentConfig, load_stack_config, parse_stack_config
from .model import StackConfig

__all__ = [
    "ConfigError",
    "EnvironmentConfig",
    "StackConfig",
    "build_environment",
    "load_stack_config",
    "parse_stack_config",
]
