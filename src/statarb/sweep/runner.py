"""Evaluate every point of a sweep in one pass of :func:`statarb.kernels.sweep_loop.sweep_loop`.

The kernel writes each configuration's equity at every bar into a ``(T, C)`` buffer; the metrics
are then computed with the reporting functions (:func:`statarb.reporting.metrics.return_metrics`'s
definitions: bar returns, Sharpe ``mean / std(ddof=1) * sqrt(P)``, ...) on that curve, so a
configuration's row equals the metrics of one engine run with its configuration (tested). When
``T x C x 8`` bytes exceeds ``max_buffer_bytes`` the configurations are split into blocks, each
block one pass over the bars (the per-configuration results do not depend on the blocking).

Besides the whole-run metrics, :func:`run_sweep` returns the Sharpe of every configuration on
each window of a list of bar ranges (the walk-forward formation windows), computed from the same
curve: the returns of bars ``lo..hi-1`` (the first against bar ``lo - 1``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine_ref import pair_notional
from statarb.kernels import sweep_loop as k
from statarb.reporting.metrics import (
    annual_return,
    infer_bar_interval,
    max_drawdown,
    periods_per_year,
    sharpe_ratio,
    sortino_ratio,
    total_return,
)
from statarb.sweep.grid import SweepPoint, config_for
from statarb.sweep.lookbacks import SignalStacks

METRIC_COLUMNS = (
    "sharpe_annual", "sortino_annual", "max_drawdown", "total_return", "annual_return",
    "annual_volatility", "pnl", "final_equity", "num_signals", "num_fills", "num_trades",
    "commission", "slippage_cost",
)  # fmt: skip


@dataclass
class SweepOutcome:
    """Per-configuration metrics (one row per point, in order) and window Sharpes ``(W, C)``."""

    metrics: pl.DataFrame
    window_sharpe: np.ndarray
    periods_per_year: float


def grid_record(points: list[SweepPoint], base: BacktestConfig, stacks: SignalStacks):
    """The kernel's per-configuration arrays and shared record for ``points``."""
    cfgs = [config_for(base, p) for p in points]
    layers = np.array([stacks.layers(p, base.signal_source) for p in points], np.int64)
    f8 = np.float64
    grid = k.SweepGridNb(
        np.array([c.entry_z for c in cfgs], f8), np.array([c.exit_z for c in cfgs], f8),
        np.array([c.stop_z for c in cfgs], f8),
        np.array([c.max_holding_bars for c in cfgs], np.int64),
        np.ascontiguousarray(layers[:, 0]), np.ascontiguousarray(layers[:, 1]),
        np.array([c.costs.per_share for c in cfgs], f8),
        np.array([c.costs.min_per_order for c in cfgs], f8),
        np.array([c.costs.fee_bps for c in cfgs], f8),
        np.array([c.costs.fixed_bps for c in cfgs], f8),
        np.array([c.costs.impact_k_bps for c in cfgs], f8),
    )  # fmt: skip
    c = base.costs
    rates_a, rates_b = c.leg_borrow_rates(stacks.grid.symbols_a, stacks.grid.symbols_b)
    shared = k.SharedNb(
        float(base.max_gross_leverage), int(base.latency_bars), bool(base.integer_shares),
        float(c.max_participation), c.remainder == "carry", float(c.impact_alpha),
        float(c.day_count), float(c.cash_rate), float(c.financing_rate), rates_a, rates_b,
    )  # fmt: skip
    return grid, shared


def bars_record(stacks: SignalStacks) -> k.SweepBarsNb:
    return k.SweepBarsNb(
        stacks.open_a, stacks.close_a, stacks.vol_a, stacks.open_b, stacks.close_b, stacks.vol_b,
        stacks.beta, stacks.z, stacks.tradable, stacks.accrual(),
    )  # fmt: skip


