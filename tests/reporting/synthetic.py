"""Synthetic run builder shared by the reporting tests (a stored-run look-alike)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl


def minute_grid(
    days: int = 3, bars_per_day: int = 390, start: datetime | None = None
) -> list[datetime]:
    """UTC bar open times of ``days`` regular sessions (14:30 UTC open), skipping weekends."""
    start = start or datetime(2024, 3, 4, 14, 30, tzinfo=UTC)  # a Monday
    out, d = [], start
    while len(out) < days * bars_per_day:
        if d.weekday() < 5:
            out.extend(d + timedelta(minutes=i) for i in range(bars_per_day))
        d += timedelta(days=1)
    return out


def make_synthetic_run() -> dict[str, pl.DataFrame]:
    """A two-pair run with known fills and an equity curve, plus a 4-symbol universe."""
    rng = np.random.default_rng(7)
    ts = minute_grid(days=3, bars_per_day=60)
    n = len(ts)
    syms = ["AAA", "BBB", "CCC", "DDD"]
    mkt = rng.normal(0.0, 1e-3, n)
    closes = {s: 100 * np.cumprod(1 + 0.8 * mkt + rng.normal(0, 5e-4, n)) for s in syms}
    bars = pl.concat(
        pl.DataFrame(
            {
                "symbol": s,
                "datetime": ts,
                "open": closes[s],
                "high": closes[s],
                "low": closes[s],
                "close": closes[s],
                "volume": 1000.0,
                "adj_factor": 1.0,
                "outlier_flag": np.zeros(n, dtype=np.int8),
            }
        )
        for s in syms
    ).with_columns(pl.col("datetime").cast(pl.Datetime("us", "UTC")))
    strat = 0.3 * mkt + rng.normal(2e-5, 3e-4, n)
    strat[0] = 0.0
    equity = pl.DataFrame(
        {
            "run_id": "bt_test_001",
            "ts": ts,
            "equity": 1e6 * np.cumprod(1 + strat),
            "cash": 1e6,
            "positions_value": np.where(np.arange(n) % 3 == 0, 0.0, 2e5),
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("us", "UTC")))
    t = ts
    signals = pl.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "run_id": "bt_test_001",
            "signal_ts": [t[5], t[20], t[30], t[50], t[70], t[100]],
            "direction": ["long_spread", "flat", "short_spread", "flat", "long_spread", "flat"],
            "symbol_a": ["AAA", "AAA", "CCC", "CCC", "AAA", "AAA"],
            "symbol_b": ["BBB", "BBB", "DDD", "DDD", "BBB", "BBB"],
            "hedge_ratio": 1.0,
            "size": 100.0,
            "metadata_json": '{"z": 2.1}',
        }
    ).with_columns(pl.col("signal_ts").cast(pl.Datetime("us", "UTC")))
    # trip 1 AAA_BBB: buy 100 AAA @10, sell 50 BBB @20; exit sell 100 AAA @11, buy 50 BBB @19
    #   cash = -1000 + 1000 + 1100 - 950 = 150; commissions 4 * 1 = 4 -> pnl 146 (win)
    # trip 2 CCC_DDD: sell 10 CCC @50, buy 10 DDD @40; exit buy 10 CCC @52, sell 10 DDD @40
    #   cash = 500 - 400 - 520 + 400 = -20; commissions 4 * 0.5 = 2 -> pnl -22 (loss)
    # trip 3 AAA_BBB: buy 100 AAA @10 and sell 100 BBB @20 (one leg exit only): open at end
    fills = pl.DataFrame(
        {
            "id": list(range(1, 11)),
            "run_id": "bt_test_001",
            "signal_id": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
            "fill_ts": [t[6], t[6], t[21], t[21], t[31], t[31], t[51], t[51], t[71], t[71]],
            "symbol": ["AAA", "BBB", "AAA", "BBB", "CCC", "DDD", "CCC", "DDD", "AAA", "BBB"],
            "side": ["buy", "sell", "sell", "buy", "sell", "buy", "buy", "sell", "buy", "sell"],
            "quantity": [100.0, 50, 100, 50, 10, 10, 10, 10, 100, 100],
            "price": [10.0, 20, 11, 19, 50, 40, 52, 40, 10, 20],
            "commission": [1.0, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 1, 1],
            "slippage_bps": [2.0, 2, 2, 2, 0, 0, 0, 0, 1, 1],
        }
    ).with_columns(pl.col("fill_ts").cast(pl.Datetime("us", "UTC")))
    runs = pl.DataFrame(
        {
            "run_id": ["bt_test_001"],
            "strategy_name": ["ou_bands"],
            "pair_id": [None],
            "start_ts": [ts[0]],
            "end_ts": [ts[-1]],
            "config_json": ['{"capital": 1000000}'],
            "created_at": [ts[-1]],
        },
        schema_overrides={"pair_id": pl.String},
    ).with_columns(pl.col("start_ts", "end_ts", "created_at").cast(pl.Datetime("us", "UTC")))
    return {
        "runs": runs,
        "equity": equity,
        "signals": signals,
        "fills": fills,
        "bars_adjusted": bars,
        "strat": strat,
        "mkt": mkt,
    }
