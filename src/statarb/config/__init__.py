"""Typed configuration: strict section models and the registry validated when a run starts."""

from statarb.config.strict import ConfigError, StrictModel

__all__ = ["ConfigError", "StrictModel"]