def sweep_equity(
    points: list[SweepPoint], base: BacktestConfig, stacks: SignalStacks
) -> tuple[np.ndarray, np.ndarray]:
    """``(equity (T, C), counters (C, N_COUNTERS))`` of ``points`` in one pass."""
    grid, shared = grid_record(points, base, stacks)
    T, P = stacks.open_a.shape
    C = len(points)
    st = k.new_sweep_state(C, P, base.capital)
    eq = np.empty((T, C))
    counters = np.zeros((C, k.N_COUNTERS))
    notional = pair_notional(base, stacks.grid.pair_ids)
    k.sweep_loop(bars_record(stacks), notional, grid, shared, st, eq, counters, 0)
    return eq, counters


def curve_metrics(eq: np.ndarray, ppy: float) -> dict[str, float]:
    """The return metrics of one equity curve (definitions of :mod:`statarb.reporting.metrics`)."""
    r = eq[1:] / eq[:-1] - 1.0
    vol = float(r.std(ddof=1) * math.sqrt(ppy)) if r.size >= 2 else math.nan
    return {
        "sharpe_annual": sharpe_ratio(r, ppy),
        "sortino_annual": sortino_ratio(r, ppy),
        "max_drawdown": max_drawdown(eq),
        "total_return": total_return(eq),
        "annual_return": annual_return(eq, ppy),
        "annual_volatility": vol,
    }


def window_sharpe(eq: np.ndarray, windows: list[tuple[int, int]], ppy: float) -> np.ndarray:
    """Sharpe of each column of ``eq`` on each bar range ``[lo, hi)`` -> ``(W, C)``."""
    out = np.full((len(windows), eq.shape[1]), np.nan)
    for w, (lo, hi) in enumerate(windows):
        a = max(lo, 1)
        seg = eq[a - 1 : hi]
        r = seg[1:] / seg[:-1] - 1.0
        for c in range(eq.shape[1]):
            out[w, c] = sharpe_ratio(r[:, c], ppy)
    return out


def run_sweep(
    points: list[SweepPoint],
    base: BacktestConfig,
    stacks: SignalStacks,
    windows: list[tuple[int, int]] | None = None,
    max_buffer_bytes: int = 256 << 20,
) -> SweepOutcome:
    """Metrics of every point (blocks of configurations sized to ``max_buffer_bytes``)."""
    T = stacks.open_a.shape[0]
    ts = stacks.grid.timestamps()
    interval = infer_bar_interval(ts) if T >= 2 else timedelta(minutes=base.bar_interval_minutes)
    ppy = periods_per_year(interval)
    block = max(1, int(max_buffer_bytes) // max(1, T * 8))
    rows: list[dict] = []
    wins = windows or []
    wsharpe = np.full((len(wins), len(points)), np.nan)
    for lo in range(0, len(points), block):
        chunk = points[lo : lo + block]
        eq, counters = sweep_equity(chunk, base, stacks)
        wsharpe[:, lo : lo + len(chunk)] = window_sharpe(eq, wins, ppy)
        for j in range(len(chunk)):
            e = eq[:, j]
            m = curve_metrics(e, ppy)
            m.update(
                pnl=float(e[-1] - base.capital),
                final_equity=float(e[-1]),
                num_signals=int(counters[j, k.K_SIGNALS]),
                num_fills=int(counters[j, k.K_FILLS]),
                num_trades=int(counters[j, k.K_ENTRIES]),
                commission=float(counters[j, k.K_COMMISSION]),
                slippage_cost=float(counters[j, k.K_SLIPPAGE]),
            )
            rows.append(m)
    points_frame = pl.DataFrame([p.to_dict() for p in points]).with_columns(
        pl.col("kalman_delta").cast(pl.Float64), pl.col("ou_window_bars").cast(pl.Int64)
    )
    metrics = pl.concat([points_frame, pl.DataFrame(rows).select(METRIC_COLUMNS)], how="horizontal")
    return SweepOutcome(metrics, wsharpe, ppy)
