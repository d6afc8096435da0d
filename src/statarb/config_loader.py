"""The project's Kedro config loader (class and arguments), shared by ``settings.py`` and the
command-line resolver (:mod:`statarb.storage.resolver`).

Kept apart from ``settings.py`` so that a ``statarb`` command can read the project configuration
exactly as ``kedro run`` does without importing ``kedro.framework`` (whose import configures
Kedro's logging and prints to the terminal). Change loader arguments here, not in settings.
"""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # environments are overlays: conf/<env>/parameters*.yml states only what differs from base
    "merge_strategy": {"parameters": "soft"},
}


def resolved_parameters(conf_source: str, env: str = "base") -> dict:
    """The parameters of ``env`` as ``kedro run --env`` resolves them (globals interpolated,
    the environment merged over base): for scripts that read the shipped configuration outside a
    Kedro session (``benchmarks/``)."""
    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    return CONFIG_LOADER_CLASS(conf_source, env=env, default_run_env=env, **args)["parameters"]
