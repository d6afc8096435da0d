"""Test helpers: the shipped parameters (the only place defaults live) with dotted overrides."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

CONF = Path(__file__).resolve().parents[1] / "conf" / "base"


def loader(env: str = "base", conf: Path | None = None, **patterns: list[str]):
    """The project's Kedro config loader on ``conf`` (default: this repository's ``conf``) for
    ``env`` (``"base"``: base only), as ``kedro run --env`` builds it; ``patterns`` adds
    config patterns (``one=["catalog_alpha.yml"]``)."""
    from kedro.config import OmegaConfigLoader

    from statarb.config_loader import CONFIG_LOADER_ARGS

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    return OmegaConfigLoader(
        str(conf or CONF.parent), env=env, default_run_env=env, config_patterns=patterns, **args
    )


@functools.cache
def _shipped(env: str, key: str) -> dict[str, Any]:
    return loader(env)[key]


def shipped(key: str, env: str = "base") -> dict[str, Any]:
    """A deep copy of the resolved ``parameters`` / ``catalog`` / ``globals`` of ``env``
    (globals interpolated, environments merged over base)."""
    return copy.deepcopy(_shipped(env, key))


@functools.cache
def _file(name: str) -> dict[str, Any]:
    return loader("base", one=[name])["one"]


def conf_file(name: str) -> dict[str, Any]:
    """One file of ``conf/base`` (e.g. ``catalog_alpha.yml``), resolved (``${globals:...}``
    interpolated); keys starting with ``_`` (YAML anchors) are dropped, as Kedro does."""
    return copy.deepcopy(_file(name))


def base_params(section: str) -> dict[str, Any]:
    """A deep copy of ``section`` of the shipped base parameters (``parameters_<section>.yml``
    or the project-wide ``parameters.yml``), resolved as ``kedro run`` resolves it."""
    return shipped("parameters")[section]


def with_overrides(params: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``params`` (copied) with ``{"a.b.c": value}`` overrides applied; the path must exist."""
    out = copy.deepcopy(params)
    for dotted, value in overrides.items():
        node = out
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        if leaf not in node:
            raise KeyError(f"override {dotted!r}: no such key in the shipped parameters")
        node[leaf] = value
    return out


def alpha_config(**overrides: Any):
    """``AlphaConfig`` of the shipped parameters; keyword ``screening__window_bars=100`` sets
    ``screening.window_bars``."""
    from statarb.alpha.config import AlphaConfig

    raw = with_overrides(
        base_params("alpha"), {k.replace("__", "."): v for k, v in overrides.items()}
    )
    return AlphaConfig.from_params(raw, "alpha")
