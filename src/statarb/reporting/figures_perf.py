"""Performance figures of the tearsheet: underwater with the top drawdowns marked, rolling Sharpe
and volatility, and the distributions of trade returns and holding times (frames in,
``go.Figure`` out; lines decimated by :func:`statarb.reporting.figures.plot_frame`)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from statarb.reporting.figures import MAX_POINTS, _xs, _ys, line_trace, plot_frame

_SHADE = "rgba(214, 39, 40, 0.12)"
MAX_BINS = 60
"""Upper bound on histogram bins (numpy's ``"auto"`` rule below that)."""


def _iso(t: object) -> str:
    return t.isoformat() if hasattr(t, "isoformat") else str(t)  # type: ignore[union-attr]


def mark_drawdowns(
    fig: go.Figure, table: pl.DataFrame, end_ts: object, rows: tuple[int, ...] = (1, 2)
) -> None:
    """Shade each drawdown episode of ``table`` (:func:`~statarb.reporting.analytics.drawdown_table`)
    from its peak to its recovery (``end_ts`` if not recovered) on the given subplot rows, and
    label its trough ``#rank depth``."""
    for r in table.iter_rows(named=True):
        x1 = r["recovery_ts"] if r["recovery_ts"] is not None else end_ts
        for row in rows:
            fig.add_vrect(
                x0=_iso(r["peak_ts"]),
                x1=_iso(x1),
                fillcolor=_SHADE,
                line_width=0,
                layer="below",
                row=row,
                col=1,
            )
        fig.add_annotation(
            x=_iso(r["trough_ts"]),
            y=r["depth"],
            text=f"#{r['rank']} {100 * r['depth']:.2f}%",
            showarrow=True,
            arrowhead=0,
            ay=18,
            font={"size": 10, "color": "#c62828"},
            row=rows[-1],
            col=1,
        )


def rolling_figure(
    roll: pl.DataFrame, window: int, max_points: int = MAX_POINTS, webgl: bool = False
) -> go.Figure:
    """Rolling annualised Sharpe (top) and volatility (bottom) over ``window`` bars
    (:func:`~statarb.reporting.analytics.rolling_sharpe_vol`)."""
    d = plot_frame(roll, "ts", max_points, ["rolling_sharpe", "rolling_vol"])
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=(f"Rolling Sharpe ({window} bars, ann.)", "Rolling volatility (ann.)"),
    )
    x = _xs(d["ts"])
    fig.add_trace(
        line_trace(webgl, x=x, y=_ys(d["rolling_sharpe"]), name="rolling Sharpe", mode="lines"),
        1,
        1,
    )
    fig.add_trace(
        line_trace(
            webgl,
            x=x,
            y=_ys(d["rolling_vol"]),
            name="rolling vol",
            mode="lines",
            line={"color": "#ff7f0e"},
        ),
        2,
        1,
    )
    fig.add_hline(y=0.0, line={"color": "#999", "width": 1}, row=1, col=1)
    fig.update_yaxes(tickformat=".1%", row=2, col=1)
    fig.update_xaxes(type="date")
    fig.update_layout(height=440, margin={"l": 50, "r": 20, "t": 40, "b": 30}, showlegend=False)
    return fig


def histogram_bins(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, edges)`` of finite ``values``: numpy's ``"auto"`` bin rule, at most
    :data:`MAX_BINS` bins (every value counted once: ``counts.sum() == finite count``)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    edges = np.histogram_bin_edges(v, bins="auto")
    if edges.size - 1 > MAX_BINS:
        edges = np.histogram_bin_edges(v, bins=MAX_BINS)
    counts, edges = np.histogram(v, bins=edges)
    return counts, edges


def distribution_figure(dist: pl.DataFrame) -> go.Figure:
    """Histograms of closed round trips: net return in bps (left) and holding time in minutes
    (right) (:func:`~statarb.reporting.analytics.trade_distribution`); dashed line at the mean."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            f"Trade return, bps of entry notional (n={dist.height})",
            "Holding time, minutes",
        ),
    )
    for col, (name, values, color) in enumerate(
        (
            ("return (bps)", dist["ret"].cast(pl.Float64).to_numpy() * 1e4, "#1f77b4"),
            ("holding (min)", dist["holding_minutes"].cast(pl.Float64).to_numpy(), "#9467bd"),
        ),
        start=1,
    ):
        counts, edges = histogram_bins(values)
        if counts.size == 0:
            continue
        mids = (edges[:-1] + edges[1:]) / 2
        fig.add_trace(
            go.Bar(
                x=mids,
                y=counts,
                width=np.diff(edges),
                name=name,
                marker_color=color,
                hovertemplate="%{x:.4g}: %{y} trips<extra></extra>",
            ),
            1,
            col,
        )
        fig.add_vline(
            x=float(np.nanmean(values)), line={"dash": "dash", "color": "#444"}, row=1, col=col
        )
    fig.update_layout(
        height=340, margin={"l": 50, "r": 20, "t": 40, "b": 30}, showlegend=False, bargap=0.02
    )
    return fig
