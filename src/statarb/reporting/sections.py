"""Template context of the tearsheet's analysis sections (performance, trades, research).

Each builder adds its figures to the page's :class:`~statarb.reporting.tearsheet.PlotBlock`
(through ``add``) and returns the values the template shows; a research section whose input is
missing returns ``None`` and the template omits it (docs/reporting.md "Optional sections").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import plotly.graph_objects as go
import polars as pl

from statarb.reporting import analytics, figures_perf, figures_research, research_frames

AddFigure = Callable[[go.Figure], str]


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def performance(
    add: AddFigure,
    equity: pl.DataFrame,
    equity_fig: go.Figure,
    periods: float,
    rolling_window: int,
    top_drawdowns: int,
    risk_free: float = 0.0,
    max_points: int = 4_000,
    webgl: bool = False,
) -> dict[str, Any]:
    """Equity + underwater figure with the ``top_drawdowns`` episodes shaded, the drawdown
    table, and the rolling Sharpe / volatility figure over ``rolling_window`` bars."""
    eq = equity.sort("ts")
    table = analytics.drawdown_table(eq, top_drawdowns)
    figures_perf.mark_drawdowns(equity_fig, table, eq["ts"][-1])
    fig_equity = add(equity_fig)
    roll = analytics.rolling_sharpe_vol(eq, rolling_window, periods, risk_free)
    fig_rolling = None
    if roll["rolling_vol"].drop_nulls().len():
        fig_rolling = add(figures_perf.rolling_figure(roll, rolling_window, max_points, webgl))
    return {
        "fig_equity": fig_equity,
        "drawdowns": [{k: _clean(v) for k, v in r.items()} for r in table.iter_rows(named=True)],
        "top_drawdowns": top_drawdowns,
        "fig_rolling": fig_rolling,
        "rolling_window": rolling_window,
    }


def trade_section(add: AddFigure, trips: pl.DataFrame | None) -> dict[str, Any] | None:
    """Distribution of closed round trips' returns and holding times (``None``: no closed trip)."""
    dist = analytics.trade_distribution(trips)
    if dist.height == 0:
        return None
    ret, hold = dist["ret"].drop_nulls(), dist["holding_minutes"]
    return {
        "fig": add(figures_perf.distribution_figure(dist)),
        "n": dist.height,
        "mean_ret": _clean(ret.mean()) if ret.len() else None,
        "median_ret": _clean(ret.median()) if ret.len() else None,
        "mean_hold": _clean(hold.mean()),
        "median_hold": _clean(hold.median()),
    }


def research(
    add: AddFigure,
    run_id: str,
    frames: Mapping[str, pl.DataFrame | None] | None,
    full: Mapping[str, Any],
    max_points: int = 4_000,
    webgl: bool = False,
) -> dict[str, Any]:
    """Optional sections: ``sweep`` heatmap, ``walk_forward`` equity, ``cost`` sensitivity (figure
    + rows) and ``trial_stats`` table rows; each is ``None``/empty when its input is absent.

    ``trial_stats`` comes from ``frames["trial_stats"]`` (first row of the run) or else from
    ``metrics_json.trial_stats``."""
    frames = frames or {}
    out: dict[str, Any] = {"sweep": None, "walk_forward": None, "cost": None}
    grid = research_frames.select_frame("sweep_grid", frames.get("sweep_grid"), run_id)
    if grid is not None:
        out["sweep"] = {
            "fig": add(figures_research.sweep_heatmap_figure(grid)),
            "n_configs": grid.height,
        }
    wf = research_frames.select_frame("walk_forward", frames.get("walk_forward"), run_id)
    if wf is not None:
        out["walk_forward"] = {
            "fig": add(figures_research.walk_forward_figure(wf, max_points, webgl)),
            "rows": _wf_summary(wf),
        }
    cs = research_frames.select_frame("cost_sensitivity", frames.get("cost_sensitivity"), run_id)
    if cs is not None:
        cs = cs.sort("cost_scale")
        out["cost"] = {
            "fig": add(figures_research.cost_sensitivity_figure(cs)),
            "rows": [
                {k: _clean(v) for k, v in r.items()}
                for r in cs.select("cost_scale", "sharpe_annual", "net_pnl").iter_rows(named=True)
            ],
        }
    stats: Mapping[str, Any] | None = full.get("trial_stats")
    ts_frame = frames.get("trial_stats")
    if ts_frame is not None and ts_frame.height and "run_id" in ts_frame.columns:
        mine = ts_frame.filter(pl.col("run_id") == run_id)
        if mine.height:  # the frame's flat keys win; the run's nested block fills the rest
            flat = research_frames.flat_trial_stats(stats)
            stats = {**flat, **{k: v for k, v in mine.row(0, named=True).items() if v is not None}}
    out["trial_stats"] = research_frames.trial_stats_rows(stats)
    return out


def _wf_summary(wf: pl.DataFrame) -> list[dict[str, Any]]:
    """Total return of each curve (last / first equity - 1) for the table under the figure."""
    rows = []
    for sample in research_frames.WALK_FORWARD_SAMPLES:
        d = wf.filter(pl.col("sample") == sample).sort("ts")
        if d.height:
            rows.append(
                {
                    "sample": sample.replace("_", "-"),
                    "start": d["ts"][0],
                    "end": d["ts"][-1],
                    "total_return": float(d["equity"][-1] / d["equity"][0] - 1.0),
                }
            )
    return rows
