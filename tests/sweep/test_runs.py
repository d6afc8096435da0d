"""Ranking, trial statistics and the cost-sensitivity summary of a sweep's metrics table."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from statarb.sweep.runs import cost_sensitivity, rank, trial_stats


def _metrics() -> pl.DataFrame:
    # two parameter sets x three cost scales; set b has a NaN Sharpe at scale 1 in one copy
    rows = []
    for entry, sharpe in (
        (1.5, [3.0, 2.0, 1.0]),
        (2.0, [2.5, 2.0, 0.5]),
        (2.5, [1.0, math.nan, 0.0]),
    ):
        for scale, s in zip((0.0, 1.0, 2.0), sharpe, strict=True):
            rows.append({"entry_z": entry, "exit_z": 0.5, "stop_z": 4.0, "max_holding_bars": 0,
                         "kalman_delta": None, "ou_window_bars": None, "cost_scale": scale,
                         "sharpe_annual": s, "pnl": 100.0 * s if math.isfinite(s) else -5.0})  # fmt: skip
    return pl.DataFrame(
        rows, schema_overrides={"kalman_delta": pl.Float64, "ou_window_bars": pl.Int64}
    )


def test_rank_at_the_rank_scale_ties_in_grid_order_nan_last() -> None:
    r = rank(_metrics(), 1.0)
    at1 = r.filter(pl.col("cost_scale") == 1.0)
    # entry 1.5 and 2.0 tie at Sharpe 2.0: grid order decides; the NaN is last
    assert at1["rank"].to_list() == [1, 2, 3]
    assert r.filter(pl.col("cost_scale") != 1.0)["rank"].null_count() == 6


def test_trial_stats_count_all_trials_and_the_variance_of_finite_sharpes() -> None:
    st = trial_stats(_metrics(), 1.0, ppy=98280.0)
    assert st["n_trials"] == 3 and st["n_finite"] == 2
    assert st["sharpe_variance"] == pytest.approx(np.var([2.0, 2.0], ddof=1))
    st0 = trial_stats(_metrics(), 0.0, ppy=98280.0)
    assert st0["sharpe_variance"] == pytest.approx(np.var([3.0, 2.5, 1.0], ddof=1))
    assert st0["sharpe_variance_per_period"] == pytest.approx(st0["sharpe_variance"] / 98280.0)


def test_cost_sensitivity_follows_the_best_configuration_over_the_scales() -> None:
    cs = cost_sensitivity(rank(_metrics(), 1.0), 1.0)
    assert cs["scales"] == [0.0, 1.0, 2.0]
    assert cs["best"]["config"]["entry_z"] == 1.5
    assert cs["best"]["sharpe"] == [3.0, 2.0, 1.0]
    assert cs["best"]["pnl"] == [300.0, 200.0, 100.0]
    assert cs["median_sharpe"] == [2.5, 2.0, 0.5]  # the NaN is left out of the median
