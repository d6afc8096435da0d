"""Walk-forward out-of-sample evaluation of a sweep (Pardo 2008, *The Evaluation and Optimization
of Trading Strategies*, ch. 11; López de Prado 2018, *Advances in Financial Machine Learning*,
§11.3: the walk-forward backtest).

Sessions are the exchange-local dates of the bar grid. With ``F`` formation and ``K`` trading
sessions, window ``w`` forms on sessions ``[i - F, i)`` and trades sessions ``[i, i + K)``,
``i = F, F + K, ...``:

1. **formation** - the Sharpe of every candidate configuration (those at ``rank_cost_scale``) on
   the formation bars, from the sweep's one-pass equity (a causal curve: its value at bar ``t``
   uses data up to ``t`` only). The best finite Sharpe is chosen (ties: first in grid order);
2. **trading** - the chosen configuration is run by the backtest engine on the trading bars only,
   starting flat with the base capital (signals and gating are the causal full-history series,
   so the filters are warm);
3. **stitching** - each trading window's equity is scaled to start at the previous window's last
   value, so the out-of-sample curve compounds window returns.

Simplifications (documented in docs/research.md): a position still open at the end of a trading
window is valued at the last close and not charged an exit (the next window starts flat); a window
with no finite in-sample Sharpe stays flat. No look-ahead: everything up to bar ``t`` depends on
data up to ``t`` only (perturbation test in ``tests/sweep/test_walk_forward.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from statarb.backtest.config import BacktestConfig
from statarb.backtest.engine import run_numba
from statarb.backtest.inputs import BacktestInputs
from statarb.sweep.grid import SweepPoint, config_for
from statarb.sweep.lookbacks import SignalStacks
from statarb.sweep.runner import curve_metrics, sweep_equity


@dataclass(frozen=True)
class Window:
    """Bar ranges ``[lo, hi)`` of one walk-forward step."""

    formation: tuple[int, int]
    trading: tuple[int, int]


@dataclass
class WalkForwardResult:
    """Stitched out-of-sample equity (``ts, equity, window, point``), one summary row per window,
    and the out-of-sample metrics next to the in-sample best's."""

    equity: pl.DataFrame
    windows: list[dict[str, Any]]
    report: dict[str, Any]


def session_starts(ts_us: np.ndarray, tz: str) -> np.ndarray:
    """Index of the first bar of each exchange-local session date of ``ts_us`` (UTC µs)."""
    if ts_us.size == 0:
        return np.empty(0, np.int64)
    days = (
        pl.Series("ts", ts_us)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(tz)
        .dt.date()
        .to_numpy()
    )
    change = np.flatnonzero(days[1:] != days[:-1]) + 1
    return np.concatenate([[0], change]).astype(np.int64)


def make_windows(ts_us: np.ndarray, tz: str, formation: int, trading: int) -> list[Window]:
    """Rolling windows of ``formation`` then ``trading`` sessions, stepped by ``trading``."""
    starts = session_starts(ts_us, tz)
    n = starts.size
    bounds = np.append(starts, ts_us.size)
    out = []
    for i in range(formation, n, trading):
        j = min(i + trading, n)
        out.append(
            Window((int(bounds[i - formation]), int(bounds[i])), (int(bounds[i]), int(bounds[j])))
        )
    return out


def inputs_of(stacks: SignalStacks, beta_layer: int, z_layer: int) -> BacktestInputs:
    """The engine's inputs for one layer of the stacks (views)."""
    g = stacks.grid
    return BacktestInputs(
        ts=g.ts, pair_ids=list(g.pair_ids), symbols_a=list(g.symbols_a),
        symbols_b=list(g.symbols_b), open_a=stacks.open_a, close_a=stacks.close_a,
        vol_a=stacks.vol_a, open_b=stacks.open_b, close_b=stacks.close_b, vol_b=stacks.vol_b,
        beta=stacks.beta[beta_layer], z=stacks.z[z_layer], spread=stacks.spread[beta_layer],
        tradable=stacks.tradable[beta_layer],
    )  # fmt: skip


