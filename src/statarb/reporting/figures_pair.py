"""Per-pair diagnostics figure: Kalman hedge-ratio path, OU half-life over time and the selection
funnel's decision over time (q-value of the cointegration test, pass/fail, tradable state).

Inputs: the pair's ``spread_series`` rows (``datetime, beta``: the Kalman beta in force at each
bar), its ``ou_params`` rows (``window_end, theta``; half-life ``ln 2 / theta`` bars) and its
``selection_log`` rows (``test_ts, qvalue, pass_test, tradable``, docs/cointegration.md
"Selection funnel"). Every value is drawn at the time it became known (``window_end`` /
``test_ts``), as step lines that hold until the next one.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from statarb.reporting.analytics import half_life_path
from statarb.reporting.figures import MAX_POINTS, _xs, _ys, line_trace, plot_frame, step_points


def pair_diagnostics_figure(
    pair_id: str,
    spread: pl.DataFrame | None,
    ou: pl.DataFrame | None,
    selection: pl.DataFrame | None,
    max_points: int = MAX_POINTS,
    webgl: bool = False,
) -> go.Figure:
    """Four stacked panels sharing the time axis: hedge ratio beta, half-life (bars), q-value
    (log scale; green = passed the test, red = failed) and the tradable flag (0/1 step)."""
    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.32, 0.24, 0.28, 0.16],
        vertical_spacing=0.05,
        subplot_titles=(
            f"Hedge ratio {pair_id} (Kalman beta)",
            "OU half-life (bars, log scale)",
            "Cointegration q-value (funnel)",
            "Tradable",
        ),
    )
    if spread is not None and spread.height and "beta" in spread.columns:
        b = plot_frame(spread.select("datetime", "beta"), "datetime", max_points, ["beta"])
        fig.add_trace(
            line_trace(
                webgl,
                x=_xs(b["datetime"]),
                y=_ys(b["beta"]),
                name="beta",
                mode="lines",
                line={"color": "#1f77b4"},
            ),
            1,
            1,
        )
    hl = half_life_path(ou)
    if hl.height:
        x, y = step_points(hl["window_end"], hl["half_life_bars"])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name="half-life",
                mode="lines+markers",
                line={"shape": "hv", "color": "#2ca02c"},
                marker={"size": 4},
            ),
            2,
            1,
        )
        fig.update_yaxes(type="log", row=2, col=1)  # one near-unit-root window spans decades
    if selection is not None and selection.height:
        sel = selection.sort("test_ts")
        if "qvalue" in sel.columns:
            for passed, color, label in ((True, "#2ca02c", "passed"), (False, "#d62728", "failed")):
                s = sel.filter(pl.col("pass_test").fill_null(False) == passed)
                if s.height:
                    fig.add_trace(
                        go.Scatter(
                            x=_xs(s["test_ts"]),
                            y=_ys(s["qvalue"]),
                            mode="markers",
                            name=f"test {label}",
                            marker={"color": color, "size": 6},
                        ),
                        3,
                        1,
                    )
            fig.update_yaxes(type="log", row=3, col=1)
        x, y = step_points(sel["test_ts"], sel["tradable"].cast(pl.Float64))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name="tradable",
                mode="lines",
                fill="tozeroy",
                line={"shape": "hv", "color": "#8c564b"},
            ),
            4,
            1,
        )
        fig.update_yaxes(range=[-0.05, 1.05], tickvals=[0, 1], row=4, col=1)
    fig.update_xaxes(type="date")
    fig.update_layout(height=600, margin={"l": 50, "r": 20, "t": 40, "b": 30}, showlegend=False)
    return fig
