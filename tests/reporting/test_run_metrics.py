"""The assembled ``backtest_metrics`` row: exact columns, strict JSON, edge cases."""

from __future__ import annotations

import json
import math

import empyrical as ep
import polars as pl
import pytest

from statarb.reporting.metrics import equity_returns
from statarb.reporting.run_metrics import METRICS_COLUMNS, compute_run_metrics, metrics_frame


def test_row_matches_references(synthetic_run):
    res = compute_run_metrics(
        "bt_test_001",
        synthetic_run["equity"],
        synthetic_run["fills"],
        synthetic_run["signals"],
        synthetic_run["bars_adjusted"],
    )
    row = res["row"]
    r = equity_returns(synthetic_run["equity"])["ret"].to_numpy()
    assert row["sortino_annual"] == pytest.approx(
        ep.sortino_ratio(r, annualization=98280), rel=1e-9
    )
    assert row["calmar"] == pytest.approx(ep.calmar_ratio(r, annualization=98280), rel=1e-9)
    assert row["total_return"] == pytest.approx(ep.cum_returns_final(r), rel=1e-9)
    full = json.loads(row["metrics_json"])  # strict JSON: NaN would have raised
    assert full["open_trades"] == 1 and full["per_pair"]["CCC_DDD"]["pnl"] == pytest.approx(-22)
    frame = metrics_frame([row])
    assert tuple(frame.columns) == METRICS_COLUMNS
    assert frame.schema["computed_at"] == pl.Datetime("us", "UTC")


def test_run_without_fills_or_universe(synthetic_run):
    res = compute_run_metrics("bt_flat", synthetic_run["equity"], synthetic_run["fills"].clear())
    row = res["row"]
    assert row["num_trades"] == 0 and row["win_rate"] is None
    assert row["alpha"] is None and row["beta"] is None
    assert math.isfinite(row["sharpe_annual"])
    assert json.loads(row["metrics_json"])["costs"]["commissions"] == 0.0


def test_too_short_equity_is_named(synthetic_run):
    with pytest.raises(ValueError, match="bt_x: backtest_equity has 1 row"):
        compute_run_metrics("bt_x", synthetic_run["equity"].head(1), synthetic_run["fills"])