def choose(sharpe: np.ndarray, candidates: np.ndarray) -> int | None:
    """Index (into the points) of the best finite Sharpe among ``candidates``; None if none."""
    vals = sharpe[candidates]
    ok = np.isfinite(vals)
    if not ok.any():
        return None
    return int(candidates[int(np.argmax(np.where(ok, vals, -np.inf)))])


def walk_forward(
    points: list[SweepPoint],
    base: BacktestConfig,
    stacks: SignalStacks,
    windows: list[Window],
    window_sharpe: np.ndarray,
    rank_cost_scale: float,
    ppy: float,
    full_sharpe: np.ndarray,
) -> WalkForwardResult:
    """Run the walk-forward (module docstring). ``window_sharpe[w, c]``: Sharpe of point ``c`` on
    the formation bars of window ``w``; ``full_sharpe[c]``: whole-run Sharpe (the in-sample best)."""
    cand = np.array([i for i, p in enumerate(points) if p.cost_scale == rank_cost_scale], np.int64)
    ts = stacks.grid.ts
    parts: list[pl.DataFrame] = []
    rows: list[dict[str, Any]] = []
    level = base.capital
    for w, win in enumerate(windows):
        lo, hi = win.trading
        if hi <= lo:
            continue
        c = choose(window_sharpe[w], cand)
        if c is None:
            eq = np.full(hi - lo, base.capital)
        else:
            bi, zi = stacks.layers(points[c], base.signal_source)
            raw = run_numba(inputs_of(stacks.view(lo, hi), bi, zi), config_for(base, points[c]))
            eq = raw.equity
        stitched = level * (eq / base.capital)
        level = float(stitched[-1])
        parts.append(
            pl.DataFrame(
                {
                    "ts": ts[lo:hi],
                    "equity": stitched,
                    "window": np.full(hi - lo, w),
                    "point": np.full(hi - lo, -1 if c is None else c),
                }
            )  # fmt: skip
        )
        rows.append(
            {
                "window": w,
                "formation_start": _iso(ts[win.formation[0]]),
                "formation_end": _iso(ts[win.formation[1] - 1]),
                "trading_start": _iso(ts[lo]),
                "trading_end": _iso(ts[hi - 1]),
                "point": c,
                "config": None if c is None else points[c].to_dict(),
                "in_sample_sharpe": None if c is None else _num(window_sharpe[w, c]),
                "out_of_sample_sharpe": _num(curve_metrics(eq, ppy)["sharpe_annual"]),
                "out_of_sample_return": _num(eq[-1] / eq[0] - 1.0),
            }
        )
    equity = (
        pl.concat(parts)
        if parts
        else pl.DataFrame(
            schema={"ts": pl.Int64, "equity": pl.Float64, "window": pl.Int64, "point": pl.Int64}
        )  # fmt: skip
    )
    equity = equity.with_columns(pl.col("ts").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
    return WalkForwardResult(equity, rows, _report(points, base, stacks, equity, cand, ppy,
                                                   full_sharpe, windows))  # fmt: skip


def _report(points, base, stacks, equity, cand, ppy, full_sharpe, windows) -> dict[str, Any]:
    """OOS metrics next to the in-sample best (whole run, and over the OOS span)."""
    out: dict[str, Any] = {"n_windows": len(windows), "rank_cost_scale": None}
    best = choose(full_sharpe, cand)
    if equity.height >= 2:
        oos = curve_metrics(equity["equity"].to_numpy(), ppy)
        out["out_of_sample"] = {k: _num(v) for k, v in oos.items()}
        out["out_of_sample"]["start"] = str(equity["ts"][0])
        out["out_of_sample"]["end"] = str(equity["ts"][-1])
    if best is not None:
        eq, _ = sweep_equity([points[best]], base, stacks)
        e = eq[:, 0]
        span = e[windows[0].trading[0] :] if windows else e
        out["in_sample_best"] = {
            "point": best,
            "config": points[best].to_dict(),
            "whole_run": {k: _num(v) for k, v in curve_metrics(e, ppy).items()},
            "over_out_of_sample_span": {k: _num(v) for k, v in curve_metrics(span, ppy).items()},
        }
    out["rank_cost_scale"] = float(points[int(cand[0])].cost_scale) if cand.size else None
    return out


def _num(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _iso(us: int) -> str:
    return str(pl.Series([int(us)]).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")[0])
