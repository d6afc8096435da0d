"""Helpers shared by the backtest tests."""

from __future__ import annotations

import copy

import numpy as np

from statarb.backtest.config import BacktestConfig, CostModel
from statarb.backtest.inputs import BacktestInputs

ARRAYS = ("open_a", "close_a", "vol_a", "open_b", "close_b", "vol_b", "beta", "z", "spread")


def costs(**kw) -> CostModel:
    base = dict(
        per_share=0.005,
        min_per_order=1.0,
        fee_bps=0.3,
        fixed_bps=1.0,
        impact_k_bps=8.0,
        impact_alpha=0.5,
        max_participation=0.0,
        remainder="carry",
    )
    base.update(kw)
    return CostModel(**base)


def config(**kw) -> BacktestConfig:
    base = dict(entry_z=2.0, exit_z=0.5, stop_z=4.0, max_holding_bars=120, capital=1_000_000.0)
    base.update(kw)
    if "costs" not in base:
        base["costs"] = costs()
    return BacktestConfig(**base)


def clone(inputs: BacktestInputs) -> BacktestInputs:
    return copy.deepcopy(inputs)


def perturb_after(inputs: BacktestInputs, t: int, seed: int) -> BacktestInputs:
    """Copy of ``inputs`` with every series randomly changed on bars ``> t``."""
    rng = np.random.default_rng(seed)
    out = clone(inputs)
    for name in ARRAYS:
        a = getattr(out, name)
        tail = a[t + 1 :]
        scale = 3.0 if name == "z" else 0.05
        if name.startswith("vol"):
            a[t + 1 :] = tail * rng.uniform(0.1, 3.0, tail.shape)
        else:
            a[t + 1 :] = tail * (1 + scale * rng.standard_normal(tail.shape))
            if name == "z":
                a[t + 1 :] = rng.normal(0.0, 3.0, tail.shape)
    out.tradable[t + 1 :] = rng.random(out.tradable[t + 1 :].shape) < 0.5
    return out
