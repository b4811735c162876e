"""Composition: how one environment is assembled from the components, driven by stack config."""

from __future__ import annotations

from .config import EnvironmentConfig, StackConfig, load_stack_config, parse_stack_config
from .environment import build_environment
from .errors import ConfigError

__all__ = [
    "ConfigError",
    "EnvironmentConfig",
    "StackConfig",
    "build_environment",
    "load_stack_config",
    "parse_stack_config",
]
