"""Test helpers: the shipped parameters (the only place defaults live) with dotted overrides."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

CONF = Path(__file__).resolve().parents[1] / "conf" / "base"


def base_params(section: str) -> dict[str, Any]:
    """A deep copy of ``section`` of ``conf/base/parameters_<section>.yml`` (or of the
    project-wide ``parameters.yml``)."""
    path = CONF / f"parameters_{section}.yml"
    doc = yaml.safe_load((path if path.exists() else CONF / "parameters.yml").read_text())
    return copy.deepcopy(doc[section])


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
