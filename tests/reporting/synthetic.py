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


def make_many_pair_run(
    n_pairs: int = 60, n_bars: int = 20_000, seed: int = 11
) -> dict[str, object]:
    """A run with ``n_pairs`` traded pairs over ``n_bars`` one-minute bars (390 a session).

    Pair ``i`` (``Pnnn_Qnnn``) trades ``1 + i % 4`` round trips; in trip ``j`` it buys 100 A @ 10
    and sells 100 B @ 20, then sells 100 A @ ``10 + d`` and buys 100 B @ 20, so that trip's PnL is
    ``100 d - 4 * 0.25`` (four fills at 0.25 commission). Every pair has an AR(1) spread and z on
    every bar and one OU parameter row per session. Keys: ``runs, equity, signals, fills,
    bars_adjusted`` (4 symbols, for the attribution) and ``spreads``/``ou`` (pair_id -> frame).
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    ts = minute_grid(days=-(-n_bars // 390), bars_per_day=390)[:n_bars]
    tcol = pl.Series("ts", ts).cast(pl.Datetime("us", "UTC"))
    strat = rng.normal(1e-6, 2e-4, n_bars)
    strat[0] = 0.0
    equity = pl.DataFrame(
        {
            "run_id": "bt_many_001",
            "ts": tcol,
            "equity": 1e6 * np.cumprod(1 + strat),
            "cash": 1e6,
            "positions_value": 1e5,
        }
    )
    mkt = rng.normal(0.0, 1e-3, n_bars)
    bars = pl.concat(
        pl.DataFrame(
            {
                "symbol": s,
                "datetime": tcol,
                "open": c,
                "high": c,
                "low": c,
                "close": c,
                "volume": 1000.0,
                "adj_factor": 1.0,
                "outlier_flag": np.zeros(n_bars, dtype=np.int8),
            }
        )
        for s, c in (
            (s, 100 * np.cumprod(1 + 0.8 * mkt + rng.normal(0, 5e-4, n_bars)))
            for s in ("AAA", "BBB", "CCC", "DDD")
        )
    )
    sig_rows: list[dict] = []
    fill_rows: list[dict] = []
    spreads: dict[str, pl.DataFrame] = {}
    ou: dict[str, pl.DataFrame] = {}
    sessions = list(range(0, n_bars, 390))
    for i in range(n_pairs):
        a, b = f"P{i:03d}", f"Q{i:03d}"
        pair = f"{a}_{b}"
        x = lfilter([1.0], [1.0, -0.97], rng.normal(0, 0.05, n_bars))
        spreads[pair] = pl.DataFrame(
            {"pair_id": pair, "datetime": tcol, "spread": x, "beta": 1.0, "z_score": x / 0.2}
        )
        ou[pair] = pl.DataFrame(
            {
                "pair_id": pair,
                "window_end": tcol.gather(sessions),
                "theta": 0.03,
                "mu": 0.0,
                "sigma": 0.05,
                "entry_upper": 0.4,
                "entry_lower": -0.4,
                "exit_threshold": 0.0,
            }
        )
        n_trips = 1 + i % 4
        starts = np.sort(rng.choice(np.arange(10, n_bars - 200, 150), n_trips, replace=False))
        for k in starts:
            d = float(rng.normal(0, 1))
            for leg, (kk, direction, pa) in enumerate(
                ((k, "long_spread", 10.0), (k + 100, "flat", 10.0 + d))
            ):
                sid = len(sig_rows) + 1
                sig_rows.append(
                    {
                        "id": sid,
                        "signal_ts": ts[kk],
                        "direction": direction,
                        "symbol_a": a,
                        "symbol_b": b,
                    }
                )
                for sym, side, px in (
                    (a, "buy" if leg == 0 else "sell", pa),
                    (b, "sell" if leg == 0 else "buy", 20.0),
                ):
                    fill_rows.append(
                        {
                            "id": len(fill_rows) + 1,
                            "signal_id": sid,
                            "fill_ts": ts[kk + 1],
                            "symbol": sym,
                            "side": side,
                            "quantity": 100.0,
                            "price": px,
                            "commission": 0.25,
                            "slippage_bps": 1.0,
                        }
                    )
    utc = pl.Datetime("us", "UTC")
    signals = (
        pl.DataFrame(sig_rows)
        .with_columns(
            run_id=pl.lit("bt_many_001"),
            hedge_ratio=pl.lit(1.0),
            size=pl.lit(100.0),
            metadata_json=pl.lit("{}"),
            signal_ts=pl.col("signal_ts").cast(utc),
        )
        .sort("signal_ts", "id")
    )
    fills = (
        pl.DataFrame(fill_rows)
        .with_columns(run_id=pl.lit("bt_many_001"), fill_ts=pl.col("fill_ts").cast(utc))
        .sort("fill_ts", "id")
    )
    runs = pl.DataFrame(
        {
            "run_id": ["bt_many_001"],
            "strategy_name": ["ou_bands"],
            "pair_id": [None],
            "start_ts": [ts[0]],
            "end_ts": [ts[-1]],
            "config_json": ['{"capital": 1000000}'],
            "created_at": [ts[-1]],
        },
        schema_overrides={"pair_id": pl.String},
    ).with_columns(pl.col("start_ts", "end_ts", "created_at").cast(utc))
    return {
        "runs": runs,
        "equity": equity,
        "signals": signals,
        "fills": fills,
        "bars_adjusted": bars,
        "spreads": spreads,
        "ou": ou,
    }
