"""Figures of the optional research sections: sweep heatmap (entry x exit Sharpe), in-sample vs
out-of-sample equity and cost sensitivity (frames of :mod:`statarb.reporting.research_frames`)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from statarb.reporting.figures import MAX_POINTS, _xs, _ys, line_trace, plot_frame
from statarb.reporting.research_frames import sweep_cells

_SAMPLE_STYLE = {
    "in_sample": ("in-sample best", "#7f7f7f", "dash"),
    "out_of_sample": ("out-of-sample (stitched)", "#1f77b4", "solid"),
}


def sweep_heatmap_figure(grid: pl.DataFrame) -> go.Figure:
    """Heatmap of the best annualised Sharpe per ``(entry_z, exit_z)`` cell
    (:func:`~statarb.reporting.research_frames.sweep_cells`); empty cells are blank."""
    cells = sweep_cells(grid)
    entries = sorted(cells["entry_z"].unique().to_list())
    exits = sorted(cells["exit_z"].unique().to_list())
    z = np.full((len(entries), len(exits)), np.nan)
    n = np.zeros_like(z)
    ei = {v: i for i, v in enumerate(entries)}
    xi = {v: j for j, v in enumerate(exits)}
    for e, x, s, k in cells.iter_rows():
        z[ei[e], xi[x]] = np.nan if s is None else s
        n[ei[e], xi[x]] = k
    text = [[("" if np.isnan(v) else f"{v:.2f}") for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            x=[str(v) for v in exits],
            y=[str(v) for v in entries],
            z=z,
            text=text,
            texttemplate="%{text}",
            customdata=n,
            colorscale="RdBu",
            zmid=0.0,
            colorbar={"title": "Sharpe"},
            hovertemplate="entry %{y}, exit %{x}: Sharpe %{z:.3f} (best of %{customdata} "
            "configs)<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Sweep: best annualised Sharpe per entry x exit z ({grid.height} configurations)",
        xaxis_title="exit_z",
        yaxis_title="entry_z",
        height=420,
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
    )
    return fig


def walk_forward_figure(
    wf: pl.DataFrame, max_points: int = MAX_POINTS, webgl: bool = False
) -> go.Figure:
    """In-sample best vs stitched out-of-sample equity, each rebased to 1.0 at its first mark;
    dotted vertical lines at the start of each out-of-sample ``fold`` when given."""
    fig = go.Figure()
    for sample, (label, color, dash) in _SAMPLE_STYLE.items():
        d = wf.filter(pl.col("sample") == sample).sort("ts")
        if d.height == 0:
            continue
        base = float(d["equity"][0])
        d = plot_frame(d.select("ts", "equity"), "ts", max_points, ["equity"])
        fig.add_trace(
            line_trace(
                webgl,
                x=_xs(d["ts"]),
                y=_ys(d["equity"] / base),
                name=label,
                mode="lines",
                line={"color": color, "dash": dash},
            )
        )
    if "fold" in wf.columns:
        starts = (
            wf.filter(pl.col("sample") == "out_of_sample")
            .group_by("fold")
            .agg(pl.col("ts").min())
            .sort("ts")
        )
        for t in starts["ts"].to_list()[1:]:
            fig.add_vline(x=t.isoformat(), line={"dash": "dot", "color": "#bbb", "width": 1})
    fig.update_xaxes(type="date")
    fig.update_layout(
        title="In-sample best vs out-of-sample equity (rebased to 1.0)",
        height=400,
        margin={"l": 50, "r": 20, "t": 40, "b": 30},
    )
    return fig


def cost_sensitivity_figure(cs: pl.DataFrame) -> go.Figure:
    """Net annualised Sharpe (left) and net PnL (right) against the cost multiplier."""
    d = cs.sort("cost_scale")
    x = [f"x{v:g}" for v in d["cost_scale"].to_list()]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Net Sharpe (ann.)", "Net PnL"))
    fig.add_trace(
        go.Bar(x=x, y=_ys(d["sharpe_annual"]), name="Sharpe", marker_color="#1f77b4"), 1, 1
    )
    pnl = _ys(d["net_pnl"])
    colors = ["#2ca02c" if v >= 0 else "#d62728" for v in np.nan_to_num(pnl)]
    fig.add_trace(go.Bar(x=x, y=pnl, name="net PnL", marker_color=colors), 1, 2)
    fig.update_xaxes(title_text="fees and slippage x")
    fig.update_layout(height=320, margin={"l": 50, "r": 20, "t": 40, "b": 40}, showlegend=False)
    return fig
