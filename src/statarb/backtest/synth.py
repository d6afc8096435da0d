"""Synthetic backtest inputs (cointegrated pairs with an OU spread) for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from statarb.backtest.inputs import BacktestInputs
from statarb.conventions import pair_id


def synthetic_inputs(
    n_bars: int,
    n_pairs: int = 1,
    seed: int = 0,
    ou_phi: float = 0.98,
    missing_frac: float = 0.0,
    gate_off_frac: float = 0.0,
    volume_mean: float = 20_000.0,
) -> BacktestInputs:
    """Build ``(n_bars, n_pairs)`` inputs: ``B`` a log random walk, ``A = 10 + beta * B + s`` with
    ``s`` an AR(1)/OU spread of coefficient ``ou_phi``, ``z = s / sd(s)`` (stationary sd),
    opens near the previous close, log-normal volumes; ``missing_frac`` of bars per leg are NaN and
    ``gate_off_frac`` of bars (in blocks of 50) are not tradable. One-minute bars from 2024-01-02.
    """
    rng = np.random.default_rng(seed)
    T, P = n_bars, n_pairs
    shape = (T, P)
    b_close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 4e-4, shape), axis=0))
    beta = 1.0 + 0.5 * rng.random(P) + np.cumsum(rng.normal(0.0, 1e-4, shape), axis=0)
    sd_eps = 0.05
    eps = rng.normal(0.0, sd_eps, shape)
    s = np.empty(shape)
    s[0] = eps[0]
    for t in range(1, T):
        s[t] = ou_phi * s[t - 1] + eps[t]
    a_close = 10.0 + beta * b_close + s
    a_open = np.vstack([a_close[:1], a_close[:-1]]) + rng.normal(0.0, 0.01, shape)
    b_open = np.vstack([b_close[:1], b_close[:-1]]) + rng.normal(0.0, 0.01, shape)
    vol_a = rng.lognormal(np.log(volume_mean), 0.5, shape)
    vol_b = rng.lognormal(np.log(volume_mean), 0.5, shape)
    z = s / (sd_eps / np.sqrt(1.0 - ou_phi**2))
    for arrs in ((a_open, a_close, vol_a), (b_open, b_close, vol_b)):
        if missing_frac > 0:
            mask = rng.random(shape) < missing_frac
            for x in arrs:
                x[mask] = np.nan
    tradable = np.ones(shape, dtype=np.bool_)
    if gate_off_frac > 0:
        blocks = rng.random((T // 50 + 1, P)) < gate_off_frac
        tradable = ~np.repeat(blocks, 50, axis=0)[:T]
    t0 = np.datetime64("2024-01-02T14:30:00", "us").astype(np.int64)
    ts = t0 + np.arange(T, dtype=np.int64) * 60_000_000
    names = [(f"A{j:03d}", f"B{j:03d}") for j in range(P)]
    return BacktestInputs(
        ts=ts,
        pair_ids=[pair_id(a, b) for a, b in names],
        symbols_a=[a for a, _ in names],
        symbols_b=[b for _, b in names],
        open_a=np.ascontiguousarray(a_open),
        close_a=np.ascontiguousarray(a_close),
        vol_a=np.ascontiguousarray(vol_a),
        open_b=np.ascontiguousarray(b_open),
        close_b=np.ascontiguousarray(b_close),
        vol_b=np.ascontiguousarray(vol_b),
        beta=np.ascontiguousarray(beta),
        z=np.ascontiguousarray(z),
        spread=np.ascontiguousarray(s),
        tradable=np.ascontiguousarray(tradable),
    )


def inputs_to_frames(inputs: BacktestInputs) -> tuple:
    """Long Polars frames ``(bars_adjusted, spread_series)`` holding the same data as ``inputs``
    (missing bars are left out), e.g. to drive :func:`statarb.backtest.inputs.prepare_inputs`."""
    import polars as pl

    ts = inputs.timestamps()
    bars, spreads = [], []
    for j, pid in enumerate(inputs.pair_ids):
        for sym, o, c, v in (
            (inputs.symbols_a[j], inputs.open_a, inputs.close_a, inputs.vol_a),
            (inputs.symbols_b[j], inputs.open_b, inputs.close_b, inputs.vol_b),
        ):
            f = pl.DataFrame(
                {
                    "symbol": sym,
                    "datetime": ts,
                    "open": o[:, j],
                    "high": np.fmax(o[:, j], c[:, j]),
                    "low": np.fmin(o[:, j], c[:, j]),
                    "close": c[:, j],
                    "volume": v[:, j],
                    "adj_factor": 1.0,
                    "outlier_flag": pl.Series(np.zeros(len(ts), dtype=np.int8)),
                }
            )
            bars.append(f.filter(pl.col("open").is_not_nan() & pl.col("close").is_not_nan()))
        spreads.append(
            pl.DataFrame(
                {
                    "pair_id": pid,
                    "datetime": ts,
                    "spread": inputs.spread[:, j],
                    "beta": inputs.beta[:, j],
                    "z_score": inputs.z[:, j],
                }
            )
        )
    return pl.concat(bars).unique(["symbol", "datetime"], keep="first").sort(
        "symbol", "datetime"
    ), pl.concat(spreads)
