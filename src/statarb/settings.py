"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # environments are overlays: conf/<env>/parameters*.yml states only what differs from base
    "merge_strategy": {"parameters": "soft"},
}

from statarb.config.registry import ValidateParametersHook  # noqa: E402
from statarb.storage.write_batch import AbortWriteBatchesHook  # noqa: E402

HOOKS = (ValidateParametersHook(), AbortWriteBatchesHook())
