"""Kedro project settings."""

from statarb.config.registry import ValidateParametersHook
from statarb.config_loader import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS
from statarb.context import ProjectContext
from statarb.ingest.staging import CleanStagingHook
from statarb.storage.access import StorageAccessHook
from statarb.storage.alpha_state import AlphaOutputsHook
from statarb.storage.write_batch import AbortWriteBatchesHook

__all__ = ["CONFIG_LOADER_ARGS", "CONFIG_LOADER_CLASS", "CONTEXT_CLASS", "HOOKS"]

CONTEXT_CLASS = ProjectContext  # credentials through the project resolver (storage/resolver.py)

HOOKS = (
    ValidateParametersHook(),
    StorageAccessHook(),
    AbortWriteBatchesHook(),
    CleanStagingHook(),
    AlphaOutputsHook(),
)
